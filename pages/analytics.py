"""/analytics: hidden-state visual analytics of a recurrent text classifier (wiring only)."""

from __future__ import annotations

import importlib
import os
import time
from functools import lru_cache
from types import ModuleType

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import (
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
    set_props,
)

from components import analytics_byo as byo_view
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_view as view
from components import progress
from components.analytics_labels import DEFAULT_EP_CHANGE, DEFAULT_JUMP, TOP_JUMPS
from components.info import heading
from components.progress import progress_bar
from model.artifacts import Analysis
from services import datasets as upload_datasets
from services import schemas, uploads
from services.validation import validated
from serving import settings

dash.register_page(__name__, path="/analytics", title="RNN Explorer · Analytics", name="Analytics")

FALLBACK_DATASETS = {"imdb": {"label": "IMDB reviews"}, "reuters": {"label": "Reuters newswire (5 topics)"}}
DEMO_REFUSED = (
    "This is a read-only demo server: it shows what is already prepared and computes nothing new. "
    "Run RNN Explorer yourself to prepare other datasets or projections."
)
METHOD_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}

INFO = {
    "projection": "Every hidden state of every analysed sequence, projected to 2-D. **Colour** is the "
    "*expected prediction* (EP): what the classifier would answer if the sequence ended at that word "
    "(binary: pink = negative, grey = undecided, blue = positive; multi-class: the most likely class). "
    "The selected sequence is drawn as a **trajectory** from its first word (green ring) to its last "
    "(black cross); words whose step is labelled by the rules below are written next to their point. "
    "Box or lasso select filters the table; click a point to select its sequence.",
    "sequence": "The selected sequence. Each word's background is the EP **after** reading it. The heatmap "
    "has one row per class (white = 0, full colour = 1) and a summary row with the most likely class. The "
    "bars are the Euclidean distance between consecutive hidden states divided by the largest such jump "
    "in the analysis set: tall bars are words that moved the model's memory. Hover any word, column, bar "
    "or point to highlight the same step everywhere.",
    "overview": "How the model classifies the analysed sequences. Top bars: sequences per actual class; "
    "below: what the model predicted for them, in the predicted class's colour. The confusion matrix "
    "counts sequences by actual (row) and predicted (column) class; click a cell to list those sequences.",
    "whatif": "Type or paste any text: after a short pause it runs through the classifier and its path is "
    "drawn on the projection as a **dashed line with open diamonds** (it is *out of sample*: PCA and UMAP place "
    "it with the fitted reducer, t-SNE by its nearest analysed states). Edit a word and watch the path move. "
    "**Pin** keeps a path to compare with the next edit and with the selected sequence.",
    "compare": "**Checkpoints**: the same text under the classifier's weights after each training epoch, all "
    "placed in the final model's projection (same axes), so you see the hidden-state space organise itself. "
    "**Cell types**: trains the other cell (LSTM or GRU) on the same data and shows both projections with "
    "their test accuracies.",
    "table": "All analysed sequences. Sort and filter by column (e.g. `no` in *correct*), search the text, "
    "or filter via the confusion matrix or a lasso on the projection. Click a row to select it.",
}


# ---------------------------------------------------------------- data access (cached per process)


def _prepare() -> ModuleType | None:
    """The data pipeline module (``RNNX_PREPARE_MODULE`` swaps it in tests), or None if missing."""
    name = os.environ.get("RNNX_PREPARE_MODULE", "model.prepare")
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class _NotReady(LookupError):
    """Raised inside the loaders so lru_cache never remembers a miss."""


@lru_cache(maxsize=4)
def _load_analysis(dataset: str, n_sequences: int | None) -> tuple[Analysis, float]:
    prepare = _prepare()
    analysis = prepare.load_analysis(dataset, n_sequences) if prepare else None
    if analysis is None:
        raise _NotReady(dataset)
    return analysis, view.max_distance(analysis)


@lru_cache(maxsize=8)
def _load_projection(dataset: str, method: str, n_sequences: int | None) -> np.ndarray:
    prepare = _prepare()
    xy = prepare.load_projection(dataset, method, n_sequences) if prepare else None
    if xy is None:
        raise _NotReady(f"{dataset}/{method}")
    return projection.to_view_coordinates(xy)


def refuse(message: str) -> object:
    """Answer an invalid browser value: the message in the page's alert, no other change."""
    set_props("analytics-alert", {"children": dbc.Alert(message, color="warning", dismissable=True)})
    return no_update


