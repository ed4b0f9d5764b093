"""/analytics, bring your own model and data: upload, session-scoped datasets, export (callbacks only).

Uploaded files go to ``byo.uploads_dir(session)``; preparation runs the CLI in a fresh
process from a background callback (TensorFlow never runs in a forked job). A session's
upload ids live in its own ``dcc.Store(storage_type="session")``, so no other session
ever lists them.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
import zipfile
from pathlib import Path

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from components import progress
from model import byo
from pages.analytics import _datasets, _prepare
from serving import settings

REFUSED = "Uploads are switched off on this read-only demo server: run RNN Explorer yourself to analyse your own model."
RECURRENT = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn"}
UPLOAD_SLOTS = {
    "analytics-upload-model": "model",
    "analytics-upload-csv": "csv",
    "analytics-upload-vocab": "vocab",
}


def _alert(message: object, color: str = "danger", title: str | None = None) -> dbc.Alert:
    body = [html.B(title + " "), message] if title else [message]
    return dbc.Alert(body, color=color, dismissable=True, className="py-2 mb-0", id="analytics-byo-message")


def _safe_name(filename: str | None, default: str) -> str:
    """A file name without folders or odd characters (never a path the user chose)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or default).name).lstrip(".")
    return name[:80] or default


def _decode_upload(contents: str) -> bytes:
    """The bytes of a dcc.Upload data URL."""
    _header, _, payload = contents.partition(",")
    return base64.b64decode(payload)


def recurrent_layer_names(path: Path) -> list[str]:
    """Names of the recurrent layers in a .keras file's config (read without TensorFlow); [] if unknown."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    names = []
    for layer in config.get("config", {}).get("layers", []):
        inner = (
            layer.get("config", {}).get("layer", layer)
            if layer.get("class_name") == "Bidirectional"
            else layer
        )
        if inner.get("class_name") in RECURRENT:
            names.append(str(layer.get("config", {}).get("name", "")))
    return [n for n in names if n]


def dataset_options(uploads: list[dict] | None) -> list[dict]:
    """The built-in datasets and this session's uploads."""
    options = [{"label": v.get("label", k), "value": k} for k, v in _datasets().items()]
    for item in uploads or []:
        options.append({"label": f"Yours: {item['label']}", "value": item["id"]})
    return options


# ---------------------------------------------------------------- session and dataset list


@callback(
    Output("analytics-session", "data"),
    Input("analytics-session", "modified_timestamp"),
    State("analytics-session", "data"),
)
def ensure_session(_ts: int | None, session: str | None):
    """A random id for this browser session (its uploads folder and nothing else)."""
    return no_update if session else uuid.uuid4().hex


@callback(
    Output("analytics-dataset", "options"),
    Output("analytics-dataset", "value", allow_duplicate=True),
    Input("analytics-uploads", "data"),
    State("analytics-requested-upload", "data"),
    prevent_initial_call="initial_duplicate",
)
def list_datasets(uploads: list[dict] | None, requested: str | None):
    """The dataset list; an upload named in the URL is selected if this session owns it."""
    owned = {item.get("id") for item in uploads or []}
    return dataset_options(uploads), requested if requested in owned else no_update


@callback(
    Output("analytics-byo-collapse", "is_open"),
    Input("analytics-byo-toggle", "n_clicks"),
    State("analytics-byo-collapse", "is_open"),
    prevent_initial_call=True,
)
def toggle_panel(_clicks: int, is_open: bool) -> bool:
    return not is_open


# ---------------------------------------------------------------- receiving files


def _receive(slot: str, contents: str, filename: str | None, session: str) -> tuple[dict, dict]:
    """Check and keep one uploaded file; (file entry, extra facts for the panel). InputError if bad."""
    data = _decode_upload(contents)
    what = {"model": "model file", "csv": "CSV file", "vocab": "vocabulary file"}[slot]
    byo.check_size(len(data), what)
    default = {"model": "model.keras", "csv": "data.csv", "vocab": "vocabulary.txt"}[slot]
    folder = byo.uploads_dir(session) / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slot}-{_safe_name(filename, default)}"
    facts: dict = {}
    if slot == "csv":
        parsed = byo.read_csv(data)  # encoding, empty file, header without rows, guessed columns
        import io

        import pandas as pd

        columns = [str(c) for c in pd.read_csv(io.BytesIO(data), nrows=0, encoding="utf-8-sig").columns]
        facts = {
            "columns": columns,
            "text": parsed.text_column,
            "label": parsed.label_column,
            "classes": parsed.class_names,
            "rows": len(parsed.texts),
        }
    path.write_bytes(data)
    if slot == "model":
        if not zipfile.is_zipfile(path):
            path.unlink(missing_ok=True)
            raise byo.InputError(
                "This is not a readable Keras model file: a .keras file is a zip archive saved by "
                "model.save('name.keras')."
            )
        facts = {"layers": recurrent_layer_names(path)}
    if slot == "vocab":
        facts = {"size": len(byo.read_vocabulary(path))}
    return {"path": str(path), "name": _safe_name(filename, default), "size": len(data)}, facts


