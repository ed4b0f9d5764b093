"""/trainer: train a small recurrent network live and watch each epoch's phases.

The page only wires callbacks: the numbers come from :mod:`model.trainer`, the
layout from :mod:`components.trainer_layout`, the figures and the network
diagram from :mod:`components.trainer_figures`, and the per-epoch animation
runs in the browser (``assets/trainer.js``) on the real results the server
returns in the ``trainer-result`` store.

Nothing from the browser is trusted: every callback checks its inputs against
its schema in :mod:`services.schemas` first, and any problem (a value out of
bounds, a malformed or foreign tab id, an unavailable session store, a
diverged epoch, demo mode) becomes a message in the ``trainer-notice`` alert.
Each tab's state lives in :mod:`serving.sessions` under
``identity.tab_key(tab)``, bound to the browser's signed session cookie. What
an action does to the session (Step clicks counted per page view, demo mode,
divergence) is :func:`pages.trainer_actions.handle`.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, no_update

from components import trainer_figures as figs
from components import trainer_layout
from model import cache, trainer
from pages.trainer_actions import CHANGES, DEMO_NOTICE, MAX_CATCH_UP, Outcome, handle, slider_lr  # noqa: F401
from services import identity, schemas
from services.validation import InvalidInput
from serving import sessions

dash.register_page(__name__, path="/trainer", title="RNN Explorer · Trainer", name="Trainer")

EXPIRED = (
    "This page's training session has expired or belongs to another browser: reload the page to "
    "start a new one."
)
USER_ERRORS = (
    InvalidInput,
    identity.SessionError,
    sessions.SessionUnavailable,
    trainer.ExampleUnavailable,
    cache.CacheWriteError,
)


def layout(**_query: str):
    """The page, with a fresh page-view id (the Step-click counter of this view starts at 0)."""
    return trainer_layout.page_layout(secrets.token_hex(16))


# ---------------------------------------------------------------- outputs by name


def _notice_outputs(duplicate: bool = True) -> dict[str, Output]:
    return {
        "notice": Output("trainer-notice", "children", allow_duplicate=duplicate),
        "notice_open": Output("trainer-notice", "is_open", allow_duplicate=duplicate),
        "notice_color": Output("trainer-notice", "color", allow_duplicate=duplicate),
    }


PAUSE_OUT = {
    "playing": Output("trainer-playing", "data", allow_duplicate=True),
    "clock_off": Output("trainer-clock", "disabled", allow_duplicate=True),
    "play_icon": Output("trainer-play-icon", "className", allow_duplicate=True),
    "play_label": Output("trainer-play-label", "children", allow_duplicate=True),
}
VIEW_OUT = {
    "diagram": Output("network-diagram", "children", allow_duplicate=True),
    "result": Output("trainer-result", "data", allow_duplicate=True),
    "loss": Output("loss-graph", "figure", allow_duplicate=True),
    "epoch": Output("epoch-counter", "children", allow_duplicate=True),
    "layers": Output("trainer-layer-count", "children", allow_duplicate=True),
    "selected": Output("trainer-selected-layer", "data", allow_duplicate=True),
}
UPDATE_OUT = {**VIEW_OUT, **_notice_outputs(), **PAUSE_OUT}
EXAMPLE_OUT = {
    **VIEW_OUT,
    **_notice_outputs(),
    "lr_log": Output("learning-rate", "value"),
    "batch": Output("batch-size", "value"),
    "noise": Output("noise", "value"),
    "data": Output("trainer-input-select", "value"),
    "cell": Output("cell-type", "value"),
    "example": Output("trainer-example", "value"),
}


def _reply(outputs: dict[str, Output], **values: Any) -> dict[str, Any]:
    """A dict-form callback answer: the given outputs, ``no_update`` for the rest."""
    return {name: values.get(name, no_update) for name in outputs}


def notice(message: str, color: str = "warning") -> dict[str, Any]:
    """The ``trainer-notice`` outputs showing ``message`` (closed when it is empty)."""
    return {"notice": message, "notice_open": bool(message), "notice_color": color}


def paused() -> dict[str, Any]:
    """The play controls back to "Play" (demo mode, a diverged epoch, an error during play)."""
    return {"playing": False, "clock_off": True, "play_icon": "bi bi-play-fill", "play_label": "Play"}


def _triggered() -> tuple[Any, Any]:
    """``(ctx.triggered_id, its value)``; a malformed pattern id is returned as text (the schema refuses it)."""
    try:
        trigger = ctx.triggered_id
    except (ValueError, TypeError):
        return str(ctx.triggered[0].get("prop_id"))[:80], None
    value = ctx.triggered[0].get("value") if isinstance(trigger, dict) else None
    return (dict(trigger) if isinstance(trigger, dict) else trigger), value


# ---------------------------------------------------------------- the session of a tab


INIT_OUT = {"tab": Output("trainer-session", "data"), **_notice_outputs()}


@callback(
    output=INIT_OUT,
    inputs={"_page": Input("trainer-result", "id")},
    state={"tab": State("trainer-session", "data")},
    prevent_initial_call="initial_duplicate",
)
def init_session(_page: str, tab: Any) -> dict[str, Any]:
    """Give this browser tab its id (kept in sessionStorage), issued here and bound to the cookie.

    A stored id is kept when this browser's session knows it; a malformed, expired or
    foreign one is replaced by a fresh id.
    """
    try:
        tab = schemas.TRAINER_SESSION.check(tab=tab)["tab"]
    except InvalidInput:
        tab = None
    try:
        store = sessions.session_store()
        if tab and store.get(identity.tab_key(tab)) is not None:
            return _reply(INIT_OUT, tab=tab)
        tab = secrets.token_hex(16)
        store.put(identity.tab_key(tab), {"issued": time.time()})  # known to this browser from now on
    except (identity.SessionError, sessions.SessionUnavailable) as error:
        return _reply(INIT_OUT, tab=tab or secrets.token_hex(16), **notice(str(error)))
    return _reply(INIT_OUT, tab=tab)


# ---------------------------------------------------------------- server callbacks


def result_payload(state: trainer.TrainerState, animate: bool) -> dict[str, Any]:
    """What the browser needs to show (and animate) a state: small, JSON-able."""
    figure = figs.prediction_figure(state.test, state.settings.data, state.epoch)
    return {
        "epoch": state.epoch,
        "figure": figure,
        "animate": animate,
        "text": state.is_text,
        "stamp": time.time(),
    }


def _views(state: trainer.TrainerState, message: str, animate: bool, color: str = "info") -> dict[str, Any]:
    s = state.settings
    return {
        "diagram": figs.network_diagram(s.layers, s.cell, s.data),
        "result": result_payload(state, animate),
        "loss": figs.loss_figure(state.train_loss, state.val_loss, text=state.is_text),
        "epoch": str(state.epoch),
        "layers": f"{s.layers} layer{'s' if s.layers > 1 else ''} × 16 units · {trainer.CELL_LABELS[s.cell]}",
        **notice(message, color),
    }


@callback(
    output=UPDATE_OUT,
    inputs={
        "tab": Input("trainer-session", "data"),
        "data": Input("trainer-input-select", "value"),
        "cell": Input("cell-type", "value"),
        "add": Input("add-layer", "n_clicks"),
        "inserts": Input({"type": "trainer-insert-layer", "index": ALL}, "n_clicks"),
        "removes": Input({"type": "trainer-remove-layer", "index": ALL}, "n_clicks"),
        "reset": Input("reset-button", "n_clicks"),
        "step": Input("step-button", "n_clicks"),
        "request": Input("trainer-request", "data"),
    },
    state={
        "view": State("trainer-view", "data"),
        "lr_log": State("learning-rate", "value"),
        "batch": State("batch-size", "value"),
        "noise": State("noise", "value"),
        "fast": State("trainer-fast", "value"),
    },
    prevent_initial_call=True,
)
def update_trainer(**values: Any) -> dict[str, Any]:
    """Every server-side action of the page: load, settings, layers, reset, step, play tick."""
    trigger, value = _triggered()
    playing = trigger == "trainer-request"
    try:
        v = schemas.TRAINER_UPDATE.check(trigger=trigger, value=value, **values)
    except InvalidInput as error:
        return _reply(UPDATE_OUT, **notice(str(error)), **(paused() if playing else {}))
    if v["tab"] is None or (isinstance(trigger, dict) and not v["value"]) or (playing and not v["request"]):
        return _reply(UPDATE_OUT)  # no id yet (its Step clicks are trained once it has one), or no real click
    try:
        key = identity.tab_key(v["tab"])
        store = sessions.session_store()
        if store.get(key) is None:
            return _reply(UPDATE_OUT, **notice(EXPIRED), **(paused() if playing else {}))
        outcome = handle(
            v["trigger"],
            key,
            v["data"],
            v["cell"],
            v["lr_log"],
            v["batch"],
            v["noise"],
            v["fast"],
            clicks=v["step"],
            view=v["view"],
            store=store,
        )
    except USER_ERRORS as error:
        return _reply(UPDATE_OUT, **notice(str(error)), **(paused() if playing else {}))
    state, message, animate = outcome
    views = _views(state, message, animate, "warning" if outcome.halt else "info")
    if trigger in ("step-button", "trainer-request") and not outcome.rebuilt:
        views.pop("diagram")  # the network did not change: keep the DOM (and any hover) as it is
    if outcome.rebuilt or trigger in CHANGES or isinstance(trigger, dict):
        views["selected"] = None  # the selected layer may be gone: close the cell view
    return _reply(UPDATE_OUT, **views, **(paused() if outcome.halt else {}))


@callback(
    output=EXAMPLE_OUT,
    inputs={"name": Input("trainer-example", "value"), "tab": Input("trainer-session", "data")},
    prevent_initial_call=True,
)
def load_example(name: Any, tab: Any) -> dict[str, Any]:
    """Load a pretrained example model into this session and show it (a pick made before the
    page has its session id is loaded as soon as it has one)."""
    try:
        v = schemas.TRAINER_EXAMPLE.check(name=name, tab=tab)
        if not v["name"] or not v["tab"]:
            return _reply(EXAMPLE_OUT)
        key = identity.tab_key(v["tab"])
        state = trainer.load_example(sessions.session_store(), key, v["name"])
    except USER_ERRORS as error:
        return _reply(EXAMPLE_OUT, **notice(str(error)), example=None)
    s = state.settings
    return _reply(
        EXAMPLE_OUT,
        **_views(state, state.notice, animate=False),
        selected=None,
        lr_log=trainer_layout.lr_to_slider(s.learning_rate),
        batch=s.batch_size,
        noise=s.noise,
        data=s.data,
        cell=s.cell,
        example=None,
    )


SELECT_OUT = {"selected": Output("trainer-selected-layer", "data"), **_notice_outputs()}


@callback(
    output=SELECT_OUT,
    inputs={"clicks": Input({"type": "trainer-layer", "index": ALL}, "n_clicks")},
    prevent_initial_call=True,
)
def select_layer(clicks: Any) -> dict[str, Any]:
    """Clicking a layer selects it (0-based index) for the cell view."""
    trigger, value = _triggered()
    try:
        v = schemas.TRAINER_SELECT.check(clicks=clicks, trigger=trigger, value=value)
    except InvalidInput as error:
        return _reply(SELECT_OUT, **notice(str(error)))
    if not isinstance(v["trigger"], dict) or not v["value"]:
        return _reply(SELECT_OUT)  # a freshly drawn diagram, not a click
    return _reply(SELECT_OUT, selected=v["trigger"]["index"])


SLIDER_OUT = {
    "lr": Output("trainer-lr-value", "children"),
    "batch": Output("trainer-batch-value", "children"),
    "noise": Output("trainer-noise-value", "children"),
    "noise_style": Output("trainer-noise-col", "style"),
    **_notice_outputs(),
}


@callback(
    output=SLIDER_OUT,
    inputs={
        "lr_log": Input("learning-rate", "value"),
        "batch": Input("batch-size", "value"),
        "noise": Input("noise", "value"),
        "data": Input("trainer-input-select", "value"),
    },
    prevent_initial_call="initial_duplicate",
)
def slider_labels(**values: Any) -> dict[str, Any]:
    """Readable slider values; noise hidden for text (it does not apply there)."""
    try:
        v = schemas.TRAINER_SLIDERS.check(**values)
    except InvalidInput as error:
        return _reply(SLIDER_OUT, lr="?", batch="?", noise="?", **notice(str(error)))
    text = v["data"].startswith("text")
    return _reply(
        SLIDER_OUT,
        lr=f"{slider_lr(v['lr_log']):.4g}",
        batch=str(v["batch"]),
        noise=f"± {v['noise']:.2f}",
        noise_style={"display": "none"} if text else {},
    )


# ---------------------------------------------------------------- client-side animation

clientside_callback(
    dash.ClientsideFunction("trainer", "togglePlay"),
    Output("trainer-playing", "data"),
    Output("trainer-clock", "disabled"),
    Output("trainer-play-icon", "className"),
    Output("trainer-play-label", "children"),
    Input("play-button", "n_clicks"),
    State("trainer-playing", "data"),
    prevent_initial_call=True,
)

clientside_callback(
    dash.ClientsideFunction("trainer", "pauseForCell"),
    Output("trainer-playing", "data", allow_duplicate=True),
    Output("trainer-clock", "disabled", allow_duplicate=True),
    Output("trainer-play-icon", "className", allow_duplicate=True),
    Output("trainer-play-label", "children", allow_duplicate=True),
    Input("trainer-selected-layer", "data"),
    State("trainer-playing", "data"),
    prevent_initial_call=True,
)

clientside_callback(
    dash.ClientsideFunction("trainer", "refreshCell"),
    Output("cell-refresh", "data"),
    Input("epoch-counter", "children"),
    State("trainer-selected-layer", "data"),
    prevent_initial_call=True,
)

clientside_callback(
    dash.ClientsideFunction("trainer", "onResult"),
    Output("prediction-graph", "figure"),
    Output("trainer-anim", "data"),
    Output("trainer-clock", "disabled", allow_duplicate=True),
    Output("trainer-network-wrap", "className"),
    Output("trainer-phase-forward", "className"),
    Output("trainer-phase-validation", "className"),
    Output("trainer-phase-backward", "className"),
    Input("trainer-result", "data"),
    State("trainer-playing", "data"),
    State("trainer-fast", "value"),
    prevent_initial_call=True,
)

clientside_callback(
    dash.ClientsideFunction("trainer", "onTick"),
    Output("prediction-graph", "figure", allow_duplicate=True),
    Output("trainer-anim", "data", allow_duplicate=True),
    Output("trainer-request", "data"),
    Output("trainer-clock", "disabled", allow_duplicate=True),
    Output("trainer-network-wrap", "className", allow_duplicate=True),
    Output("trainer-phase-forward", "className", allow_duplicate=True),
    Output("trainer-phase-validation", "className", allow_duplicate=True),
    Output("trainer-phase-backward", "className", allow_duplicate=True),
    Input("trainer-clock", "n_intervals"),
    State("trainer-anim", "data"),
    State("trainer-result", "data"),
    State("trainer-playing", "data"),
    State("trainer-request", "data"),
    prevent_initial_call=True,
)