def as_index(value: object) -> int | None:
    """A non-negative integer index from plotly or table event data, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        index = int(value)
    except (ValueError, OverflowError):
        return None
    return index if 0 <= index < 2**31 else None


def load(dataset: str | None, method: str | None) -> tuple[Analysis | None, float, np.ndarray | None]:
    """(analysis, largest jump, projection); None where not prepared yet or not this session's upload."""
    if not dataset or (upload_datasets.is_upload(dataset) and not uploads.owns(dataset)):
        return None, 1.0, None
    try:
        analysis, dmax = _load_analysis(dataset, None)
    except _NotReady:
        return None, 1.0, None
    try:
        xy = _load_projection(dataset, method or "pca", None)
    except _NotReady:
        xy = None
    return analysis, dmax, xy


def load_shown(
    dataset: str | None, method: str | None
) -> tuple[Analysis | None, float, np.ndarray | None, str]:
    """``load`` with PCA standing in while ``method``'s projection is not prepared; the method shown last."""
    method = method or "pca"
    analysis, dmax, xy = load(dataset, method)
    if analysis is not None and xy is None and method != "pca":
        _analysis, _dmax, pca = load(dataset, "pca")
        if pca is not None:
            return analysis, dmax, pca, "pca"
    return analysis, dmax, xy, method


def _limit_mb() -> float:
    from model import byo

    return byo.upload_limit_bytes() / 2**20


def _datasets() -> dict:
    prepare = _prepare()
    return getattr(prepare, "DATASETS", None) or FALLBACK_DATASETS


def _methods() -> tuple[str, ...]:
    prepare = _prepare()
    return tuple(getattr(prepare, "PROJECTIONS", None) or ("pca", "umap", "tsne"))


# ---------------------------------------------------------------- layout


def _float(value: str | None, default: float) -> float:
    try:
        return min(max(float(value), 0.0), 1.0) if value is not None else default
    except ValueError:
        return default


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _card(title: str, info_key: str, body: list, extra: object = None, **kwargs) -> dbc.Card:
    header = html.Div(
        [heading(title, f"analytics-info-{info_key}", INFO[info_key], level="H6"), extra],
        className="d-flex justify-content-between align-items-center flex-wrap gap-2",
    )
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className="rnnx-card h-100", **kwargs)


def _controls(dataset: str, method: str) -> dbc.Row:
    datasets = _datasets()
    return dbc.Row(
        [
            dbc.Col(html.H4("Hidden-state analytics", className="mb-0 rnnx-title"), width="auto"),
            dbc.Col(
                dcc.Dropdown(
                    id="analytics-dataset",
                    options=[{"label": v.get("label", k), "value": k} for k, v in datasets.items()],
                    value=dataset,
                    clearable=False,
                    style={"minWidth": 260},
                ),
                width="auto",
            ),
            dbc.Col(
                dbc.RadioItems(
                    id="analytics-projection-method",
                    options=[{"label": METHOD_LABELS.get(m, m), "value": m} for m in _methods()],
                    value=method,
                    inline=True,
                    className="btn-group",
                    inputClassName="btn-check",
                    labelClassName="btn btn-outline-primary btn-sm",
                    labelCheckedClassName="active",
                ),
                width="auto",
            ),
            dbc.Col(
                dbc.Button(
                    [html.I(className="bi bi-cpu me-1"), "Prepare"],
                    id="analytics-prepare",
                    color="primary",
                    size="sm",
                    style={"display": "none"},
                ),
                width="auto",
            ),
            dbc.Col(
                progress_bar("analytics-progress", 280),
                width="auto",
            ),
            dbc.Col(
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-upload me-1"), "Bring your own model"],
                            id="analytics-byo-toggle",
                            color="primary",
                            outline=True,
                            size="sm",
                        ),
                        byo_view.export_menu(),
                    ],
                    className="d-flex gap-2 justify-content-end",
                ),
                className="ms-auto",
                width="auto",
            ),
        ],
        className="g-3 align-items-center mb-2",
    )


