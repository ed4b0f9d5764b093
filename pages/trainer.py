"""/trainer: train a small recurrent network live and watch each epoch's phases.

The page only wires callbacks: the numbers come from :mod:`model.trainer`, the
figures and the network diagram from :mod:`components.trainer_figures`, and
the per-epoch animation runs in the browser (``assets/trainer.js``) on the
real results the server returns in the ``trainer-result`` store.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import replace
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from components import trainer_figures as figs
from components.info import heading, info_icon
from model import trainer

dash.register_page(__name__, path="/trainer", title="RNN Explorer · Trainer", name="Trainer")

FAST_BUDGET_S = 0.35  # fast mode: train epochs for about this long per request
FAST_MAX_EPOCHS = 8
LR_MIN_LOG, LR_MAX_LOG = -4.0, 0.0

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

INFO = {
    "input": "Choose what the network learns to continue: a periodic function sampled every 0.2 "
    "(15 points in, the next one out) or a text, one character at a time (20 in, the next out). "
    "The thumbnails scroll one period.",
    "network": "A stack of recurrent layers of 16 units each. A recurrent layer reads the window one "
    "time step at a time and feeds its own output back to itself (the loop), so it can remember "
    "what came before. A dense layer turns the last state into the prediction. Use **+** to add "
    "a layer, hover a layer and click **×** to remove it, click it to open its cell view.",
    "prediction": "The grey window is what the network sees. Blue is what it predicts, each "
    "prediction fed back as input for the next; the thin grey line is the truth. The red lines "
    "are the errors.",
    "process": "Every epoch has three phases: predict the test window (forward), measure the "
    "error (validation) and adjust the weights by backpropagation through time (backward).",
    "loss": "Training loss: the mean loss over this epoch's training windows while the weights "
    "were updated. Validation loss: the loss of the model on fresh, noise-free windows before "
    "this epoch's update. Log scale.",
    "learning-rate": "How big a step RMSprop takes along the gradient. Too small and learning "
    "crawls; too large and the loss jumps around or explodes.",
    "batch-size": "How many windows are averaged for one weight update. 100 windows per epoch "
    "with batch 25 means 4 updates per epoch.",
    "noise": "Uniform noise of up to ± this much is added to the *inputs* only; the targets "
    "stay clean, so the network must learn to see through it.",
    "epochs": "One epoch = fresh training data, one prediction of a fresh test window, one "
    "pass of training over 100 windows.",
}


# ---------------------------------------------------------------- layout pieces


def _lr_to_slider(lr: float) -> float:
    return round(math.log10(lr), 3)


def _slider_lr(value: float | None) -> float:
    return float(10 ** (value if value is not None else _lr_to_slider(0.025)))


def _card(title: str, icon_id: str, info: str, body: list[Any], extra: Any = None, **kwargs) -> dbc.Card:
    header = html.Div([heading(title, icon_id, info, level="H6"), extra], className="trainer-card-head")
    return dbc.Card(dbc.CardBody([header, *body]), className="trainer-card h-100 shadow-sm", **kwargs)


def _input_column(settings: trainer.Settings) -> dbc.Card:
    select = dbc.RadioItems(
        id="trainer-input-select",
        options=figs.input_options(),
        value=settings.data,
        className="trainer-input-select",
        inputClassName="btn-check",
        labelClassName="trainer-input-option",
        labelCheckedClassName="active",
        persistence=True,
        persistence_type="session",
    )
    return _card("Input", "trainer-info-input", INFO["input"], [select])


def _network_column(settings: trainer.Settings) -> dbc.Card:
    cell = dbc.RadioItems(
        id="cell-type",
        options=[{"label": trainer.CELL_LABELS[c], "value": c} for c in trainer.CELL_TYPES],
        value=settings.cell,
        inline=True,
        className="btn-group btn-group-sm trainer-cell-type",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary",
        labelCheckedClassName="active",
        persistence=True,
        persistence_type="session",
    )
    body = [
        html.Div(
            html.Div(
                figs.network_diagram(settings.layers, settings.cell, settings.data),
                id="network-diagram",
            ),
            id="trainer-network-wrap",
            className="trainer-network-wrap",
        ),
        html.Div(
            [
                dbc.Button(
                    [html.I(className="bi bi-plus-lg me-1"), "Add layer"],
                    id="add-layer",
                    color="primary",
                    outline=True,
                    size="sm",
                ),
                html.Span(id="trainer-layer-count", className="text-muted small ms-2"),
            ],
            className="d-flex align-items-center mt-2",
        ),
    ]
    return _card("Network", "trainer-info-network", INFO["network"], body, extra=cell)


def _prediction_column() -> dbc.Card:
    graph = dcc.Graph(
        id="prediction-graph",
        figure=figs.placeholder_figure("Preparing the network…"),
        config={"displayModeBar": False, "responsive": True},
        className="trainer-prediction-graph",
        style={"height": "300px"},
    )
    return _card("Prediction", "trainer-info-prediction", INFO["prediction"], [graph])


def _slider_row(label: str, slider_id: str, slider: Any, value_id: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Label(label, htmlFor=slider_id, className="fw-semibold small mb-0"),
                    info_icon(f"trainer-info-{slider_id}", label, INFO[slider_id]),
                    html.Span(id=value_id, className="trainer-slider-value ms-auto"),
                ],
                className="d-flex align-items-center",
            ),
            slider,
        ],
        className="trainer-slider",
    )


def _controls(settings: trainer.Settings) -> html.Div:
    buttons = html.Div(
        [
            dbc.Button(
                [
                    html.I(id="trainer-play-icon", className="bi bi-play-fill"),
                    html.Span("Play", id="trainer-play-label"),
                ],
                id="play-button",
                color="primary",
                className="trainer-play",
                title="Play / pause (Space)",
            ),
            dbc.Button(
                [html.I(className="bi bi-skip-end-fill"), html.Span("Step")],
                id="step-button",
                color="primary",
                outline=True,
                title="Train one epoch (Enter)",
            ),
            dbc.Button(
                [html.I(className="bi bi-arrow-counterclockwise"), html.Span("Reset")],
                id="reset-button",
                color="secondary",
                outline=True,
                title="Start training over",
            ),
            html.Div(
                [
                    html.Span("Epoch", className="trainer-epoch-label"),
                    html.Span("0", id="epoch-counter", className="trainer-epoch"),
                    info_icon("trainer-info-epochs", "Epochs", INFO["epochs"]),
                ],
                className="trainer-epoch-box",
            ),
            dbc.Select(
                id="trainer-example",
                options=[{"label": label, "value": key} for key, (label, _) in trainer.EXAMPLES.items()],
                value=None,
                placeholder="Load a pretrained example…",
                size="sm",
                className="trainer-example",
            ),
            dbc.Switch(
                id="trainer-fast",
                label="fast (no animation)",
                value=False,
                className="mb-0",
                persistence=True,
                persistence_type="session",
            ),
        ],
        className="trainer-buttons",
    )
    sliders = dbc.Row(
        [
            dbc.Col(
                _slider_row(
                    "Learning rate",
                    "learning-rate",
                    dcc.Slider(
                        id="learning-rate",
                        min=LR_MIN_LOG,
                        max=LR_MAX_LOG,
                        step=0.01,
                        value=_lr_to_slider(settings.learning_rate),
                        marks={i: f"1e{i}" if i else "1" for i in range(-4, 1)},
                        persistence=True,
                        persistence_type="session",
                    ),
                    "trainer-lr-value",
                ),
                md=4,
            ),
            dbc.Col(
                _slider_row(
                    "Batch size",
                    "batch-size",
                    dcc.Slider(
                        id="batch-size",
                        min=5,
                        max=50,
                        step=5,
                        value=settings.batch_size,
                        marks={v: str(v) for v in (5, 25, 50)},
                        persistence=True,
                        persistence_type="session",
                    ),
                    "trainer-batch-value",
                ),
                md=4,
            ),
            dbc.Col(
                _slider_row(
                    "Noise",
                    "noise",
                    dcc.Slider(
                        id="noise",
                        min=0,
                        max=0.4,
                        step=0.01,
                        value=settings.noise,
                        marks={v: str(v) for v in (0, 0.2, 0.4)},
                        persistence=True,
                        persistence_type="session",
                    ),
                    "trainer-noise-value",
                ),
                md=4,
                id="trainer-noise-col",
            ),
        ],
        className="g-3 mt-1",
    )
    return html.Div([buttons, sliders])


def _process_pane() -> html.Div:
    cards = [
        dbc.Col(
            html.Div(
                [
                    html.Div(title, className="trainer-phase-title"),
                    html.Div(text, className="trainer-phase-text"),
                ],
                id=f"trainer-phase-{key}",
                className="trainer-phase",
            ),
            md=4,
        )
        for key, title, text in PHASES
    ]
    return dbc.Row(cards, className="g-2 mt-2", id="trainer-process")


def layout(**_query: str) -> html.Div:
    """The trainer page (defaults shown until the session's state arrives)."""
    settings = trainer.Settings()
    stores = [
        dcc.Store(id="trainer-session", storage_type="session"),
        dcc.Store(id="trainer-result"),
        dcc.Store(id="trainer-request", data=0),
        dcc.Store(id="trainer-anim", data={"done": True}),
        dcc.Store(id="trainer-playing", data=False),
        dcc.Store(id="trainer-selected-layer", data=None),
        dcc.Store(id="cell-refresh"),  # the epoch to show again in an open cell view
        dcc.Interval(id="trainer-clock", interval=80, disabled=True),
    ]
    return html.Div(
        [
            *stores,
            html.Div(
                [
                    html.H3("Trainer", className="mb-0"),
                    html.Span(
                        "Train a recurrent network live and watch how it learns to continue a sequence.",
                        className="text-muted ms-3 d-none d-md-inline",
                    ),
                ],
                className="d-flex align-items-baseline mb-2",
            ),
            dbc.Alert(id="trainer-notice", is_open=False, color="info", dismissable=True, duration=6000),
            dbc.Row(
                [
                    dbc.Col(_input_column(settings), xl=2, lg=12, className="mb-3"),
                    dbc.Col(_network_column(settings), xl=5, lg=6, className="mb-3"),
                    dbc.Col(_prediction_column(), xl=5, lg=6, className="mb-3"),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Training",
                            "trainer-info-process",
                            INFO["process"],
                            [_controls(settings), _process_pane()],
                        ),
                        lg=7,
                        className="mb-3",
                    ),
                    dbc.Col(
                        _card(
                            "Loss",
                            "trainer-info-loss",
                            INFO["loss"],
                            [
                                dcc.Graph(
                                    id="loss-graph",
                                    figure=figs.loss_figure([], []),
                                    config={"displayModeBar": False, "responsive": True},
                                    className="trainer-loss-graph",
                                    style={"height": "260px"},
                                )
                            ],
                        ),
                        lg=5,
                        className="mb-3",
                    ),
                ],
                className="g-3",
            ),
            html.Div(id="cell-view-container"),
        ],
        className="trainer-page",
    )