@callback(
    Output("analytics-byo-files", "data"),
    Output("analytics-upload-model-name", "children"),
    Output("analytics-upload-csv-name", "children"),
    Output("analytics-upload-vocab-name", "children"),
    Output("analytics-text-column", "options"),
    Output("analytics-text-column", "value"),
    Output("analytics-label-column", "options"),
    Output("analytics-label-column", "value"),
    Output("analytics-layer", "options"),
    Output("analytics-layer-wrap", "style"),
    Output("analytics-byo-run", "disabled"),
    Output("analytics-byo-alert", "children"),
    Input("analytics-upload-model", "contents"),
    Input("analytics-upload-csv", "contents"),
    Input("analytics-upload-vocab", "contents"),
    State("analytics-upload-model", "filename"),
    State("analytics-upload-csv", "filename"),
    State("analytics-upload-vocab", "filename"),
    State("analytics-session", "data"),
    State("analytics-byo-files", "data"),
    prevent_initial_call=True,
)
def receive_upload(model_c, csv_c, vocab_c, model_f, csv_f, vocab_f, session, files):
    """Keep a dropped file in the session's folder; fill the column and layer choices; or say what is wrong."""
    out = [no_update] * 12
    slot = UPLOAD_SLOTS.get(ctx.triggered_id)
    contents = {"model": model_c, "csv": csv_c, "vocab": vocab_c}.get(slot)
    filename = {"model": model_f, "csv": csv_f, "vocab": vocab_f}.get(slot)
    if slot is None or not contents:
        return out
    if not settings.uploads_allowed():
        out[11] = _alert(REFUSED, "warning", "Refused.")
        return out
    files = dict(files or {})
    name_index = {"model": 1, "csv": 2, "vocab": 3}[slot]
    try:
        entry, facts = _receive(slot, contents, filename, session or "anonymous")
    except byo.InputError as error:
        files.pop(slot, None)
        out[0], out[name_index] = files, html.Span(f"✗ {filename}", className="text-danger")
        out[10] = not ("model" in files and "csv" in files)
        out[11] = _alert(str(error), title=f"{filename}:")
        return out
    except (ValueError, UnicodeDecodeError) as error:  # a malformed data URL or CSV the parser chokes on
        out[11] = _alert(f"This file could not be read ({error}).", title=f"{filename}:")
        return out
    files[slot] = entry
    out[0] = files
    detail = {
        "model": lambda: f"{len(facts.get('layers', []))} recurrent layer(s)" if facts.get("layers") else "",
        "csv": lambda: f"{facts['rows']:,} rows · classes {', '.join(facts['classes'][:6])}",
        "vocab": lambda: f"{facts['size']:,} tokens",
    }[slot]()
    out[name_index] = html.Span(
        [html.I(className="bi bi-check-circle-fill text-success me-1"), entry["name"], html.Br(), detail]
    )
    if slot == "csv":
        options = [{"label": c, "value": c} for c in facts["columns"]]
        out[4], out[5], out[6], out[7] = options, facts["text"], options, facts["label"]
    if slot == "model":
        layers = facts.get("layers", [])
        out[8] = [{"label": n, "value": n} for n in layers]
        out[9] = {} if len(layers) > 1 else {"display": "none"}
    out[10] = not ("model" in files and "csv" in files)
    out[11] = None
    return out


# ---------------------------------------------------------------- preparing an upload


def upload_args(
    files: dict, text_column, label_column, class_names: str | None, layer, session: str | None = None
) -> list[str]:
    """The CLI arguments that prepare this session's files (kept in this session's folder)."""
    args = ["--model", files["model"]["path"], "--csv", files["csv"]["path"]]
    if session:
        args += ["--session", str(session)]
    if text_column:
        args += ["--text-column", str(text_column)]
    if label_column:
        args += ["--label-column", str(label_column)]
    if files.get("vocab"):
        args += ["--vocab", files["vocab"]["path"]]
    names = [n.strip() for n in (class_names or "").split(",") if n.strip()]
    if names:
        args += ["--classes", ",".join(names)]
    if layer:
        args += ["--layer", str(layer)]
    return args