def _projection_toolbar() -> html.Div:
    return html.Div(
        [
            dbc.RadioItems(
                id="analytics-color-mode",
                options=[{"label": "EP", "value": "ep"}, {"label": "actual class", "value": "actual"}],
                value="ep",
                inline=True,
                className="me-3",
            ),
            dbc.Select(
                id="analytics-fade",
                options=[
                    {"label": "fade: none", "value": "none"},
                    {"label": "fade correct", "value": "correct"},
                    {"label": "fade misclassified", "value": "wrong"},
                ],
                value="none",
                size="sm",
                style={"width": 170},
                className="me-3",
            ),
            dbc.Switch(id="analytics-final-only", label="final states only", value=False, className="me-3"),
            dbc.RadioItems(
                id="analytics-trajectory-color",
                options=[{"label": "trajectory: EP", "value": "ep"}, {"label": "time", "value": "time"}],
                value="ep",
                inline=True,
            ),
        ],
        className="d-flex flex-wrap align-items-center small rnnx-toolbar",
    )


def _threshold_controls(jump: float, ep_change: float, rules: list[str], jump_auto: bool = True) -> html.Div:
    marks = {v: f"{v:.1f}" for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)}
    return html.Div(
        [
            dbc.Checklist(
                id="analytics-label-rules",
                options=[
                    {"label": "label jumps ≥", "value": "jump"},
                    {"label": "EP change ≥", "value": "ep"},
                    {"label": "class flips", "value": "flip"},
                    {"label": "label the word before", "value": "before"},
                ],
                value=rules,
                inline=True,
                className="small mb-1",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.Label("jump threshold", className="small text-muted mb-0"),
                                    dbc.Switch(
                                        id="analytics-jump-auto",
                                        label=f"auto: top {TOP_JUMPS} per sequence",
                                        value=jump_auto,
                                        className="small mb-0 ms-auto me-md-3",
                                    ),
                                ],
                                className="d-flex align-items-center gap-2",
                                title="On: label each sequence's largest jumps, whatever their size. "
                                "Moving the slider labels the jumps above it instead.",
                            ),
                            dcc.Slider(
                                id="distance-threshold",
                                min=0,
                                max=1,
                                step=0.01,
                                value=jump,
                                marks=marks,
                                tooltip={"placement": "bottom", "always_visible": False},
                                updatemode="mouseup",
                            ),
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        [
                            html.Label("EP change threshold", className="small text-muted mb-0"),
                            dcc.Slider(
                                id="analytics-ep-threshold",
                                min=0,
                                max=1,
                                step=0.01,
                                value=ep_change,
                                marks=marks,
                                tooltip={"placement": "bottom", "always_visible": False},
                                updatemode="mouseup",
                            ),
                        ],
                        md=6,
                    ),
                ],
                className="g-2",
            ),
        ]
    )


def _graph(graph_id: str, figure: object, height: int | None = None, **kwargs) -> dcc.Graph:
    style = {"height": f"{height}px"} if height else {}
    return dcc.Graph(
        id=graph_id,
        figure=figure,
        config={
            **GRAPH_CONFIG,
            "toImageButtonOptions": {**GRAPH_CONFIG["toImageButtonOptions"], "filename": graph_id},
        },
        style=style,
        **kwargs,
    )


