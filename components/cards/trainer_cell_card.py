"""The trainer's cell view card: the real cell of a selected layer, step by step (hidden until a layer is clicked).

Every callback checks its inputs against its schema (``services.schemas``)
first; a problem becomes a message in the cell view's heading (opening the
cell view) or, for its buttons, in the page's ``trainer-notice``. The traced
model comes from the trainer service, memoised per tab in the sessions cache.
"""

from __future__ import annotations

from typing import Any

# Imported eagerly on purpose: TensorFlow/Keras import pandas lazily inside a request, and
# plotly's JSON encoder in a concurrent request then sees a half-initialised pandas
# ("partially initialized module 'pandas' has no attribute 'NaT'").
import pandas  # noqa: F401
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, html, no_update

from components import cell_view
from components import explanations as ex
from components.cards.trainer_common import notice_outputs, service
from components.ids import trainer as ids
from services import schemas
from services import trainer as trainer_service
from services.validation import InvalidInput


def layout() -> html.Div:
    """The (hidden) cell view, in the page from the start: a layer clicked at once has a view to open."""
    return html.Div(cell_view.cell_view_layout(), id=ids.CELL_VIEW_CONTAINER)


CELL_OUT = {
    "hidden": Output(ids.CELL_VIEW, "hidden"),
    "payload": Output(ids.CELL_PAYLOAD, "data"),
    "diagram": Output(ids.CELL_DIAGRAM, "figure"),
    "grads": Output(ids.CELL_GRAD_GRAPH, "figure"),
    "check": Output(ids.CELL_CHECK, "children"),
    "heading": Output(ids.CELL_HEADING, "children"),
    "waiting": Output(ids.CELL_WAITING, "children"),
}


def _answer(**values: Any) -> dict[str, Any]:
    return {name: values.get(name, "" if name == "waiting" else no_update) for name in CELL_OUT}


def waiting(layer: int) -> list[Any]:
    """Said below the network while a clicked layer waits for the network (it opens once it is there)."""
    return [
        html.Span(className="spinner-border spinner-border-sm me-1", **{"aria-hidden": "true"}),
        f"Opening layer {layer + 1} once the network is ready…",
    ]


@callback(
    output=CELL_OUT,
    inputs={"layer": Input(ids.TRAINER_SELECTED_LAYER, "data"), "refresh": Input(ids.CELL_REFRESH, "data")},
    state={"tab": State(ids.TRAINER_SESSION, "data")},
    prevent_initial_call=True,
)
def open_cell(layer: Any, refresh: Any = None, tab: Any = None) -> dict[str, Any]:
    """Open (or close) the cell view of the selected layer with its real values; ``cell-refresh``
    (set in the browser while a layer is selected) shows a newer epoch.

    A layer clicked before the network is there (no tab id yet, or no model in the session) stays
    selected and the Network card says so: the network's first result refreshes it and it opens.
    """
    try:
        v = schemas.CELL_VIEW.check(tab=tab, layer=layer, refresh=refresh)
        if v["layer"] is None:
            return _answer(hidden=True)
        if not v["tab"]:
            return _answer(hidden=True, waiting=waiting(v["layer"]))
        trainer = service()
        traced = trainer.layer_trace(trainer.tab_key(v["tab"]))
    except (
        trainer_service.USER_ERRORS
    ) as error:  # shown in the cell view's own heading (every output lives in the view)
        return _answer(hidden=False, heading="Cell view", check=str(error))
    if traced is None:
        return _answer(hidden=True, waiting=waiting(v["layer"]))
    trace, state = traced
    layer = min(v["layer"], len(trace["layers"]) - 1)
    info = trace["layers"][layer]
    steps = info["steps"]
    payload = cell_view.payload(
        trace, layer, trainer_service.frames(steps), trainer_service.window_data(state)
    )
    payload["prediction"] = trace["prediction"]
    if state.is_text:
        payload["data"]["predicted"] = trainer_service.predicted_character(state, trace["prediction"])
    fig = cell_view.cell_figure(
        info["cell_type"], layer, len(trace["layers"]), "text" if state.is_text else "input"
    )
    # every strip as wide as its vector (the input x, and each part when the layers are not 16 wide)
    fig = cell_view.set_strip_widths(fig, {part: len(values[0]) for part, values in info["values"].items()})
    check = f"epoch {state.epoch} · recomputed from the weights, max |Δ| vs Keras {info['check_error']:.0e}"
    heading = [cell_view.CELL_TITLES[info["cell_type"]], ex.info("cell", ids.INFO_CELL_HEADING)]
    return _answer(
        hidden=False,
        payload=payload,
        diagram=fig,
        grads=cell_view.gradient_figure(steps),
        check=check,
        heading=heading,
    )


NOTICE_OUT = notice_outputs()
CLOSE_OUT = {"selected": Output(ids.TRAINER_SELECTED_LAYER, "data", allow_duplicate=True), **NOTICE_OUT}
EXPLAIN_OUT = {
    "open": Output(ids.CELL_EXPLAIN, "is_open"),
    "title": Output(ids.CELL_EXPLAIN_TITLE, "children"),
    "body": Output(ids.CELL_EXPLAIN_BODY, "children"),
    **NOTICE_OUT,
}