# ---------------------------------------------------------------- server callbacks


@callback(
    Output("trainer-session", "data"),
    Input("trainer-result", "id"),
    State("trainer-session", "data"),
)
def init_session(_page: str, sid: str | None) -> str:
    """Give this browser tab a session id (kept in sessionStorage)."""
    return sid if isinstance(sid, str) and sid else uuid.uuid4().hex


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


def _views(state: trainer.TrainerState, notice: str, animate: bool) -> tuple:
    s = state.settings
    return (
        figs.network_diagram(s.layers, s.cell, s.data),
        result_payload(state, animate),
        figs.loss_figure(state.train_loss, state.val_loss, text=state.is_text),
        str(state.epoch),
        notice,
        bool(notice),
        f"{s.layers} layer{'s' if s.layers > 1 else ''} × 16 units · {trainer.CELL_LABELS[s.cell]}",
    )


def _clicked(value: Any) -> bool:
    """A pattern-matched click that really happened (not a freshly rendered button)."""
    return bool(value)


def handle(
    trigger: Any,
    sid: str,
    data: str,
    cell: str,
    lr_log: float | None,
    batch: int | None,
    noise: float | None,
    fast: bool = False,
) -> tuple[trainer.TrainerState, str, bool]:
    """Apply one user action to the session's state; returns ``(state, notice, animate)``.

    ``trigger`` is the id of what changed: a control id, ``"trainer-session"``
    (page load), ``"trainer-request"`` (a play tick), ``"step-button"``, or a
    pattern id dict for an inserted/removed layer.
    """
    knobs = {
        "learning_rate": _slider_lr(lr_log),
        "batch_size": int(batch or 25),
        "noise": float(noise or 0.0),
    }
    with trainer.session_lock(sid):
        state = trainer.load_session(sid)
        if state is None:
            state = trainer.new_state(sid, trainer.Settings(data=data, cell=cell, **knobs))
        notice = ""
        layers = state.settings.layers
        if trigger == "reset-button":
            state = trainer.new_state(sid, state.settings)
            notice = "Training was reset."
        elif trigger in ("add-layer",) or (
            isinstance(trigger, dict) and trigger.get("type") == "trainer-insert-layer"
        ):
            if layers >= trainer.MAX_LAYERS:
                notice = f"At most {trainer.MAX_LAYERS} layers."
            else:
                state, _ = trainer.update_settings(state, layers=layers + 1)
        elif isinstance(trigger, dict) and trigger.get("type") == "trainer-remove-layer":
            state, _ = trainer.update_settings(state, layers=layers - 1)
        else:
            state, _ = trainer.update_settings(state, data=data, cell=cell, **knobs)
        notice = notice or state.notice
        animate = False
        if trigger in ("step-button", "trainer-request"):
            state = trainer.train_epoch(state)
            if trigger == "trainer-request" and fast:
                started = time.perf_counter()
                for _ in range(FAST_MAX_EPOCHS - 1):
                    if time.perf_counter() - started > FAST_BUDGET_S:
                        break
                    state = trainer.train_epoch(state)
            animate = trigger == "trainer-request" and not fast
        state = replace(state, notice="")
        trainer.save_session(state)
    return state, notice, animate