def layout(**query: str) -> html.Div:
    """The page; ``dataset``, ``method``, ``seq``, ``jump`` and ``epchange`` come from the URL."""
    datasets = _datasets()
    dataset = query.get("dataset") if query.get("dataset") in datasets else next(iter(datasets))
    requested = query.get("dataset") or ""
    requested_upload = requested if upload_datasets.UPLOAD_ID.match(requested) else None
    method = query.get("method") if query.get("method") in _methods() else "pca"
    jump = _float(query.get("jump"), DEFAULT_JUMP)
    ep_change = _float(query.get("epchange"), DEFAULT_EP_CHANGE)
    rules = [r for r in (query.get("labels") or "jump").split(",") if r in ("jump", "ep", "flip", "before")]
    seq = _int(query.get("seq"))
    selection = {"dataset": dataset, "seq": seq, "step": None} if seq is not None else None
    empty_projection = projection.projection_figure(
        np.zeros((0, 2)), {"color": []}, 0.6, "empty", whatif=projection.empty_whatif()
    )

    projection_card = _card(
        "Hidden-state projection",
        "projection",
        [
            _projection_toolbar(),
            dcc.Loading(
                _graph("projection-graph", empty_projection, 560, clear_on_unhover=True),
                type="circle",
                delay_show=300,
            ),
            _threshold_controls(jump, ep_change, rules, query.get("jump") is None),
        ],
    )
    sequence_card = _card(
        "Selected sequence",
        "sequence",
        [
            html.Div(
                "Click a row of the table or a point of the projection to select a sequence.",
                id="analytics-sequence-summary",
                className="text-muted small mb-2",
            ),
            html.Div(id="sequence-text", className="rnnx-text"),
            html.Div("EP per class and step", className="rnnx-subhead"),
            _graph("ep-heatmap", overview.empty_figure("No sequence selected", 140), clear_on_unhover=True),
            html.Div("Jump between consecutive hidden states", className="rnnx-subhead"),
            _graph(
                "distance-graph", overview.empty_figure("No sequence selected", 170), clear_on_unhover=True
            ),
        ],
    )
    table_card = _card(
        "Sequences",
        "table",
        [
            html.Div(
                [
                    dbc.Input(
                        id="analytics-search",
                        placeholder="Search the text…",
                        type="search",
                        debounce=True,
                        size="sm",
                        style={"maxWidth": 320},
                    ),
                    html.Span(id="analytics-filter-label", className="small text-muted"),
                    dbc.Button("Clear filters", id="analytics-clear-filter", size="sm", color="link"),
                ],
                className="d-flex align-items-center gap-2 mb-2",
            ),
            overview.sequence_table("sequence-table"),
        ],
    )
    overview_card = _card(
        "Classification overview",
        "overview",
        [
            dbc.Row(
                [
                    dbc.Col(_graph("class-bars", overview.empty_figure("", 260)), lg=6),
                    dbc.Col(_graph("confusion-matrix", overview.empty_figure("", 260)), lg=6),
                ],
                className="g-2",
            )
        ],
    )
    whatif_card = _card("What if: your own text", "whatif", byo_view.whatif_body(_graph))
    compare_card = _card("Compare", "compare", byo_view.compare_body(_graph))
    return html.Div(
        [
            _controls(dataset, method),
            byo_view.upload_panel(settings.uploads_allowed(), _limit_mb()),
            html.Div(id="analytics-model-bar", className="mb-2"),
            html.Div(id="analytics-alert"),
            dbc.Row(
                [
                    dbc.Col(projection_card, xl=7, className="mb-3"),
                    dbc.Col(sequence_card, xl=5, className="mb-3"),
                ],
                className="g-3",
            ),
            dbc.Row(
                [dbc.Col(table_card, xl=7, className="mb-3"), dbc.Col(overview_card, xl=5, className="mb-3")],
                className="g-3",
            ),
            dbc.Row(
                [dbc.Col(whatif_card, xl=5, className="mb-3"), dbc.Col(compare_card, xl=7, className="mb-3")],
                className="g-3",
            ),
            # Bumped when this session prepares an upload; the list itself is kept on the server.
            dcc.Store(id="analytics-uploads", data=0),
            # An upload id from the URL: restored only if the server records this session as its owner.
            dcc.Store(id="analytics-requested-upload", data=requested_upload),
            # Handles of the files this session dropped (ids and names; the server maps ids to files).
            dcc.Store(id="analytics-byo-files", data={}),
            dcc.Store(id="analytics-selection", data=selection),
            # Whether the big scatter is currently drawn faded: touching data[0] makes WebGL redo every point.
            dcc.Store(id="analytics-faded", data=selection is not None),
            dcc.Store(id="analytics-filter", data={}),
            dcc.Store(id="analytics-prepared", data=0),
            # Set when a first visit to an unprepared default dataset starts its preparation.
            dcc.Store(id="analytics-autoprep"),
            dcc.Store(id="analytics-hover"),
            dcc.Store(id="analytics-url-sync"),
        ],
        className="rnnx-analytics",
    )


# ---------------------------------------------------------------- callbacks


