"""Callbacks of the trainer's cell view (no page of its own).

Dash's pages loader only imports modules of ``pages/`` whose source contains
the text "register_page"; this module mentions it here on purpose so that it
is imported (and its callbacks registered) while it does not register a page.
The layout goes into the trainer page's empty ``cell-view-container``.

Every callback checks its inputs against its schema (``services.schemas``)
first; a problem becomes a message in the cell view's heading (opening the
cell view) or, for its buttons, in the page's ``trainer-notice``. The traced
model is memoised per tab in the sessions cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Imported eagerly on purpose: TensorFlow/Keras import pandas lazily inside a request, and
# plotly's JSON encoder in a concurrent request then sees a half-initialised pandas
# ("partially initialized module 'pandas' has no attribute 'NaT'").
import pandas  # noqa: F401
from dash import Input, Output, State, callback, clientside_callback, no_update

from components import cell_view
from components import explanations as ex
from model import cache, celltrace, trainer
from services import identity, schemas
from services.validation import InvalidInput
from serving import sessions


@callback(
    Output("cell-view-container", "children"),
    Input("cell-view-container", "id"),
)
def fill_container(_id: str) -> list:
    """Put the (hidden) cell view into the trainer page."""
    return [cell_view.cell_view_layout()]


def _window_data(state: Any) -> dict[str, Any]:
    """The network data beside the cell: the window, its next target and the ground truth."""
    test = state.test
    if state.is_text:
        return {
            "kind": "text",
            "inputs": list(test["input_text"]),
            "target": test["target_text"][0],
        }
    x = np.asarray(test["x"], dtype=float)
    steps = len(test["inputs"])
    truth = np.concatenate(
        [np.asarray(test.get("clean_inputs", test["inputs"])), np.asarray(test["targets"])]
    )
    return {
        "kind": "function",
        "x": np.round(x[: steps + 1], 4).tolist(),
        "inputs": np.round(np.asarray(test["inputs"], dtype=float), 5).tolist(),
        "target": float(test["targets"][0]),
        "truth_x": np.round(x[: steps + 8], 4).tolist(),
        "truth": np.round(truth[: steps + 8], 5).tolist(),
    }


def layer_trace(store: sessions.SessionStore, key: str) -> tuple[dict[str, Any], Any] | None:
    """The session's model traced on its current test window (memoised per session and epoch)."""
    state = trainer.load_session(store, key)
    if state is None or not state.weights:
        return None

    def compute() -> dict[str, Any]:
        model = trainer.build_model(state)
        if state.is_text:
            vocab = trainer.signals.vocabulary(state.settings.data)
            target = np.eye(len(vocab))[vocab.index(state.test["target_text"][0])]
            return celltrace.trace_model(model, state.test_inputs, target, loss="crossentropy")
        return celltrace.trace_model(model, state.test_inputs, np.array([state.test["targets"][0]]))

    memo = cache.make_key(  # a "session…" kind: kept in the sessions cache, never among the results
        "session-celltrace",
        key=key,
        epoch=state.epoch,
        settings=repr(state.settings),
        window=repr(state.test_inputs.tobytes()[:64]),
    )
    trace, _ = cache.memoize(memo, compute, lock_seconds=120)
    return trace, state


CELL_OUT = {
    "hidden": Output("cell-view", "hidden"),
    "payload": Output("cell-payload", "data"),
    "diagram": Output("cell-diagram", "figure"),
    "grads": Output("cell-grad-graph", "figure"),
    "check": Output("cell-check", "children"),
    "heading": Output("cell-heading", "children"),
}
USER_ERRORS = (InvalidInput, identity.SessionError, sessions.SessionUnavailable, cache.CacheWriteError)


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
        traced = layer_trace(sessions.session_store(), identity.tab_key(v["tab"]))
    except USER_ERRORS as error:  # shown in the cell view's own heading (every output lives in the view)
        return _answer(hidden=False, heading="Cell view", check=str(error))
    if traced is None:
        return _answer(hidden=True)
    trace, state = traced
    layer = min(v["layer"], len(trace["layers"]) - 1)
    info = trace["layers"][layer]
    steps = info["steps"]
    frames = celltrace.frames(steps)
    payload = cell_view.payload(trace, layer, frames, _window_data(state))
    payload["prediction"] = trace["prediction"]
    if state.is_text:
        vocab = trainer.signals.vocabulary(state.settings.data)
        payload["data"]["predicted"] = vocab[int(np.argmax(trace["prediction"]))]
    fig = cell_view.cell_figure(
        info["cell_type"], layer, len(trace["layers"]), "text" if state.is_text else "input"
    )
    fig = cell_view.set_strip_widths(fig, {"x": len(info["values"]["x"][0])})
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


NOTICE_OUT = {
    "notice": Output("trainer-notice", "children", allow_duplicate=True),
    "notice_open": Output("trainer-notice", "is_open", allow_duplicate=True),
    "notice_color": Output("trainer-notice", "color", allow_duplicate=True),
}
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

clientside_callback(
    """function(position, payload, diagram, data, grad) {
        return window.rnnxCell.render(position, payload, diagram, data, grad);
    }""",
    Output("cell-diagram", "figure", allow_duplicate=True),
    Output("cell-data-graph", "figure"),
    Output("cell-grad-graph", "figure", allow_duplicate=True),
    Output("cell-substep-label", "children"),
    Output("cell-sub-0", "className"),
    Output("cell-sub-1", "className"),
    Output("cell-sub-2", "className"),
    Output("cell-sub-3", "className"),
    Output("cell-phase-label-forward", "className"),
    Output("cell-phase-label-error", "className"),
    Output("cell-phase-label-backward", "className"),
    Input("cell-position", "data"),
    Input("cell-payload", "data"),
    State("cell-diagram", "figure"),
    State("cell-data-graph", "figure"),
    State("cell-grad-graph", "figure"),
    prevent_initial_call=True,
)
