"""The /analytics bring-your-own card: upload, session-scoped datasets, figure export (callbacks only).

The browser holds handles, never paths: a dropped file is posted by ``assets/uploads.js`` to the
upload route (``serving.upload_route``), kept by ``services.uploads`` in the folder of the session
named by the signed cookie, and the route's reply (its id and display name) is handed to the
``analytics-upload-reply`` store; ``show_upload`` then fills the panel from the server's record.
Analyse prepares the session's own staged files in a fresh process (TensorFlow never runs in a
forked job); the prepared upload is recorded for that session alone, so another session's id,
sent in a request, a URL or an export, is refused.
"""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    html,
    no_update,
)

from components import analytics_overview as overview
from components import progress
from components.ids import analytics as ids
from services import analysis as analysis_service
from services import identity, schemas, uploads
from services.validation import InvalidInput, validated
from serving import settings

REFUSED = "Uploads are switched off on this read-only demo server: run RNN Explorer yourself to analyse your own model."


def _alert(message: object, color: str = "danger", title: str | None = None) -> dbc.Alert:
    body = [html.B(title + " "), message] if title else [message]
    return dbc.Alert(body, color=color, dismissable=True, className="py-2 mb-0", id=ids.ANALYTICS_BYO_MESSAGE)


def dataset_options(owned: list[dict]) -> list[dict]:
    """The built-in datasets and this session's prepared uploads."""
    options = analysis_service.dataset_choices()
    return options + [{"label": f"Yours: {item['label']}", "value": item["id"]} for item in owned]


def _byo_refuse(message: str) -> object:
    from dash import set_props

    set_props(ids.ANALYTICS_BYO_ALERT, {"children": _alert(message, "warning", "Refused.")})
    return no_update


# ---------------------------------------------------------------- dataset list


@callback(
    output=dict(
        options=Output(ids.ANALYTICS_DATASET, "options"),
        value=Output(ids.ANALYTICS_DATASET, "value", allow_duplicate=True),
    ),
    inputs=dict(changed=Input(ids.ANALYTICS_UPLOADS, "data")),
    state=dict(requested=State(ids.ANALYTICS_REQUESTED_UPLOAD, "data")),
    prevent_initial_call="initial_duplicate",
)
def list_datasets(changed: object, requested: object) -> dict:
    """The dataset list from the server's record of this session; a URL's upload only if it is owned.

    One of this session's that expired is selected too: the page's cards then say it expired."""
    owned = uploads.owned_datasets()
    ids = {item["id"] for item in owned}
    shown = isinstance(requested, str) and (requested in ids or uploads.expired(requested))
    return {"options": dataset_options(owned), "value": requested if shown else no_update}


def link_notice(requested: str | None, shown_label: str) -> dbc.Alert | None:
    """What the page says when a link names an upload this session cannot open (None: nothing to say).

    An upload belongs to the session that analysed it; a link opened in another browser (or after the
    upload was removed) shows ``shown_label`` instead, and says so where the page starts. One of this
    session's that expired is left to ``list_datasets`` (selected, and its cards say it expired)."""
    if not requested:
        return None
    if uploads.owns(requested) or uploads.expired(requested):
        return None
    return dbc.Alert(
        [
            html.B("This link's model is not available here. "),
            "It names an upload (",
            html.Code(requested),
            ") that belongs to another browser session or has expired: uploads are private to the "
            f"session that analysed them. Showing {shown_label} instead; to explore that model here, "
            "bring your own model with the panel above.",
        ],
        color="warning",
        dismissable=True,
        id=ids.ANALYTICS_LINK_NOTICE,
        className="py-2",
    )


@callback(
    Output(ids.ANALYTICS_BYO_COLLAPSE, "is_open"),
    Input(ids.ANALYTICS_BYO_TOGGLE, "n_clicks"),
    State(ids.ANALYTICS_BYO_COLLAPSE, "is_open"),
    prevent_initial_call=True,
)
def toggle_panel(_clicks: int, is_open: bool) -> bool:
    return not is_open


# ---------------------------------------------------------------- receiving files


NAME_OUTPUT = {slot: f"{slot}_name" for slot in ("model", "csv", "vocab")}
ANOTHER = "This upload belongs to another session or has expired: drop the file again."