@callback(
    Output("analytics-model-bar", "children"),
    Output("class-bars", "figure"),
    Output("confusion-matrix", "figure"),
    Output("analytics-alert", "children"),
    Output("analytics-prepare", "style"),
    Input("analytics-dataset", "value"),
    Input("analytics-projection-method", "value"),
    Input("analytics-prepared", "data"),
)
@validated(schemas.OVERVIEW, refuse)
def show_overview(dataset: str, method: str, _prepared: float):
    """Model bar, class bars and confusion matrix; or the invitation to prepare."""
    label = _datasets().get(dataset, {}).get("label", dataset)
    if _prepare() is None:
        alert = dbc.Alert(
            "The data pipeline (model.prepare) is not installed in this build.", color="warning"
        )
        return (
            None,
            overview.empty_figure("", 260),
            overview.empty_figure("", 260),
            alert,
            {"display": "none"},
        )
    analysis, _dmax, xy = load(dataset, method)
    if analysis is None:
        blank = overview.empty_figure("Prepare the dataset to see the overview", 260)
        if not starts_by_itself(dataset, method):
            return None, blank, blank, overview.prepare_panel(label), {}
        # A first visit to a default dataset: preparation starts without a click.
        set_props("analytics-autoprep", {"data": {"dataset": dataset, "method": method, "at": time.time()}})
        waiting = overview.waiting_panel(
            label, METHOD_LABELS.get(method, method), dash.get_relative_path("/trainer")
        )
        return None, blank, blank, waiting, {}
    names = list(analysis.class_names)
    counts = overview.confusion_counts(analysis.labels, analysis.predicted, len(names))
    accuracy = float(np.trace(counts) / max(counts.sum(), 1))
    bar = overview.model_bar(
        analysis.summary, names, analysis.n_sequences, analysis.n_states, accuracy, counts.sum(axis=1)
    )
    # Keep the "Prepared …" message that the preparation job just wrote.
    alert = no_update if ctx.triggered_id == "analytics-prepared" else None
    button = {"display": "none"}
    if xy is None:
        alert = overview.prepare_panel(
            f"The {METHOD_LABELS.get(method, method)} projection of {label}",
            "This projection has not been computed yet; Prepare computes it (the model and states are cached)."
            + (
                " The map shows the PCA projection meanwhile."
                if load_shown(dataset, method)[3] != method
                else ""
            ),
        )
        button = {}
    return (
        bar,
        overview.class_bars_figure(counts, names),
        overview.confusion_figure(counts, names),
        alert,
        button,
    )


def starts_by_itself(dataset: str, method: str) -> bool:
    """Whether an unprepared dataset is prepared without a click: a built-in default, not in demo mode."""
    return not settings.demo_mode() and dataset in _datasets() and method == "pca"


@callback(
    Output("analytics-prepared", "data"),
    Output("analytics-alert", "children", allow_duplicate=True),
    Input("analytics-prepare", "n_clicks"),
    Input("analytics-autoprep", "data"),
    State("analytics-dataset", "value"),
    State("analytics-projection-method", "value"),
    background=True,
    running=[
        (Output("analytics-prepare", "disabled"), True, False),
        (
            Output("analytics-progress-wrap", "style"),
            progress.shown(280),
            progress.HIDDEN,
        ),
    ],
    progress=[Output("analytics-progress", "value"), Output("analytics-progress", "label")],
    prevent_initial_call=True,
)
@validated(schemas.PREPARE, refuse)
def run_preparation(set_progress, _clicks: int, _auto: dict | None, dataset: str, method: str):
    """Prepare the dataset in a fresh process (never TensorFlow inside this job) with progress and time left."""
    if settings.demo_mode():
        return no_update, dbc.Alert(DEMO_REFUSED, color="warning", dismissable=True)
    prepare = _prepare()
    if prepare is None:
        return no_update, dbc.Alert("The data pipeline is not installed.", color="warning")

    started = time.perf_counter()

    def on_progress(fraction: float, stage: str) -> None:
        set_progress(progress.progress_value(fraction, stage, time.perf_counter() - started))

    set_progress((1, "starting…"))
    try:
        result = prepare.run_prepare_subprocess(dataset, method, None, on_progress)
    except prepare.PrepareError as error:
        return no_update, dbc.Alert(
            [html.B("Preparation failed. "), str(error)], color="danger", dismissable=True
        )
    except Exception as error:  # noqa: BLE001 - a readable message instead of a dead callback
        return no_update, dbc.Alert(
            f"Preparation failed unexpectedly: {error}", color="danger", dismissable=True
        )
    timings = result.get("seconds") if isinstance(result.get("seconds"), dict) else {}
    seconds = float(timings.get("total", sum(timings.values())))
    done = dbc.Alert(
        f"Prepared {result.get('n_sequences', '?')} sequences ({result.get('n_hidden_states', '?')} hidden states) "
        f"in {seconds:.0f} s.",
        color="success",
        dismissable=True,
        duration=6000,
    )
    return time.time(), done


