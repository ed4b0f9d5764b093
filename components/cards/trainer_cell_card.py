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
from services import schemas
from services import trainer as trainer_service
from services.validation import InvalidInput


def layout() -> html.Div:
    """The (empty) container the cell view is put into once the page is shown."""
    return html.Div(id="cell-view-container")


@callback(
    Output("cell-view-container", "children"),
    Input("cell-view-container", "id"),
)
def fill_container(_id: str) -> list:
    """Put the (hidden) cell view into the trainer page."""
    return [cell_view.cell_view_layout()]


CELL_OUT = {
    "hidden": Output("cell-view", "hidden"),
    "payload": Output("cell-payload", "data"),
    "diagram": Output("cell-diagram", "figure"),
    "grads": Output("cell-grad-graph", "figure"),
    "check": Output("cell-check", "children"),
    "heading": Output("cell-heading", "children"),
}


def _answer(**values: Any) -> dict[str, Any]:
    return {name: values.get(name, no_update) for name in CELL_OUT}


@callback(
    output=CELL_OUT,
    inputs={"layer": Input("trainer-selected-layer", "data"), "refresh": Input("cell-refresh", "data")},
    state={"tab": State("trainer-session", "data")},
    prevent_initial_call=True,
)
def open_cell(layer: Any, refresh: Any = None, tab: Any = None) -> dict[str, Any]:
    """Open (or close) the cell view of the selected layer with its real values; ``cell-refresh``
    (set in the browser only while it is open) shows a newer epoch."""
    try:
        v = schemas.CELL_VIEW.check(tab=tab, layer=layer, refresh=refresh)
        if v["layer"] is None or not v["tab"]:
            return _answer(hidden=True)
        trainer = service()
        traced = trainer.layer_trace(trainer.tab_key(v["tab"]))
    except (
        trainer_service.USER_ERRORS
    ) as error:  # shown in the cell view's own heading (every output lives in the view)
        return _answer(hidden=False, heading="Cell view", check=str(error))
    if traced is None:
        return _answer(hidden=True)
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
    heading = [cell_view.CELL_TITLES[info["cell_type"]], ex.info("cell", "info-cell-heading")]
    return _answer(
        hidden=False,
        payload=payload,
        diagram=fig,
        grads=cell_view.gradient_figure(steps),
        check=check,
        heading=heading,
    )


NOTICE_OUT = notice_outputs()
CLOSE_OUT = {"selected": Output("trainer-selected-layer", "data", allow_duplicate=True), **NOTICE_OUT}
EXPLAIN_OUT = {
    "open": Output("cell-explain", "is_open"),
    "title": Output("cell-explain-title", "children"),
    "body": Output("cell-explain-body", "children"),
    **NOTICE_OUT,
}


def _refused(outputs: dict[str, Output], error: Exception, **values: Any) -> dict[str, Any]:
    message = {"notice": str(error), "notice_open": True, "notice_color": "warning"}
    return {name: {**values, **message}.get(name, no_update) for name in outputs}


@callback(
    output=CLOSE_OUT,
    inputs={"back": Input("cell-back", "n_clicks"), "backdrop": Input("cell-backdrop", "n_clicks")},
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
    inputs={"click": Input("cell-diagram", "clickData")},
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
    """function(step, tick, phase, play, speed, payload, position, disabled) {
        return window.rnnxCell.control(step, tick, phase, play, speed, payload, position, disabled);
    }""",
    Output("cell-position", "data"),
    Output("cell-phase", "value"),
    Output("cell-interval", "disabled"),
    Output("cell-interval", "interval"),
    Output("cell-play", "children"),
    Input("cell-step-button", "n_clicks"),
    Input("cell-interval", "n_intervals"),
    Input("cell-phase", "value"),
    Input("cell-play", "n_clicks"),
    Input("cell-speed", "value"),
    Input("cell-payload", "data"),
    State("cell-position", "data"),
    State("cell-interval", "disabled"),
    prevent_initial_call=True,
)

# rnnxCell.render answers an array: the outputs below, in this order.
RENDER_OUT = {
    "diagram": Output("cell-diagram", "figure", allow_duplicate=True),
    "data": Output("cell-data-graph", "figure"),
    "grads": Output("cell-grad-graph", "figure", allow_duplicate=True),
    "substep": Output("cell-substep-label", "children"),
    **{f"sub_{i}": Output(f"cell-sub-{i}", "className") for i in range(4)},
    **{
        f"phase_{p}": Output(f"cell-phase-label-{p}", "className")
        for p in ("forward", "error", "backward", "predict")
    },
}
clientside_callback(
    """function(position, payload, diagram, data, grad) {
        return window.rnnxCell.render(position, payload, diagram, data, grad);
    }""",
    output=list(RENDER_OUT.values()),
    inputs=[Input("cell-position", "data"), Input("cell-payload", "data")],
    state=[
        State("cell-diagram", "figure"),
        State("cell-data-graph", "figure"),
        State("cell-grad-graph", "figure"),
    ],
    prevent_initial_call=True,
)

# ---------------------------------------------------------------- the play loop meets the cell view

clientside_callback(
    ClientsideFunction("trainer", "pauseForCell"),
    output=[
        Output("trainer-playing", "data", allow_duplicate=True),
        Output("trainer-clock", "disabled", allow_duplicate=True),
        Output("trainer-play-icon", "className", allow_duplicate=True),
        Output("trainer-play-label", "children", allow_duplicate=True),
    ],
    inputs=[Input("trainer-selected-layer", "data")],
    state=[State("trainer-playing", "data")],
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("trainer", "refreshCell"),
    Output("cell-refresh", "data"),
    Input("epoch-counter", "children"),
    State("trainer-selected-layer", "data"),
    prevent_initial_call=True,
)
