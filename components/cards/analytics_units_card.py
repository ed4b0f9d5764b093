"""The hidden units card (LSTMVis): its layout and callbacks (registered on import).

The selected sequence's hidden (or cell) states as a units × words heatmap. A span of words
(the range slider, or two clicks on the heatmap) and a threshold give the on-units: those above
the threshold at every step of the span. They are outlined, and the dataset is searched for other
spans where they are all on; clicking a match selects its sequence and step, with its span.
"""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import (
    ClientsideFunction,
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
)

from components import analytics_overview as overview
from components import analytics_units as view
from components.cards.analytics_common import refuse, selected
from components.cards.analytics_layout import card, graph
from components.cards.selection_view import Common, SelectionView
from components.ids import analytics as ids
from services import units as service
from services.validation import InvalidInput, validated

HINT = "Select a sequence (a row of the table or a point of the projection) to see its hidden units."
CLICK_HINT = (
    "Span: drag the slider, or click a word's column on the heatmap, then another to end the span. "
    "Hover a cell to find its word in the text."
)


def layout() -> dbc.Card:
    """The card as the analytics page places it."""
    controls = html.Div(
        [
            dbc.RadioItems(
                id=ids.UNIT_STATE,
                options=[{"label": label, "value": kind} for kind, label in service.KIND_LABELS.items()],
                value="hidden",
                inline=True,
                className="small me-3",
            ),
            html.Label("order", htmlFor=ids.UNIT_SORT, className="small text-muted mb-0 me-1"),
            dbc.Select(
                id=ids.UNIT_SORT,
                options=[{"label": label, "value": key} for key, label in service.SORT_LABELS.items()],
                value="selected",
                size="sm",
                style={"width": 170},
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-1 mb-1",
    )
    span = html.Div(
        [
            html.Label("span of words", htmlFor=ids.UNIT_SPAN, className="small text-muted mb-0"),
            dcc.RangeSlider(
                id=ids.UNIT_SPAN,
                min=0,
                max=1,
                step=1,
                value=[0, 0],
                marks=None,
                allowCross=False,
                tooltip={"placement": "bottom", "always_visible": False},
                updatemode="mouseup",
            ),
        ],
        className="rnnx-unit-slider",
    )
    threshold = html.Div(
        [
            html.Label(
                "threshold (on: above it)", htmlFor=ids.UNIT_THRESHOLD, className="small text-muted mb-0"
            ),
            dcc.Slider(
                id=ids.UNIT_THRESHOLD,
                min=0,
                max=1,
                step=0.01,
                value=0.5,
                marks=None,
                tooltip={"placement": "bottom", "always_visible": False},
                updatemode="mouseup",
            ),
        ],
        className="rnnx-unit-slider",
    )
    body = [
        controls,
        html.Div(HINT, id=ids.UNIT_SUMMARY, className="small mb-1"),
        dcc.Loading(
            graph(ids.UNIT_HEATMAP, overview.empty_figure(HINT, 160), clear_on_unhover=True),
            type="circle",
            delay_show=400,
        ),
        dbc.Row([dbc.Col(span, md=7), dbc.Col(threshold, md=5)], className="g-2"),
        html.Div(CLICK_HINT, className="text-muted small mb-2"),
        html.Div("Matches: other spans with the same units on", className="rnnx-subhead"),
        html.Div(_matches_hint(), id=ids.UNIT_MATCHES, className="rnnx-unit-matches"),
        # What the heatmap draws now ({"key": [dataset, seq, kind, sort], "order": [...]}), so a new
        # span or threshold patches the highlights instead of redrawing it.
        dcc.Store(id=ids.UNIT_DRAWN),
        # The span a clicked match asks its sequence to show once selected.
        dcc.Store(id=ids.UNIT_PENDING),
        # The span, threshold, kind and order the selection hub last drew with, and the user's own
        # moves of them (assets/selection.js passes on only those): a new selection costs no extra request.
        dcc.Store(id=ids.UNIT_HUB_DRAWN),
        dcc.Store(id=ids.UNIT_QUERY),
        dcc.Store(id=ids.UNIT_MATCH_CLICK),
    ]
    return card("Hidden units", "units", body)


def _matches_hint() -> html.Div:
    return view.hint("Choose a span: the units on across it are searched for in the whole dataset.")


def _message(text: str) -> object:
    return overview.empty_figure(text, 160)


# ---------------------------------------------------------------- threshold range and span


@callback(
    output={
        "max": Output(ids.UNIT_THRESHOLD, "max"),
        "marks": Output(ids.UNIT_THRESHOLD, "marks"),
        "options": Output(ids.UNIT_STATE, "options"),
        "kind": Output(ids.UNIT_STATE, "value"),
    },
    inputs={
        "dataset": Input(ids.ANALYTICS_DATASET, "value"),
        "kind": Input(ids.UNIT_STATE, "value"),
        "_prepared": Input(ids.ANALYTICS_PREPARED, "data"),
    },
)
@validated(service.SET_SCALE, refuse)
def set_unit_scale(dataset, kind, _prepared=None):
    """The threshold slider's range for the state's values; no cell state option (nor choice) without one.

    Its value is set with the span (``set_unit_span``): a first threshold suits the selected span."""
    found = service.data(dataset)
    if found is None:
        return {"max": 1, "marks": None, "options": no_update, "kind": no_update}
    _analysis, states = found
    shown = kind if kind in states.kinds else "hidden"
    kind_out = no_update if shown == kind else shown
    kind = shown
    scale = states.scales[kind]
    marks = {round(scale * i / 4, 2): f"{scale * i / 4:g}" for i in range(5)}
    options = [
        {"label": label, "value": k, "disabled": k not in states.kinds}
        for k, label in service.KIND_LABELS.items()
    ]
    return {"max": scale, "marks": marks, "options": options, "kind": kind_out}


@callback(
    output={
        "max": Output(ids.UNIT_SPAN, "max"),
        "marks": Output(ids.UNIT_SPAN, "marks"),
        "value": Output(ids.UNIT_SPAN, "value"),
        "threshold": Output(ids.UNIT_THRESHOLD, "value"),
    },
    inputs={
        "click": Input(ids.UNIT_HEATMAP, "clickData"),
        "kind": Input(ids.UNIT_STATE, "value"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "span": State(ids.UNIT_SPAN, "value"),
        "pending": State(ids.UNIT_PENDING, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
    },
    prevent_initial_call=True,
)
@validated(service.SET_SPAN, refuse)
def set_unit_span(selection, click, span, pending, dataset, kind="hidden"):
    """The span slider over the selected sequence's steps, and the threshold that goes with it.

    A new selection gets a first span and threshold under which some unit is on, so there is something
    to search for (``service.default_view``); a click on the heatmap moves the span only; a picked
    match keeps the threshold it was found with; another state kind gets its own threshold. A new
    selection comes through the hub (``UNITS_VIEW``); a heatmap click or a new kind through here."""
    found = service.data(dataset)
    k = selected(selection, dataset, found[0]) if found else None
    if k is None:
        default = found[1].defaults.get(kind, found[1].defaults["hidden"]) if found else no_update
        return {"max": 1, "marks": None, "value": [0, 0], "threshold": default}
    analysis, states = found
    kind = kind if kind in states.kinds else "hidden"
    words = analysis.words[k]
    n_steps = len(words)
    top = max(n_steps - 1, 1)
    marks = {t: {"label": str(t)} for t in range(0, n_steps, max(1, n_steps // 8))}
    if ctx.triggered_id == ids.UNIT_HEATMAP:
        step = _clicked_step(click)
        if step is None:
            return {"max": no_update, "marks": no_update, "value": no_update, "threshold": no_update}
        try:
            lo, hi = service.extend_span(span, step, n_steps)
        except InvalidInput as error:
            return refuse(str(error))
        return {"max": no_update, "marks": no_update, "value": [lo, hi], "threshold": no_update}
    if ctx.triggered_id == ids.UNIT_STATE and span is not None and span[1] < n_steps:
        threshold = service.threshold_for(analysis, states, kind, k, span)
        return {"max": no_update, "marks": no_update, "value": no_update, "threshold": threshold}
    wanted = (
        pending.get("span") if pending and pending["dataset"] == dataset and pending["seq"] == k else None
    )
    if wanted is not None and wanted[1] < n_steps:
        return {"max": top, "marks": marks, "value": list(wanted), "threshold": no_update}
    wanted, threshold = service.default_view(analysis, states, kind, k, selection.get("step"))
    return {"max": top, "marks": marks, "value": list(wanted), "threshold": threshold}


def _clicked_step(click) -> int | None:
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    x = points[0].get("x")
    if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x < service.MAX_STEP:
        return None
    return int(round(x))


# ---------------------------------------------------------------- the heatmap


def _view(dataset, selection, span, threshold, kind):
    """(analysis, states, query, matrix, on-units) of the request, or a message string."""
    found = service.data(dataset)
    if found is None:
        return "The dataset is not prepared yet (or its hidden states are not available)."
    analysis, states = found
    k = selected(selection, dataset, analysis)
    if k is None:
        return HINT
    try:
        query = service.check_query(analysis, states, k, kind, span, threshold)
    except InvalidInput as error:
        return str(error)
    values = service.matrix(analysis, states, query)
    on = service.on_units(analysis, states, query)
    return analysis, states, query, values, on


@callback(
    output={
        "figure": Output(ids.UNIT_HEATMAP, "figure"),
        "summary": Output(ids.UNIT_SUMMARY, "children"),
        "drawn": Output(ids.UNIT_DRAWN, "data"),
    },
    inputs={
        "_query": Input(ids.UNIT_QUERY, "data"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "span": State(ids.UNIT_SPAN, "value"),
        "threshold": State(ids.UNIT_THRESHOLD, "value"),
        "kind": State(ids.UNIT_STATE, "value"),
        "sort": State(ids.UNIT_SORT, "value"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
        "drawn": State(ids.UNIT_DRAWN, "data"),
    },
    prevent_initial_call=True,
)
@validated(service.SHOW_UNITS, refuse)
def show_units(selection, span, threshold, kind, sort, dataset, drawn, _query=None):
    """The heatmap of the selected sequence; a new span or threshold patches only its highlights."""
    got = _view(dataset, selection, span, threshold, kind)
    if isinstance(got, str):
        return {"figure": _message(got), "summary": got, "drawn": None}
    analysis, states, query, values, on = got
    key = [dataset, query.seq, query.kind, sort]
    span_t = (query.start, query.end)
    on_set = {int(u) for u in on}
    words = analysis.words[query.seq]
    if sort == "selected":
        order = view.drawn_order(service.unit_order(values, sort, span_t, on))
    else:
        order = view.drawn_order(service.unit_order(values, sort))
    summary = view.summary(words, span_t, query.threshold, on, states.n_units, len(order))
    same_rows = isinstance(drawn, dict) and drawn.get("key") == key and drawn.get("order") == order
    if same_rows:
        parts = view.highlight_parts(order, on_set, span_t)
        patch = Patch()
        patch["layout"]["yaxis"]["tickvals"] = parts["tickvals"]
        patch["layout"]["yaxis"]["ticktext"] = parts["ticktext"]
        patch["layout"]["shapes"][view.SPAN_SHAPE] = parts["span"]
        patch["data"][view.OUTLINE_SLOT] = parts["outline"]
        return {"figure": patch, "summary": summary, "drawn": no_update}
    label = service.KIND_LABELS[query.kind]
    figure = view.units_figure(values, order, words, on_set, span_t, states.scales[query.kind], label)
    return {"figure": figure, "summary": summary, "drawn": {"key": key, "order": order}}


# ---------------------------------------------------------------- the dataset search


@callback(
    Output(ids.UNIT_MATCHES, "children"),
    inputs={
        "_query": Input(ids.UNIT_QUERY, "data"),
        "selection": State(ids.ANALYTICS_SELECTION, "data"),
        "span": State(ids.UNIT_SPAN, "value"),
        "threshold": State(ids.UNIT_THRESHOLD, "value"),
        "kind": State(ids.UNIT_STATE, "value"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
    },
    prevent_initial_call=True,
)
@validated(service.FIND_MATCHES, refuse)
def find_unit_matches(selection, span, threshold, kind, dataset, _query=None):
    """Other spans of the dataset where the span's on-units are all on, ranked by match."""
    got = _view(dataset, selection, span, threshold, kind)
    if isinstance(got, str):
        return view.hint(got if got != HINT else "Select a sequence and a span to search the dataset.")
    analysis, states, query, _values, on = got
    if len(on) == 0:
        return view.hint(
            "No unit stays above the threshold across the span: nothing to search for. "
            "Lower the threshold or shorten the span."
        )
    start = time.perf_counter()
    found = service.search(dataset, query, on)
    return view.match_list(found, analysis, len(on), time.perf_counter() - start)


@callback(
    output={
        "selection": Output(ids.ANALYTICS_SELECTION, "data", allow_duplicate=True),
        "pending": Output(ids.UNIT_PENDING, "data"),
    },
    inputs={
        "click": Input(ids.UNIT_MATCH_CLICK, "data"),
        "dataset": State(ids.ANALYTICS_DATASET, "value"),
    },
    prevent_initial_call=True,
)
def pick_unit_match(click, dataset):
    """A click on a match selects its sequence at the match's first step, with the match as span.

    assets/selection.js reports the clicked match (its id, and when): a callback on the buttons' own
    ``n_clicks`` would also be called each time a new list is drawn, one request for nothing."""
    if not isinstance(click, dict):
        return {"selection": no_update, "pending": no_update}
    picked = {key: click.get(key) for key in ("type", "seq", "start", "end")}
    return _pick(picked=picked, dataset=dataset)


@validated(service.PICK_MATCH, refuse)
def _pick(picked, dataset):
    found = service.data(dataset)
    if picked is None or found is None:
        return {"selection": no_update, "pending": no_update}
    analysis = found[0]
    seq, start, end = picked["seq"], picked["start"], picked["end"]
    if seq >= analysis.n_sequences or end >= len(analysis.words[seq]):
        return refuse("The clicked match is not in this dataset.")
    return {
        "selection": {"dataset": dataset, "seq": seq, "step": start},
        "pending": {"dataset": dataset, "seq": seq, "span": [start, end]},
    }


# Hovering the heatmap highlights the step in every view (assets/analytics.js).
clientside_callback(
    ClientsideFunction("rnnx", "analyticsUnitHover"),
    Output(ids.ANALYTICS_HOVER, "data", allow_duplicate=True),
    Input(ids.UNIT_HEATMAP, "hoverData"),
    prevent_initial_call=True,
)

# A move of the span, threshold, kind or order asks for the heatmap and matches again, unless it is the
# hub's own echo of what it just drew (assets/selection.js).
clientside_callback(
    ClientsideFunction("rnnx", "unitsQuery"),
    Output(ids.UNIT_QUERY, "data"),
    Output(ids.UNIT_HUB_DRAWN, "data", allow_duplicate=True),
    Input(ids.UNIT_SPAN, "value"),
    Input(ids.UNIT_THRESHOLD, "value"),
    Input(ids.UNIT_STATE, "value"),
    Input(ids.UNIT_SORT, "value"),
    State(ids.UNIT_HUB_DRAWN, "data"),
    prevent_initial_call=True,
)


# ---------------------------------------------------------------- the hub's part


UNITS_OUTPUTS = {
    "max": Output(ids.UNIT_SPAN, "max", allow_duplicate=True),
    "marks": Output(ids.UNIT_SPAN, "marks", allow_duplicate=True),
    "span": Output(ids.UNIT_SPAN, "value", allow_duplicate=True),
    "threshold": Output(ids.UNIT_THRESHOLD, "value", allow_duplicate=True),
    "figure": Output(ids.UNIT_HEATMAP, "figure", allow_duplicate=True),
    "summary": Output(ids.UNIT_SUMMARY, "children", allow_duplicate=True),
    "drawn": Output(ids.UNIT_DRAWN, "data", allow_duplicate=True),
    "matches": Output(ids.UNIT_MATCHES, "children", allow_duplicate=True),
    "hub_drawn": Output(ids.UNIT_HUB_DRAWN, "data", allow_duplicate=True),
}
UNITS_STATES = {
    "span": State(ids.UNIT_SPAN, "value"),
    "threshold": State(ids.UNIT_THRESHOLD, "value"),
    "pending": State(ids.UNIT_PENDING, "data"),
    "kind": State(ids.UNIT_STATE, "value"),
    "sort": State(ids.UNIT_SORT, "value"),
    "drawn": State(ids.UNIT_DRAWN, "data"),
}


def draw_units(common: Common, span, threshold, pending, kind, sort, drawn) -> dict:
    """A new selection's span and threshold, heatmap and matches, in the hub's one request."""
    skip = dict.fromkeys(UNITS_OUTPUTS, no_update)
    found = set_unit_span(common.selection, None, span, pending, common.dataset, kind)
    if not isinstance(found, dict):
        return skip
    span = span if found["value"] is no_update else found["value"]
    threshold = threshold if found["threshold"] is no_update else found["threshold"]
    heat = show_units(common.selection, span, threshold, kind, sort, common.dataset, drawn)
    heat = heat if isinstance(heat, dict) else dict.fromkeys(("figure", "summary", "drawn"), no_update)
    matches = find_unit_matches(common.selection, span, threshold, kind, common.dataset)
    return {
        "max": found["max"],
        "marks": found["marks"],
        "span": found["value"],
        "threshold": found["threshold"],
        **heat,
        "matches": matches,
        "hub_drawn": {"span": span, "threshold": threshold, "kind": kind, "sort": sort},
    }


UNITS_VIEW = SelectionView("units", UNITS_OUTPUTS, UNITS_STATES, draw_units)