@callback(
    output=dict(
        files=Output(ids.ANALYTICS_BYO_FILES, "data"),
        model_name=Output(ids.ANALYTICS_UPLOAD_MODEL_NAME, "children"),
        csv_name=Output(ids.ANALYTICS_UPLOAD_CSV_NAME, "children"),
        vocab_name=Output(ids.ANALYTICS_UPLOAD_VOCAB_NAME, "children"),
        text_options=Output(ids.ANALYTICS_TEXT_COLUMN, "options"),
        text_value=Output(ids.ANALYTICS_TEXT_COLUMN, "value"),
        label_options=Output(ids.ANALYTICS_LABEL_COLUMN, "options"),
        label_value=Output(ids.ANALYTICS_LABEL_COLUMN, "value"),
        layer_options=Output(ids.ANALYTICS_LAYER, "options"),
        layer_style=Output(ids.ANALYTICS_LAYER_WRAP, "style"),
        run_disabled=Output(ids.ANALYTICS_BYO_RUN, "disabled"),
        alert=Output(ids.ANALYTICS_BYO_ALERT, "children"),
    ),
    inputs=dict(reply=Input(ids.ANALYTICS_UPLOAD_REPLY, "data")),
    prevent_initial_call=True,
)
@validated(schemas.UPLOAD_REPLY, _byo_refuse)
def show_upload(reply: dict | None) -> dict:
    """Fill the panel after the upload route answered: names, columns, layers from the server's record.

    ``reply`` (the route's answer, relayed by the browser) names only the slot, the id it was
    given, or the route's message; what the panel shows of a kept file comes from the record."""
    out = {key: no_update for key in receive_upload_keys()}
    if reply is None:
        return out
    if not settings.uploads_allowed():
        return {**out, "alert": _alert(REFUSED, "warning", "Refused.")}
    slot = reply["slot"]
    shown = uploads.safe_name(reply.get("name"), slot)
    try:
        state, staged = _panel_state(), uploads.staged_files().get(slot)
    except (InvalidInput, identity.SessionError) as error:
        return {**out, "alert": _alert(str(error), "warning")}
    out.update(state)
    if reply.get("error") or staged is None or staged.id != reply.get("id"):
        message = reply.get("error") or ANOTHER
        return {**out, NAME_OUTPUT[slot]: _failed(shown), "alert": _alert(message, title=f"{shown}:")}
    facts = staged.facts
    out[NAME_OUTPUT[slot]] = html.Span(
        [
            html.I(className="bi bi-check-circle-fill text-success me-1"),
            staged.name,
            html.Br(),
            facts.get("detail", ""),
        ]
    )
    out["alert"] = None
    if slot == "csv":
        options = [{"label": c, "value": c} for c in facts.get("columns", [])]
        out.update(
            text_options=options,
            text_value=facts.get("text"),
            label_options=options,
            label_value=facts.get("label"),
        )
        if facts.get("note"):
            out["alert"] = _alert(f"{facts['note']} Choose the text and label columns below.", "info")
    if slot == "model":
        layers = facts.get("layers", [])
        out.update(
            layer_options=[{"label": n, "value": n} for n in layers],
            layer_style={} if len(layers) > 1 else {"display": "none"},
        )
    return out


def receive_upload_keys() -> tuple[str, ...]:
    return (
        "files", "model_name", "csv_name", "vocab_name", "text_options", "text_value",
        "label_options", "label_value", "layer_options", "layer_style", "run_disabled", "alert",
    )  # fmt: skip


def _failed(name: str) -> html.Span:
    return html.Span(f"✗ {name}", className="text-danger")


def _panel_state() -> dict:
    """The handles of this session's staged files (ids and names only) and whether Analyse may run."""
    staged = uploads.staged_files()
    files = {slot: {"id": f.id, "name": f.name, "size": f.size} for slot, f in staged.items()}
    return {"files": files, "run_disabled": not ("model" in staged and "csv" in staged)}


# While a file is on its way to the upload route: its progress on its zone's line, Analyse off
# (it would use the slot's previous file); show_upload fills both when the route has answered.
clientside_callback(
    ClientsideFunction("rnnx", "uploadsProgress"),
    output=[
        Output(ids.ANALYTICS_UPLOAD_MODEL_NAME, "children", allow_duplicate=True),
        Output(ids.ANALYTICS_UPLOAD_CSV_NAME, "children", allow_duplicate=True),
        Output(ids.ANALYTICS_UPLOAD_VOCAB_NAME, "children", allow_duplicate=True),
        Output(ids.ANALYTICS_BYO_RUN, "disabled", allow_duplicate=True),
    ],
    inputs=[Input(ids.ANALYTICS_UPLOAD_PROGRESS, "data")],
    prevent_initial_call=True,
)


# ---------------------------------------------------------------- preparing an upload


def prepare_args(text_column, label_column, class_names: str | None, layer) -> list[str]:
    """The CLI arguments that prepare this session's staged files (paths resolved on the server)."""
    staged = uploads.staged_files()
    if "model" not in staged or "csv" not in staged:
        raise InvalidInput("Drop a model (.keras or .onnx) and a CSV first.")
    args = [
        "--model",
        str(uploads.path_of(staged["model"].id)),
        "--csv",
        str(uploads.path_of(staged["csv"].id)),
    ]
    args += ["--session", identity.current_session()]
    if "vocab" in staged:
        args += ["--vocab", str(uploads.path_of(staged["vocab"].id))]
    if text_column:
        args += ["--text-column", text_column]
    if label_column:
        args += ["--label-column", label_column]
    names = [n.strip() for n in (class_names or "").split(",") if n.strip()]
    if names:
        args += ["--classes", ",".join(names)]
    if layer:
        args += ["--layer", layer]
    return args