@callback(
    Output("network-diagram", "children"),
    Output("trainer-result", "data"),
    Output("loss-graph", "figure"),
    Output("epoch-counter", "children"),
    Output("trainer-notice", "children"),
    Output("trainer-notice", "is_open"),
    Output("trainer-layer-count", "children"),
    Output("trainer-selected-layer", "data", allow_duplicate=True),
    Input("trainer-session", "data"),
    Input("trainer-input-select", "value"),
    Input("cell-type", "value"),
    Input("add-layer", "n_clicks"),
    Input({"type": "trainer-insert-layer", "index": ALL}, "n_clicks"),
    Input({"type": "trainer-remove-layer", "index": ALL}, "n_clicks"),
    Input("reset-button", "n_clicks"),
    Input("step-button", "n_clicks"),
    Input("trainer-request", "data"),
    State("learning-rate", "value"),
    State("batch-size", "value"),
    State("noise", "value"),
    State("trainer-fast", "value"),
    prevent_initial_call=True,
)
def update_trainer(sid, data, cell, _add, inserts, removes, _reset, _step, _request, lr, batch, noise, fast):
    """Every server-side action of the page: load, settings, layers, reset, step, play tick."""
    if not sid:
        return (no_update,) * 8
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and not _clicked(ctx.triggered[0]["value"]):
        return (no_update,) * 8
    if trigger == "trainer-request" and not _request:
        return (no_update,) * 8
    state, notice, animate = handle(trigger, sid, data, cell, lr, batch, noise, bool(fast))
    structural = trigger not in ("step-button", "trainer-request")
    views = _views(state, notice, animate)
    return (
        views[0] if structural else no_update,
        *views[1:],
        None if structural else no_update,
    )