def _refused(outputs: dict[str, Output], error: Exception, **values: Any) -> dict[str, Any]:
    message = {"notice": str(error), "notice_open": True, "notice_color": "warning"}
    return {name: {**values, **message}.get(name, no_update) for name in outputs}


@callback(
    output=CLOSE_OUT,
    inputs={"back": Input(ids.CELL_BACK, "n_clicks"), "backdrop": Input(ids.CELL_BACKDROP, "n_clicks")},
    prevent_initial_call=True,
)
def close_cell(back: Any, backdrop: Any) -> dict[str, Any]:
    """The back control or a click outside the cell returns to the overview."""
    try:
        v = schemas.CELL_CLOSE.check(back=back, backdrop=backdrop)
    except InvalidInput as error:
        return _refused(CLOSE_OUT, error, selected=None)  # closing is the safe answer
    closed = None if v["back"] or v["backdrop"] else no_update
    return {"selected": closed, **dict.fromkeys(NOTICE_OUT, no_update)}


@callback(
    output=EXPLAIN_OUT,
    inputs={"click": Input(ids.CELL_DIAGRAM, "clickData")},
    prevent_initial_call=True,
)
def explain_part(click: Any) -> dict[str, Any]:
    """Clicking a part of the cell opens its explanation and equation."""
    nothing = dict.fromkeys(EXPLAIN_OUT, no_update)
    try:
        click = schemas.CELL_EXPLAIN.check(click=click)["click"]
    except InvalidInput as error:
        return _refused(EXPLAIN_OUT, error)
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return nothing
    custom = points[0].get("customdata")
    key = custom[1] if isinstance(custom, list) and len(custom) == 2 else custom
    if not isinstance(key, str) or key not in ex.EXPLANATIONS:
        return nothing
    entry = ex.explanation(key)
    return {**nothing, "open": True, "title": entry.title, "body": entry.body}


clientside_callback(
    ClientsideFunction("rnnx", "cellControl"),
    Output(ids.CELL_POSITION, "data"),
    Output(ids.CELL_PHASE, "value"),
    Output(ids.CELL_INTERVAL, "disabled"),
    Output(ids.CELL_INTERVAL, "interval"),
    Output(ids.CELL_PLAY, "children"),
    Input(ids.CELL_STEP_BUTTON, "n_clicks"),
    Input(ids.CELL_INTERVAL, "n_intervals"),
    Input(ids.CELL_PHASE, "value"),
    Input(ids.CELL_PLAY, "n_clicks"),
    Input(ids.CELL_SPEED, "value"),
    Input(ids.CELL_PAYLOAD, "data"),
    State(ids.CELL_POSITION, "data"),
    State(ids.CELL_INTERVAL, "disabled"),
    prevent_initial_call=True,
)

# rnnx.cellRender (assets/cellview.js) answers an array: the outputs below, in this order.
RENDER_OUT = {
    "diagram": Output(ids.CELL_DIAGRAM, "figure", allow_duplicate=True),
    "data": Output(ids.CELL_DATA_GRAPH, "figure"),
    "grads": Output(ids.CELL_GRAD_GRAPH, "figure", allow_duplicate=True),
    "substep": Output(ids.CELL_SUBSTEP_LABEL, "children"),
    **{f"sub_{i}": Output(sub_id, "className") for i, sub_id in enumerate(ids.CELL_SUBS)},
    **{f"phase_{p}": Output(label_id, "className") for p, label_id in ids.CELL_PHASE_LABELS.items()},
}
clientside_callback(
    ClientsideFunction("rnnx", "cellRender"),
    output=list(RENDER_OUT.values()),
    inputs=[Input(ids.CELL_POSITION, "data"), Input(ids.CELL_PAYLOAD, "data")],
    state=[
        State(ids.CELL_DIAGRAM, "figure"),
        State(ids.CELL_DATA_GRAPH, "figure"),
        State(ids.CELL_GRAD_GRAPH, "figure"),
    ],
    prevent_initial_call=True,
)

# ---------------------------------------------------------------- the play loop meets the cell view

clientside_callback(
    ClientsideFunction("rnnx", "trainerPauseForCell"),
    output=[
        Output(ids.TRAINER_PLAYING, "data", allow_duplicate=True),
        Output(ids.TRAINER_CLOCK, "disabled", allow_duplicate=True),
        Output(ids.TRAINER_PLAY_ICON, "className", allow_duplicate=True),
        Output(ids.TRAINER_PLAY_LABEL, "children", allow_duplicate=True),
    ],
    inputs=[Input(ids.TRAINER_SELECTED_LAYER, "data")],
    state=[State(ids.TRAINER_PLAYING, "data")],
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("rnnx", "trainerRefreshCell"),
    Output(ids.CELL_REFRESH, "data"),
    Input(ids.EPOCH_COUNTER, "children"),
    State(ids.TRAINER_SELECTED_LAYER, "data"),
    prevent_initial_call=True,
)