@callback(
    Output("projection-graph", "figure"),
    Input("analytics-dataset", "value"),
    Input("analytics-projection-method", "value"),
    Input("analytics-prepared", "data"),
    Input("analytics-color-mode", "value"),
    Input("analytics-fade", "value"),
    Input("analytics-final-only", "value"),
    State("analytics-selection", "data"),
    State("analytics-label-rules", "value"),
    State("distance-threshold", "value"),
    State("analytics-ep-threshold", "value"),
    State("analytics-trajectory-color", "value"),
    State("analytics-whatif-text", "value"),
    State("analytics-whatif-pin-store", "data"),
    State("analytics-jump-auto", "value"),
)
@validated(schemas.PROJECTION_FIGURE, refuse)
def draw_projection(
    dataset,
    method,
    _prepared,
    color_mode,
    fade,
    final_only,
    selection,
    rules,
    jump,
    epc,
    traj,
    typed=None,
    pinned=None,
    jump_auto=False,
):
    """The full projection figure (sent when dataset, method or colouring change, not on selection).

    While UMAP or t-SNE is not prepared yet, the PCA projection stands in, with a note."""

    analysis, dmax, xy, shown = load_shown(dataset, method)
    if analysis is None or xy is None:
        return projection.projection_figure(
            np.zeros((0, 2)), {"color": []}, 0.6, "empty", whatif=projection.empty_whatif()
        )
    marker = _cloud_marker(analysis, color_mode, final_only)
    k = _selected(selection, dataset, analysis)
    opacity = _cloud_opacity(analysis, fade, k is not None, final_only)
    points = xy[view.final_state_rows(analysis)] if final_only else xy
    overlay = None
    if k is not None:
        overlay = view.selection_view(
            analysis, xy, k, rules or [], jump, epc, traj, selection.get("step"), dmax, bool(jump_auto)
        ).overlay
    whatif = analytics_whatif.whatif_traces(dataset, shown, typed, pinned)
    note = (
        f"{METHOD_LABELS.get(method, method)} is not ready yet: the PCA projection stands in meanwhile"
        if shown != method
        else ""
    )
    return projection.projection_figure(
        points,
        marker,
        opacity,
        f"{dataset}/{shown}",
        overlay,
        note,
        whatif=whatif,
        hover=view.cloud_hover(analysis, bool(final_only), marker, color_mode or "ep"),
    )


def _cloud_marker(analysis: Analysis, color_mode: str | None, final_only: bool) -> dict:
    """Colours of the drawn states (all, or each sequence's last) for the colour mode."""
    state_labels = np.repeat(np.asarray(analysis.labels), np.diff(analysis.offsets))
    names = list(analysis.class_names)
    marker = projection.base_colors(analysis.ep, state_labels, names, color_mode or "ep")
    if final_only:
        marker = {**marker, "color": marker["color"][view.final_state_rows(analysis)]}
    return marker


def _cloud_opacity(analysis: Analysis, fade: str, selected: bool, final_only: bool) -> float | np.ndarray:
    """Opacity of the drawn states: faded behind a selection, or by correctness."""
    correct = np.repeat(
        np.asarray(analysis.labels) == np.asarray(analysis.predicted), np.diff(analysis.offsets)
    )
    opacity = projection.base_opacity(correct, fade, selected)
    if final_only and not np.isscalar(opacity):
        opacity = opacity[view.final_state_rows(analysis)]
    return opacity


def _clicked_rows(
    analysis: Analysis, points: list[dict], color_mode: str | None, final_only: bool
) -> list[int]:
    """Rows (into the drawn states) of clicked or lassoed points of the state cloud."""
    rows = projection.cloud_rows(_cloud_marker(analysis, color_mode, final_only))
    found = (
        projection.point_row(rows, as_index(p.get("curveNumber")), as_index(p.get("pointIndex")))
        for p in points
        if isinstance(p, dict)
    )
    return [r for r in found if r is not None]


def _selected(selection: dict | None, dataset: str, analysis: Analysis) -> int | None:
    """The selected sequence if it belongs to ``dataset`` and exists."""
    if not selection or selection.get("dataset") != dataset or selection.get("seq") is None:
        return None
    k = int(selection["seq"])
    return k if 0 <= k < analysis.n_sequences else None


