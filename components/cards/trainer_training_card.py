"""The trainer's Training card: play, step, reset, examples, the sliders and the three phases.

The play loop and the per-epoch animation run in the browser (``assets/trainer.js``)
on the real results the server returns in the ``trainer-result`` store; the
keyboard shortcuts shown in :data:`SHORTCUTS` are handled there too.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from components.cards.trainer_common import card, notice, notice_outputs, reply
from components.ids import trainer as ids
from components.info import info_icon
from services import schemas
from services import trainer as service
from services.validation import InvalidInput

INFO = {
    "process": "Every epoch has three phases: predict the test window (forward), measure the "
    "error (validation) and adjust the weights by backpropagation through time (backward). "
    "Keys: **Space** play/pause, **Enter** step, **R** reset, **+** / **−** add or remove a layer.",
    ids.LEARNING_RATE: "How big a step RMSprop takes along the gradient. Too small and learning "
    "crawls; too large and the loss jumps around or explodes.",
    ids.BATCH_SIZE: "How many windows are averaged for one weight update. 100 windows per epoch "
    "with batch 25 means 4 updates per epoch.",
    ids.NOISE: "Uniform noise of up to ± this much is added to the *inputs* only; the targets "
    "stay clean, so the network must learn to see through it.",
    "epochs": "One epoch = fresh training data, one prediction of a fresh test window, one "
    "pass of training over 100 windows.",
}
SHORTCUTS = (("Space", "play/pause"), ("Enter", "step"), ("R", "reset"), ("+ / −", "add or remove a layer"))
PHASES = [
    (
        "forward",
        "1 · Forward: prediction",
        "The test window flows through the layers. Each prediction is fed back as the next input, "
        "so the network continues the curve 32 points past the data.",
    ),
    (
        "validation",
        "2 · Validation: error",
        "The prediction is compared with the ground truth. The red lines are the errors; "
        "their mean square (or cross-entropy for text) is the loss.",
    ),
    (
        "backward",
        "3 · Backward: training",
        "The error flows back through the layers and back through time. RMSprop nudges every "
        "weight, one batch at a time, over 100 fresh training windows.",
    ),
]


def _buttons() -> html.Div:
    return html.Div(
        [
            dbc.Button(
                [
                    html.I(id=ids.TRAINER_PLAY_ICON, className="bi bi-play-fill"),
                    html.Span("Play", id=ids.TRAINER_PLAY_LABEL),
                ],
                id=ids.PLAY_BUTTON,
                color="primary",
                className="trainer-play",
                title="Play / pause (Space)",
            ),
            dbc.Button(
                [html.I(className="bi bi-skip-end-fill"), html.Span("Step")],
                id=ids.STEP_BUTTON,
                color="primary",
                outline=True,
                title="Train one epoch (Enter)",
            ),
            dbc.Button(
                [html.I(className="bi bi-arrow-counterclockwise"), html.Span("Reset")],
                id=ids.RESET_BUTTON,
                color="secondary",
                outline=True,
                title="Start training over (R)",
            ),
            html.Div(
                [
                    html.Span("Epoch", className="trainer-epoch-label"),
                    html.Span("0", id=ids.EPOCH_COUNTER, className="trainer-epoch"),
                    info_icon(ids.TRAINER_INFO_EPOCHS, "Epochs", INFO["epochs"]),
                ],
                className="trainer-epoch-box",
            ),
            dbc.Select(
                id=ids.TRAINER_EXAMPLE,
                options=[{"label": label, "value": key} for key, label in service.EXAMPLE_LABELS.items()],
                value=None,
                placeholder="Load a pretrained example…",
                size="sm",
                className="trainer-example",
            ),
            dbc.Switch(
                id=ids.TRAINER_FAST,
                label="fast (no animation)",
                value=False,
                className="mb-0",
                persistence=True,
                persistence_type="session",
            ),
        ],
        className="trainer-buttons",
    )


def _shortcuts() -> html.Div:
    keys: list[Any] = ["Keys: "]
    for i, (key, what) in enumerate(SHORTCUTS):
        keys += [", " if i else "", html.Kbd(key), f" {what}"]
    return html.Div(keys, id=ids.TRAINER_SHORTCUTS, className="text-muted small mt-1")


def _slider_row(label: str, slider_id: str, slider: Any, value_id: str, icon_id: str) -> html.Div:
    head = html.Div(
        [
            html.Label(label, htmlFor=slider_id, className="fw-semibold small mb-0"),
            info_icon(icon_id, label, INFO[slider_id]),
            html.Span(id=value_id, className="trainer-slider-value ms-auto"),
        ],
        className="d-flex align-items-center",
    )
    return html.Div([head, slider], className="trainer-slider")


def _slider(slider_id: str, lo: float, hi: float, step: float, value: float, marks: dict) -> dcc.Slider:
    return dcc.Slider(
        id=slider_id,
        min=lo,
        max=hi,
        step=step,
        value=value,
        marks=marks,
        persistence=True,
        persistence_type="session",
    )


def _sliders(settings: service.Settings) -> dbc.Row:
    lr = _slider(
        ids.LEARNING_RATE,
        schemas.LR_LOG.lo,
        schemas.LR_LOG.hi,
        0.01,
        service.lr_to_slider(settings.learning_rate),
        {i: f"1e{i}" if i else "1" for i in range(-4, 1)},
    )
    batch = _slider(ids.BATCH_SIZE, 5, 50, 5, settings.batch_size, {v: str(v) for v in (5, 25, 50)})
    noise = _slider(ids.NOISE, 0, 0.4, 0.01, settings.noise, {v: str(v) for v in (0, 0.2, 0.4)})
    return dbc.Row(
        [
            dbc.Col(
                _slider_row(
                    "Learning rate",
                    ids.LEARNING_RATE,
                    lr,
                    ids.TRAINER_LR_VALUE,
                    ids.TRAINER_INFO_LEARNING_RATE,
                ),
                md=4,
            ),
            dbc.Col(
                _slider_row(
                    "Batch size", ids.BATCH_SIZE, batch, ids.TRAINER_BATCH_VALUE, ids.TRAINER_INFO_BATCH_SIZE
                ),
                md=4,
            ),
            dbc.Col(
                _slider_row("Noise", ids.NOISE, noise, ids.TRAINER_NOISE_VALUE, ids.TRAINER_INFO_NOISE),
                md=4,
                id=ids.TRAINER_NOISE_COL,
            ),
        ],
        className="g-3 mt-1",
    )


def _process_pane() -> dbc.Row:
    cards = [
        dbc.Col(
            html.Div(
                [
                    html.Div(title, className="trainer-phase-title"),
                    html.Div(text, className="trainer-phase-text"),
                ],
                id=ids.TRAINER_PHASES[key],
                className="trainer-phase",
            ),
            md=4,
        )
        for key, title, text in PHASES
    ]
    return dbc.Row(cards, className="g-2 mt-2", id=ids.TRAINER_PROCESS)


def layout(settings: service.Settings) -> dbc.Card:
    """The card, its sliders set to ``settings`` (their values persist for the browser tab)."""
    body = [html.Div([_buttons(), _shortcuts(), _sliders(settings)]), _process_pane()]
    return card("Training", ids.TRAINER_INFO_PROCESS, INFO["process"], body)


SLIDER_OUT = {
    "lr": Output(ids.TRAINER_LR_VALUE, "children"),
    "batch": Output(ids.TRAINER_BATCH_VALUE, "children"),
    "noise": Output(ids.TRAINER_NOISE_VALUE, "children"),
    "noise_style": Output(ids.TRAINER_NOISE_COL, "style"),
    **notice_outputs(),
}


@callback(
    output=SLIDER_OUT,
    inputs={
        "lr_log": Input(ids.LEARNING_RATE, "value"),
        "batch": Input(ids.BATCH_SIZE, "value"),
        "noise": Input(ids.NOISE, "value"),
        "data": Input(ids.TRAINER_INPUT_SELECT, "value"),
    },
    prevent_initial_call="initial_duplicate",
)
def slider_labels(**values: Any) -> dict[str, Any]:
    """Readable slider values; noise hidden for text (it does not apply there)."""
    try:
        v = schemas.TRAINER_SLIDERS.check(**values)
    except InvalidInput as error:
        return reply(SLIDER_OUT, lr="?", batch="?", noise="?", **notice(str(error)))
    text = v["data"].startswith("text")
    return reply(
        SLIDER_OUT,
        lr=f"{service.slider_lr(v['lr_log']):.4g}",
        batch=str(v["batch"]),
        noise=f"± {v['noise']:.2f}",
        noise_style={"display": "none"} if text else {},
    )


# ---------------------------------------------------------------- the play loop, in the browser
# Client-side callbacks answer with arrays: each output dict below is in the order its
# function in assets/trainer.js (``window.dash_clientside.rnnx.trainer*``) returns its values.

PLAY_OUT = {
    "playing": Output(ids.TRAINER_PLAYING, "data"),
    "clock_off": Output(ids.TRAINER_CLOCK, "disabled"),
    "play_icon": Output(ids.TRAINER_PLAY_ICON, "className"),
    "play_label": Output(ids.TRAINER_PLAY_LABEL, "children"),
}
PHASE_OUT = {
    "network": Output(ids.TRAINER_NETWORK_WRAP, "className"),
    "forward": Output(ids.TRAINER_PHASE_FORWARD, "className"),
    "validation": Output(ids.TRAINER_PHASE_VALIDATION, "className"),
    "backward": Output(ids.TRAINER_PHASE_BACKWARD, "className"),
}
RESULT_OUT = {
    "figure": Output(ids.PREDICTION_GRAPH, "figure"),
    "anim": Output(ids.TRAINER_ANIM, "data"),
    "clock_off": Output(ids.TRAINER_CLOCK, "disabled", allow_duplicate=True),
    **PHASE_OUT,
}
TICK_OUT = {
    "figure": Output(ids.PREDICTION_GRAPH, "figure", allow_duplicate=True),
    "anim": Output(ids.TRAINER_ANIM, "data", allow_duplicate=True),
    "request": Output(ids.TRAINER_REQUEST, "data"),
    "clock_off": Output(ids.TRAINER_CLOCK, "disabled", allow_duplicate=True),
    **{
        name: Output(o.component_id, o.component_property, allow_duplicate=True)
        for name, o in PHASE_OUT.items()
    },
}

clientside_callback(
    ClientsideFunction("rnnx", "trainerTogglePlay"),
    output=list(PLAY_OUT.values()),
    inputs=[Input(ids.PLAY_BUTTON, "n_clicks")],
    state=[State(ids.TRAINER_PLAYING, "data")],
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("rnnx", "trainerOnResult"),
    output=list(RESULT_OUT.values()),
    inputs=[Input(ids.TRAINER_RESULT, "data")],
    state=[State(ids.TRAINER_PLAYING, "data"), State(ids.TRAINER_FAST, "value")],
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("rnnx", "trainerOnTick"),
    output=list(TICK_OUT.values()),
    inputs=[Input(ids.TRAINER_CLOCK, "n_intervals")],
    state=[
        State(ids.TRAINER_ANIM, "data"),
        State(ids.TRAINER_RESULT, "data"),
        State(ids.TRAINER_PLAYING, "data"),
        State(ids.TRAINER_REQUEST, "data"),
    ],
    prevent_initial_call=True,
)
