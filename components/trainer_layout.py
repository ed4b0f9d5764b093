"""The trainer page's layout: cards, controls, stores (the callbacks live in ``pages/trainer.py``)."""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import trainer_figures as figs
from components.info import heading, info_icon
from model import trainer

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


def lr_to_slider(lr: float) -> float:
    """The learning-rate slider's value (log10) for a learning rate."""
    return round(math.log10(lr), 3)


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
                        value=lr_to_slider(settings.learning_rate),
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


def page_layout(view: str) -> html.Div:
    """The trainer page (defaults shown until the session's state arrives).

    ``view`` is a fresh id per page view (``trainer-view``): the server counts the Step
    clicks it has trained per view, so a page reload (whose clicks count from 0 again)
    never replays old clicks.
    """
    settings = trainer.Settings()
    stores = [
        dcc.Store(id="trainer-session", storage_type="session"),
        dcc.Store(id="trainer-view", data=view),
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