@callback(
    Output("analytics-selection", "data"),
    Input("sequence-table", "active_cell"),
    Input("projection-graph", "clickData"),
    Input("analytics-dataset", "value"),
    State("analytics-selection", "data"),
    State("analytics-projection-method", "value"),
    State("analytics-final-only", "value"),
    State("analytics-color-mode", "value"),
    prevent_initial_call=True,
)
@validated(schemas.SELECT_SEQUENCE, refuse)
def select_sequence(active_cell, click, dataset, selection, method, final_only, color_mode="ep"):
    """Selection from a table row or a projection point; a new dataset clears it."""
    trigger = ctx.triggered_id
    if trigger == "analytics-dataset":
        return None if (selection or {}).get("dataset") != dataset else no_update
    if trigger == "sequence-table":
        row = as_index((active_cell or {}).get("row_id")) if isinstance(active_cell, dict) else None
        return no_update if row is None else {"dataset": dataset, "seq": row, "step": None}
    points = click.get("points") if isinstance(click, dict) else None
    if trigger == "projection-graph" and isinstance(points, list) and points and isinstance(points[0], dict):
        point = points[0]
        if point.get("curveNumber") == projection.POINTS_SLOT and selection:
            step = as_index((point.get("customdata") or [None])[0])
            return no_update if step is None else {**selection, "step": step}
        analysis, _dmax, _xy = load(dataset, method)
        if analysis is None:
            return no_update
        rows = _clicked_rows(analysis, [point], color_mode, bool(final_only))
        if not rows:
            return no_update
        k, step = view.state_of_point(analysis, rows[0], bool(final_only))
        return {"dataset": dataset, "seq": k, "step": step}
    return no_update


@callback(
    Output("projection-graph", "figure", allow_duplicate=True),
    Output("sequence-text", "children"),
    Output("ep-heatmap", "figure"),
    Output("distance-graph", "figure"),
    Output("analytics-sequence-summary", "children"),
    Output("sequence-table", "style_data_conditional"),
    Output("analytics-faded", "data"),
    Input("analytics-selection", "data"),
    Input("analytics-label-rules", "value"),
    Input("distance-threshold", "value"),
    Input("analytics-ep-threshold", "value"),
    Input("analytics-trajectory-color", "value"),
    State("analytics-dataset", "value"),
    State("analytics-projection-method", "value"),
    State("analytics-fade", "value"),
    State("analytics-final-only", "value"),
    State("analytics-faded", "data"),
    State("analytics-color-mode", "value"),
    Input("analytics-jump-auto", "value"),
    prevent_initial_call="initial_duplicate",
)
@validated(schemas.SHOW_SELECTION, refuse)
def show_selection(
    selection,
    rules,
    jump,
    epc,
    traj,
    dataset,
    method,
    fade,
    final_only,
    faded=False,
    color_mode="ep",
    jump_auto=False,
):
    """Every view of the selected sequence; the projection gets a Patch of its overlay only."""
    analysis, dmax, xy, _shown = load_shown(dataset, method)
    patch = Patch()
    k = _selected(selection, dataset, analysis) if analysis is not None else None
    if k is None or xy is None:
        for i, trace in enumerate(projection.empty_overlay(), start=1):
            patch["data"][i] = trace
        if analysis is not None and xy is not None and faded:
            opacity = _cloud_opacity(analysis, fade, False, bool(final_only))
            rows = projection.cloud_rows(_cloud_marker(analysis, color_mode, bool(final_only)))
            for slot, members in zip(projection.state_slots(len(rows)), rows, strict=True):
                patch["data"][slot]["marker"]["opacity"] = (
                    opacity if np.isscalar(opacity) else opacity[members]
                )
        hint = "Click a row of the table or a point of the projection to select a sequence."
        blank_h = overview.empty_figure("No sequence selected", 140)
        blank_d = overview.empty_figure("No sequence selected", 170)
        return patch, None, blank_h, blank_d, hint, overview.table_styles(None), False
    sel = view.selection_view(
        analysis, xy, k, rules or [], jump, epc, traj, selection.get("step"), dmax, bool(jump_auto)
    )
    for i, trace in enumerate(sel.overlay, start=1):
        patch["data"][i] = trace
    if not faded:
        for slot in projection.state_slots(projection.state_trace_count(len(analysis.class_names))):
            patch["data"][slot]["marker"]["opacity"] = projection.SELECTION_FADE
    return patch, sel.text, sel.heatmap, sel.distance, sel.summary, overview.table_styles(k), True