@callback(
    output=dict(  # the job's own reply lists the datasets: no second read of the record it just wrote
        options=Output(ids.ANALYTICS_DATASET, "options", allow_duplicate=True),
        value=Output(ids.ANALYTICS_DATASET, "value", allow_duplicate=True),
        alert=Output(ids.ANALYTICS_BYO_ALERT, "children", allow_duplicate=True),
    ),
    inputs=dict(_clicks=Input(ids.ANALYTICS_BYO_RUN, "n_clicks")),
    state=dict(
        text_col=State(ids.ANALYTICS_TEXT_COLUMN, "value"),
        label_col=State(ids.ANALYTICS_LABEL_COLUMN, "value"),
        class_names=State(ids.ANALYTICS_CLASS_NAMES, "value"),
        layer=State(ids.ANALYTICS_LAYER, "value"),
        method=State(ids.ANALYTICS_PROJECTION_METHOD, "value"),
    ),
    **progress.job(ids.ANALYTICS_BYO_RUN, ids.ANALYTICS_BYO_PROGRESS, 300),
    prevent_initial_call=True,
)
@validated(schemas.ANALYSE_UPLOAD, _byo_refuse)
def analyse_upload(set_progress, _clicks, text_col, label_col, class_names, layer, method) -> dict:
    """Prepare this session's staged model and CSV in a fresh process; then select the result."""
    nothing = {"options": no_update, "value": no_update}
    if not settings.uploads_allowed():
        return {**nothing, "alert": _alert(REFUSED, "warning", "Refused.")}
    try:
        args = prepare_args(text_col, label_col, class_names, layer)
        staged = uploads.staged_files()
        uploads.ensure_results_room()  # refused at once when the results' space is full of others' in use
    except (InvalidInput, identity.SessionError) as error:
        return {**nothing, "alert": _alert(str(error), "warning")}
    set_progress((1, "starting…"))
    start = time.perf_counter()
    try:
        summary = analysis_service.run_preparation(
            "upload", method, lambda f, s: set_progress(progress.progress_value(f, s)), upload_args=args
        )
    except analysis_service.prepare_error() as error:
        return {
            **nothing,
            "alert": _alert(uploads.public_message(str(error)), title="Your model or data was refused:"),
        }
    except Exception as error:  # noqa: BLE001 - a readable message instead of a dead callback
        return {**nothing, "alert": _alert(f"Preparation failed unexpectedly: {type(error).__name__}.")}
    upload_id = str(summary["dataset"])
    try:
        owned = uploads.register_dataset(upload_id, f"{staged['model'].name} on {staged['csv'].name}")
    except InvalidInput as error:  # no room for its results without taking another session's
        return {**nothing, "alert": _alert(str(error), "warning", "Not kept:")}
    return {
        "options": dataset_options(owned),
        "value": upload_id,
        "alert": _alert(_done_message(summary, time.perf_counter() - start), "success", "Ready."),
    }


def _done_message(summary: dict, seconds: float) -> str:
    accuracy = summary.get("test_accuracy")  # on every labelled row uploaded (see upload_accuracy_note)
    missing = summary.get("rows_without_label")
    rows = int(summary.get("n_sequences", 0) or 0)
    measured = (
        f"; {overview.upload_accuracy_label(rows)} {accuracy:.1%}"
        if isinstance(accuracy, int | float)
        else ""
    )
    text = (
        f"{rows:,} texts, {summary.get('n_hidden_states', 0):,} hidden states of "
        f"your {str(summary.get('cell_type', '?')).upper()} analysed in {seconds:.0f} s{measured}"
        + (" (not a held-out test unless these rows were held out of its training)." if measured else ".")
    )
    if isinstance(missing, int) and missing:
        text += f" {missing:,} rows without a label were left out."
    return text


# ---------------------------------------------------------------- figure export (data files: analytics_export_card)


clientside_callback(
    ClientsideFunction("rnnx", "analyticsExportFigures"),
    Output(ids.ANALYTICS_FIGURE_EXPORT, "data"),
    Input(ids.ANALYTICS_EXPORT_PNG, "n_clicks"),
    Input(ids.ANALYTICS_EXPORT_SVG, "n_clicks"),
    Input(ids.ANALYTICS_EXPORT_ALL_SVG, "n_clicks"),
    prevent_initial_call=True,
)