@callback(
    Output("network-diagram", "children", allow_duplicate=True),
    Output("trainer-result", "data", allow_duplicate=True),
    Output("loss-graph", "figure", allow_duplicate=True),
    Output("epoch-counter", "children", allow_duplicate=True),
    Output("trainer-notice", "children", allow_duplicate=True),
    Output("trainer-notice", "is_open", allow_duplicate=True),
    Output("trainer-layer-count", "children", allow_duplicate=True),
    Output("trainer-selected-layer", "data", allow_duplicate=True),
    Output("learning-rate", "value"),
    Output("batch-size", "value"),
    Output("noise", "value"),
    Output("trainer-input-select", "value"),
    Output("cell-type", "value"),
    Output("trainer-example", "value"),
    Input("trainer-example", "value"),
    Input("trainer-session", "data"),
    prevent_initial_call=True,
)
def load_example(name: str | None, sid: str | None):
    """Load a pretrained example model into this session and show it (a pick made before the
    page has its session id is loaded as soon as it has one)."""
    if not name or not sid or name not in trainer.EXAMPLES:
        return (no_update,) * 14
    state = trainer.load_example(sid, name)
    s = state.settings
    views = _views(state, state.notice, animate=False)
    return (*views, None, _lr_to_slider(s.learning_rate), s.batch_size, s.noise, s.data, s.cell, None)


@callback(
    Output("trainer-selected-layer", "data"),
    Input({"type": "trainer-layer", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def select_layer(clicks: list[int | None]):
    """Clicking a layer selects it (0-based index) for the cell view."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks):
        return no_update
    if not ctx.triggered[0]["value"]:
        return no_update
    return int(trigger["index"])


@callback(
    Output("trainer-lr-value", "children"),
    Output("trainer-batch-value", "children"),
    Output("trainer-noise-value", "children"),
    Output("trainer-noise-col", "style"),
    Input("learning-rate", "value"),
    Input("batch-size", "value"),
    Input("noise", "value"),
    Input("trainer-input-select", "value"),
)
def slider_labels(lr, batch, noise, data):
    """Readable slider values; noise hidden for text (it does not apply there)."""
    text = isinstance(data, str) and data.startswith("text")
    return f"{_slider_lr(lr):.4g}", str(batch), f"± {noise or 0:.2f}", {"display": "none"} if text else {}


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