@callback(
    Output("sequence-table", "data"),
    Output("analytics-filter-label", "children"),
    Output("analytics-filter", "data"),
    Input("analytics-dataset", "value"),
    Input("analytics-prepared", "data"),
    Input("confusion-matrix", "clickData"),
    Input("projection-graph", "selectedData"),
    Input("analytics-search", "value"),
    Input("analytics-clear-filter", "n_clicks"),
    State("analytics-filter", "data"),
    State("analytics-projection-method", "value"),
    State("analytics-final-only", "value"),
    State("analytics-color-mode", "value"),
)
@validated(schemas.FILL_TABLE, refuse)
def fill_table(
    dataset,
    _prepared,
    confusion_click,
    selected,
    search,
    _clear,
    current,
    method,
    final_only,
    color_mode="ep",
):
    """The table rows after the confusion-cell, lasso and text filters."""
    analysis, _dmax, _xy = load(dataset, method)
    if analysis is None:
        return [], "", {}
    names = list(analysis.class_names)
    trigger = ctx.triggered_id
    flt = dict(current or {}) if trigger not in ("analytics-dataset", "analytics-clear-filter") else {}
    if trigger == "confusion-matrix" and confusion_click and confusion_click.get("points"):
        p = confusion_click["points"][0]
        if p.get("y") in names and p.get("x") in names:
            flt["actual"], flt["predicted"] = names.index(p["y"]), names.index(p["x"])
    if trigger == "projection-graph":
        points = _clicked_rows(analysis, (selected or {}).get("points", []), color_mode, bool(final_only))
        flt["ids"] = view.sequences_of_points(analysis, points, bool(final_only)) if points else None
    search = None if trigger == "analytics-clear-filter" else search
    idx = view.filter_sequences(analysis, search, flt.get("actual"), flt.get("predicted"), flt.get("ids"))
    rows = overview.table_rows(
        view.analysed_texts(analysis),
        np.diff(analysis.offsets),
        analysis.labels,
        analysis.predicted,
        analysis.confidence,
        names,
        idx,
    )
    parts = []
    if flt.get("actual") is not None:
        parts.append(f"actual {names[flt['actual']]} → predicted {names[flt['predicted']]}")
    if flt.get("ids") is not None:
        parts.append("lasso selection")
    if search:
        parts.append(f"“{search}”")
    label = f"{len(idx):,} of {analysis.n_sequences:,} sequences" + (
        f" · {' · '.join(parts)}" if parts else ""
    )
    return rows, label, flt


@callback(
    Output("analytics-search", "value"),
    Input("analytics-clear-filter", "n_clicks"),
    prevent_initial_call=True,
)
def clear_search(_clicks: int) -> str:
    return ""


@callback(
    Output("analytics-jump-auto", "value"),
    Input("distance-threshold", "value"),
    prevent_initial_call=True,
)
def manual_jump_threshold(_jump: float) -> bool:
    """Moving the jump slider takes manual control: the jumps above it are labelled."""
    return False


clientside_callback(
    """function (dataset, method, selection, jump, epc, rules, auto) {
        // an automatic jump rule leaves "jump" out of the URL, so a reload keeps it automatic
        return window.dash_clientside.analytics.syncUrl(dataset, method, selection, auto ? null : jump, epc, rules);
    }""",
    Output("analytics-url-sync", "data"),
    Input("analytics-dataset", "value"),
    Input("analytics-projection-method", "value"),
    Input("analytics-selection", "data"),
    Input("distance-threshold", "value"),
    Input("analytics-ep-threshold", "value"),
    Input("analytics-label-rules", "value"),
    Input("analytics-jump-auto", "value"),
)

clientside_callback(
    """function (projHover, heatHover, distHover) {
        return window.dash_clientside.analytics.onGraphHover(projHover, heatHover, distHover);
    }""",
    Output("analytics-hover", "data"),
    Input("projection-graph", "hoverData"),
    Input("ep-heatmap", "hoverData"),
    Input("distance-graph", "hoverData"),
    prevent_initial_call=True,
)

# The issue-6 callbacks live in their own modules; Dash only imports files that call register_page.
from pages import analytics_byo, analytics_whatif  # noqa: E402, F401
