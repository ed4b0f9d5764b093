"""The trainer's session: the page's stores and notice, and the server actions that change the model.

Nothing from the browser is trusted: every callback checks its inputs against
its schema in :mod:`services.schemas` first, and any problem (a value out of
bounds, a malformed or foreign tab id, an unavailable session store, a
diverged epoch, demo mode) becomes a message in the ``trainer-notice`` alert.
Each tab's state lives in the session store under ``identity.tab_key(tab)``,
bound to the browser's signed session cookie; what an action does to it is
:meth:`services.trainer.TrainerService.handle`.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc

from components import trainer_figures as figs
from components.cards.trainer_common import EXPIRED, notice, notice_outputs, reply, service, triggered
from components.cards.trainer_network_card import diagram
from components.ids import trainer as ids
from services import schemas
from services import trainer as trainer_service
from services.validation import InvalidInput


def layout(view: str) -> list[Any]:
    """The stores of one page view (``view``: a fresh id, so its Step clicks count from 0) and the notice."""
    return [
        dcc.Store(id=ids.TRAINER_SESSION, storage_type="session"),
        dcc.Store(id=ids.TRAINER_VIEW, data=view),
        dcc.Store(id=ids.TRAINER_RESULT),
        dcc.Store(id=ids.TRAINER_REQUEST, data=0),
        dcc.Store(id=ids.TRAINER_ANIM, data={"done": True}),
        dcc.Store(id=ids.TRAINER_PLAYING, data=False),
        dcc.Store(id=ids.TRAINER_SELECTED_LAYER, data=None),
        # the layer count: asked for by the buttons, sent to the server, built by it (assets/trainer.js)
        dcc.Store(id=ids.TRAINER_LAYERS_WANTED, data=None),
        dcc.Store(id=ids.TRAINER_LAYERS_SENT, data=None),
        dcc.Store(id=ids.TRAINER_LAYERS_BUILT, data=None),
        dcc.Store(id=ids.CELL_REFRESH),  # the epoch to show again in an open cell view
        dcc.Interval(id=ids.TRAINER_CLOCK, interval=80, disabled=True),
    ]


def notice_alert() -> dbc.Alert:
    """The page's one alert for notices and refused values: a toast over the page (``trainer.css``),
    so showing or hiding it never moves the cards."""
    return dbc.Alert(
        id=ids.TRAINER_NOTICE,
        is_open=False,
        color="info",
        dismissable=True,
        duration=6000,
        className="trainer-notice shadow",
    )


def paused() -> dict[str, Any]:
    """The play controls back to "Play" (demo mode, a diverged epoch, an error during play)."""
    return {"playing": False, "clock_off": True, "play_icon": "bi bi-play-fill", "play_label": "Play"}


# ---------------------------------------------------------------- the session of a tab

INIT_OUT = {"tab": Output(ids.TRAINER_SESSION, "data"), **notice_outputs()}


@callback(
    output=INIT_OUT,
    inputs={"_page": Input(ids.TRAINER_RESULT, "id")},
    state={"tab": State(ids.TRAINER_SESSION, "data")},
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
        return reply(INIT_OUT, tab=service().open_tab(tab))
    except trainer_service.USER_ERRORS as error:
        return reply(INIT_OUT, tab=tab or secrets.token_hex(16), **notice(str(error)))


# ---------------------------------------------------------------- what the server shows


def result_payload(state: trainer_service.TrainerState, animate: bool) -> dict[str, Any]:
    """What the browser needs to show (and animate) a state: small, JSON-able."""
    figure = figs.prediction_figure(state.test, state.settings.data, state.epoch)
    return {
        "epoch": state.epoch,
        "figure": figure,
        "animate": animate,
        "text": state.is_text,
        "stamp": time.time(),
    }


def views(
    state: trainer_service.TrainerState, message: str, animate: bool, color: str = "info"
) -> dict[str, Any]:
    """The outputs that show ``state`` (diagram, result, loss, epoch, layer count) and ``message``."""
    s = state.settings
    return {
        "diagram": diagram(s.layers, s.cell, s.data, s.units),
        "result": result_payload(state, animate),
        "loss": figs.loss_figure(state.train_loss, state.val_loss, text=state.is_text),
        "epoch": str(state.epoch),
        "layers": trainer_service.units_label(s.layers, s.units, s.cell),
        "built": {"layers": s.layers, "at": time.time()},
        **notice(message, color),
    }


PAUSE_OUT = {
    "playing": Output(ids.TRAINER_PLAYING, "data", allow_duplicate=True),
    "clock_off": Output(ids.TRAINER_CLOCK, "disabled", allow_duplicate=True),
    "play_icon": Output(ids.TRAINER_PLAY_ICON, "className", allow_duplicate=True),
    "play_label": Output(ids.TRAINER_PLAY_LABEL, "children", allow_duplicate=True),
}
VIEW_OUT = {
    "diagram": Output(ids.NETWORK_DIAGRAM, "children", allow_duplicate=True),
    "result": Output(ids.TRAINER_RESULT, "data", allow_duplicate=True),
    "loss": Output(ids.LOSS_GRAPH, "figure", allow_duplicate=True),
    "epoch": Output(ids.EPOCH_COUNTER, "children", allow_duplicate=True),
    "layers": Output(ids.TRAINER_LAYER_COUNT, "children", allow_duplicate=True),
    "built": Output(ids.TRAINER_LAYERS_BUILT, "data", allow_duplicate=True),
    "selected": Output(ids.TRAINER_SELECTED_LAYER, "data", allow_duplicate=True),
}
UPDATE_OUT = {**VIEW_OUT, **notice_outputs(), **PAUSE_OUT}
EXAMPLE_OUT = {
    **VIEW_OUT,
    **notice_outputs(),
    "lr_log": Output(ids.LEARNING_RATE, "value"),
    "batch": Output(ids.BATCH_SIZE, "value"),
    "noise": Output(ids.NOISE, "value"),
    "data": Output(ids.TRAINER_INPUT_SELECT, "value"),
    "cell": Output(ids.CELL_TYPE, "value"),
    "units": Output(ids.TRAINER_UNITS, "value"),
    "example": Output(ids.TRAINER_EXAMPLE, "value"),
}


@callback(
    output=UPDATE_OUT,
    inputs={
        "tab": Input(ids.TRAINER_SESSION, "data"),
        "data": Input(ids.TRAINER_INPUT_SELECT, "value"),
        "cell": Input(ids.CELL_TYPE, "value"),
        "units": Input(ids.TRAINER_UNITS, "value"),
        # the layer count the page shows: the Network card's buttons set it at once in the browser
        # and send it here one request at a time (trainer_network_card, assets/trainer.js)
        "layers": Input(ids.TRAINER_LAYERS_SENT, "data"),
        "reset": Input(ids.RESET_BUTTON, "n_clicks"),
        "step": Input(ids.STEP_BUTTON, "n_clicks"),
        "request": Input(ids.TRAINER_REQUEST, "data"),
    },
    state={
        "view": State(ids.TRAINER_VIEW, "data"),
        "lr_log": State(ids.LEARNING_RATE, "value"),
        "batch": State(ids.BATCH_SIZE, "value"),
        "noise": State(ids.NOISE, "value"),
        "fast": State(ids.TRAINER_FAST, "value"),
    },
    prevent_initial_call=True,
)
def update_trainer(**values: Any) -> dict[str, Any]:
    """Every server-side action of the page: load, settings, layers, units, reset, step, play tick.

    The layer count arrives whole (``trainer-layers-sent``), never as a click to add to it, so a
    late or repeated request builds what the page shows and never one layer too many.
    """
    trigger, value = triggered()
    playing = trigger == ids.TRAINER_REQUEST
    stop = paused() if playing else {}
    try:
        v = schemas.TRAINER_UPDATE.check(trigger=trigger, value=value, **values)
    except InvalidInput as error:
        return reply(UPDATE_OUT, **notice(str(error)), **stop)
    if v["tab"] is None or (isinstance(trigger, dict) and not v["value"]) or (playing and not v["request"]):
        return reply(UPDATE_OUT)  # no id yet (its Step clicks are trained once it has one), or no real click
    try:
        trainer = service()
        key = trainer.key_of(v["tab"])
        if key is None:
            return reply(UPDATE_OUT, **notice(EXPIRED), **stop)
        outcome = trainer.handle(
            v["trigger"],
            key,
            v["data"],
            v["cell"],
            v["lr_log"],
            v["batch"],
            v["noise"],
            v["fast"],
            units=v["units"],
            clicks=v["step"],
            view=v["view"],
            layers=v["layers"],
        )
    except trainer_service.USER_ERRORS as error:
        return reply(UPDATE_OUT, **notice(str(error)), **stop)
    state, message, animate = outcome
    shown = views(state, message, animate, "warning" if outcome.halt else "info")
    if trigger in (ids.STEP_BUTTON, ids.TRAINER_REQUEST) and not outcome.rebuilt:
        shown.pop("diagram")  # the network did not change: keep the DOM (and any hover) as it is
    if outcome.rebuilt or trigger in trainer_service.CHANGES or isinstance(trigger, dict):
        shown["selected"] = None  # the selected layer may be gone: close the cell view
    return reply(UPDATE_OUT, **shown, **(paused() if outcome.halt else {}))


@callback(
    output=EXAMPLE_OUT,
    inputs={"name": Input(ids.TRAINER_EXAMPLE, "value"), "tab": Input(ids.TRAINER_SESSION, "data")},
    prevent_initial_call=True,
)
def load_example(name: Any, tab: Any) -> dict[str, Any]:
    """Load a pretrained example model into this session and show it (a pick made before the
    page has its session id is loaded as soon as it has one)."""
    try:
        v = schemas.TRAINER_EXAMPLE.check(name=name, tab=tab)
        if not v["name"] or not v["tab"]:
            return reply(EXAMPLE_OUT)
        trainer = service()
        state = trainer.load_example(trainer.tab_key(v["tab"]), v["name"])
    except trainer_service.USER_ERRORS as error:
        return reply(EXAMPLE_OUT, **notice(str(error)), example=None)
    s = state.settings
    return reply(
        EXAMPLE_OUT,
        **views(state, state.notice, animate=False),
        selected=None,
        lr_log=trainer_service.lr_to_slider(s.learning_rate),
        batch=s.batch_size,
        noise=s.noise,
        data=s.data,
        cell=s.cell,
        units=s.units,
        example=None,
    )