@callback(
    Output("analytics-uploads", "data"),
    Output("analytics-dataset", "options", allow_duplicate=True),
    Output("analytics-dataset", "value", allow_duplicate=True),
    Output("analytics-byo-alert", "children", allow_duplicate=True),
    Input("analytics-byo-run", "n_clicks"),
    State("analytics-byo-files", "data"),
    State("analytics-text-column", "value"),
    State("analytics-label-column", "value"),
    State("analytics-class-names", "value"),
    State("analytics-layer", "value"),
    State("analytics-projection-method", "value"),
    State("analytics-uploads", "data"),
    State("analytics-session", "data"),
    background=True,
    running=[
        (Output("analytics-byo-run", "disabled"), True, False),
        (
            Output("analytics-byo-progress-wrap", "style"),
            progress.shown(300),
            progress.HIDDEN,
        ),
    ],
    progress=[Output("analytics-byo-progress", "value"), Output("analytics-byo-progress", "label")],
    prevent_initial_call=True,
)
def analyse_upload(
    set_progress, _clicks, files, text_col, label_col, class_names, layer, method, uploads, session=None
):
    """Prepare the session's model and CSV in a fresh process; then select it in the dataset list."""
    if not settings.uploads_allowed():
        return no_update, no_update, no_update, _alert(REFUSED, "warning", "Refused.")
    files = files or {}
    if not files.get("model") or not files.get("csv"):
        return no_update, no_update, no_update, _alert("Drop a .keras model and a CSV first.", "warning")
    prepare = _prepare()
    if prepare is None or not hasattr(prepare, "prepare_upload"):
        return no_update, no_update, no_update, _alert("The data pipeline is not installed.", "warning")

    def on_progress(fraction: float, stage: str) -> None:

        set_progress(progress.progress_value(fraction, stage))

    set_progress((1, "starting…"))
    args = upload_args(files, text_col, label_col, class_names, layer, session)
    start = time.perf_counter()
    try:
        summary = prepare.run_prepare_subprocess(
            "upload", method or "pca", None, on_progress, upload_args=args
        )
    except prepare.PrepareError as error:
        return no_update, no_update, no_update, _alert(str(error), title="Your model or data was refused:")
    except Exception as error:  # noqa: BLE001 - a readable message instead of a dead callback
        return no_update, no_update, no_update, _alert(f"Preparation failed unexpectedly: {error}")
    upload_id = summary["dataset"]
    label = f"{files['model']['name']} on {files['csv']['name']}"
    uploads = [u for u in (uploads or []) if u.get("id") != upload_id] + [{"id": upload_id, "label": label}]
    accuracy = summary.get("test_accuracy")
    done = _alert(
        f"{summary.get('n_sequences', '?'):,} texts, {summary.get('n_hidden_states', '?'):,} hidden states of "
        f"your {str(summary.get('cell_type', '?')).upper()} analysed in {time.perf_counter() - start:.0f} s"
        + (f"; accuracy on your CSV {accuracy:.1%}." if isinstance(accuracy, int | float) else "."),
        "success",
        "Ready.",
    )
    return uploads, dataset_options(uploads), upload_id, done


# ---------------------------------------------------------------- export


@callback(
    Output("analytics-download", "data"),
    Input("analytics-export-states", "n_clicks"),
    Input("analytics-export-sequences", "n_clicks"),
    Input("analytics-export-tensorboard", "n_clicks"),
    State("analytics-dataset", "value"),
    State("analytics-projection-method", "value"),
    prevent_initial_call=True,
)
def export_data(_states, _sequences, _tensorboard, dataset: str, method: str):
    """The current analysis as CSV or TensorBoard projector files."""
    from model import export

    prepare = _prepare()
    analysis = prepare.load_analysis(dataset) if prepare else None
    if analysis is None:
        return no_update
    stem = f"rnnx-{dataset.replace('@', '-')}"
    load_states = getattr(prepare, "load_states", None)
    states = load_states(dataset) if load_states else None
    hidden = states["hidden"] if states else None
    if ctx.triggered_id == "analytics-export-sequences":
        return dcc.send_bytes(export.sequences_csv(analysis), f"{stem}-sequences.csv")
    if ctx.triggered_id == "analytics-export-tensorboard":
        if hidden is None:
            return no_update
        return dcc.send_bytes(export.tensorboard_projector(analysis, hidden), f"{stem}-projector.zip")
    points = prepare.load_projection(dataset, method)
    return dcc.send_bytes(export.states_csv(analysis, points, hidden), f"{stem}-{method}-states.csv")


clientside_callback(
    """function (png, svg, all) {
        return window.dash_clientside.analytics.exportFigures(png, svg, all);
    }""",
    Output("analytics-figure-export", "data"),
    Input("analytics-export-png", "n_clicks"),
    Input("analytics-export-svg", "n_clicks"),
    Input("analytics-export-all-svg", "n_clicks"),
    prevent_initial_call=True,
)

# While a dropped file is still being read on the server, Analyse would use the previous one.
clientside_callback(
    """function () { return true; }""",
    Output("analytics-byo-run", "disabled", allow_duplicate=True),
    Input("analytics-upload-model", "contents"),
    Input("analytics-upload-csv", "contents"),
    Input("analytics-upload-vocab", "contents"),
    prevent_initial_call=True,
)
