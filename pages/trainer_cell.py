"""Callbacks of the trainer's cell view (no page of its own).

Dash's pages loader only imports modules of ``pages/`` whose source contains
the text "register_page"; this module mentions it here on purpose so that it
is imported (and its callbacks registered) while it does not register a page.
The layout goes into the trainer page's empty ``cell-view-container``.
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
from model import cache, celltrace


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


def layer_trace(sid: str) -> tuple[dict[str, Any], Any] | None:
    """The session's model traced on its current test window (cached per session and epoch)."""
    from model import trainer

    state = trainer.load_session(sid)
    if state is None or not state.weights:
        return None

    def compute() -> dict[str, Any]:
        model = trainer.build_model(state)
        if state.is_text:
            vocab = trainer.signals.vocabulary(state.settings.data)
            target = np.eye(len(vocab))[vocab.index(state.test["target_text"][0])]
            return celltrace.trace_model(model, state.test_inputs, target, loss="crossentropy")
        return celltrace.trace_model(model, state.test_inputs, np.array([state.test["targets"][0]]))

    key = cache.make_key(
        "celltrace",
        sid=sid,
        epoch=state.epoch,
        settings=repr(state.settings),
        window=repr(state.test_inputs.tobytes()[:64]),
    )
    trace, _ = cache.memoize(key, compute, lock_seconds=120)
    return trace, state


@callback(
    Output("cell-view", "hidden"),
    Output("cell-payload", "data"),
    Output("cell-diagram", "figure"),
    Output("cell-grad-graph", "figure"),
    Output("cell-check", "children"),
    Output("cell-heading", "children"),
    Input("trainer-selected-layer", "data"),
    Input("cell-refresh", "data"),
    State("trainer-session", "data"),
    prevent_initial_call=True,
)
def open_cell(layer: int | None, _epoch=None, sid: str | None = None):
    """Open (or close) the cell view of the selected layer with its real values; ``cell-refresh``
    (set in the browser only while it is open) shows a newer epoch."""
    if layer is None or not sid:
        return True, no_update, no_update, no_update, no_update, no_update
    traced = layer_trace(sid)
    if traced is None:
        return True, no_update, no_update, no_update, no_update, no_update
    trace, state = traced
    layer = int(np.clip(int(layer), 0, len(trace["layers"]) - 1))
    info = trace["layers"][layer]
    steps = info["steps"]
    frames = celltrace.frames(steps)
    payload = cell_view.payload(trace, layer, frames, _window_data(state))
    payload["prediction"] = trace["prediction"]
    if state.is_text:
        vocab = trainer_vocab(state)
        payload["data"]["predicted"] = vocab[int(np.argmax(trace["prediction"]))]
    fig = cell_view.cell_figure(
        info["cell_type"], layer, len(trace["layers"]), "text" if state.is_text else "input"
    )
    fig = cell_view.set_strip_widths(fig, {"x": len(info["values"]["x"][0])})
    check = f"epoch {state.epoch} · recomputed from the weights, max |Δ| vs Keras {info['check_error']:.0e}"
    heading = [cell_view.CELL_TITLES[info["cell_type"]], ex.info("cell", "info-cell-heading")]
    return False, payload, fig, cell_view.gradient_figure(steps), check, heading


def trainer_vocab(state: Any) -> list[str]:
    from model import trainer

    return trainer.signals.vocabulary(state.settings.data)


@callback(
    Output("trainer-selected-layer", "data", allow_duplicate=True),
    Input("cell-back", "n_clicks"),
    Input("cell-backdrop", "n_clicks"),
    prevent_initial_call=True,
)
def close_cell(back: int | None, backdrop: int | None):
    """The back control or a click outside the cell returns to the overview."""
    if not (back or backdrop):
        return no_update
    return None


@callback(
    Output("cell-explain", "is_open"),
    Output("cell-explain-title", "children"),
    Output("cell-explain-body", "children"),
    Input("cell-diagram", "clickData"),
    prevent_initial_call=True,
)
def explain_part(click: dict | None):
    """Clicking a part of the cell opens its explanation and equation."""
    if not click or not click.get("points"):
        return no_update, no_update, no_update
    point = click["points"][0]
    custom = point.get("customdata")
    key = custom[1] if isinstance(custom, list) and len(custom) == 2 else custom
    if not isinstance(key, str) or key not in ex.EXPLANATIONS:
        return no_update, no_update, no_update
    entry = ex.explanation(key)
    return True, entry.title, entry.body


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
