"""Pure figure and diagram builders for the trainer page (data in, components/figures out).

Trace ``meta`` tags (``input``, ``truth``, ``target``, ``prediction``,
``errors``) and the ``window`` shape name let ``assets/trainer.js`` animate a
figure the server built, without knowing how it was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from components.trainer_diagrams import (
    CELL_LABELS,
    function_thumbnail_svg,
    input_option_label,
    input_options,
    network_diagram,
    svg_data_uri,
)
from model import signals

__all__ = [  # the HTML builders live in trainer_diagrams; the page imports them from here
    "CELL_LABELS",
    "function_thumbnail_svg",
    "input_option_label",
    "input_options",
    "loss_figure",
    "network_diagram",
    "placeholder_figure",
    "prediction_figure",
    "svg_data_uri",
]

BLUE = "#2196f3"
INK = "#37474f"
GREY = "#9e9e9e"
ERROR = "#e53935"
RIGHT = "#2e7d32"
VALIDATION = "#607d8b"
FONT = dict(family="Lato, -apple-system, 'Segoe UI', Roboto, sans-serif", size=12, color=INK)
# Text mode: the rows' names sit in the left margin, which must hold the longest one.
TEXT_ROWS = {"text": 2.0, "predicted": 1.0}
ROW_FONT = 12
TEXT_MARGIN = 88
CHAR_SIZE = 20
PREDICTED_SIZE = 24


# ---------------------------------------------------------------- prediction plot
# Figures are plain plotly dicts: building go.Figure objects costs ~0.3 s a figure
# (validation and template copies), longer than the epoch they show.

AXIS = dict(gridcolor="#eef1f4", zerolinecolor="#e0e0e0", linecolor="#cfd8dc", showline=True, fixedrange=True)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = dict(
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=40, r=12, t=36, b=36),
        title=dict(text=title, x=0.01, font=dict(size=13)),
        legend=dict(orientation="h", yanchor="bottom", y=-0.32, x=0, font=dict(size=11)),
        uirevision="trainer",
        hovermode="closest",
    )
    layout.update(extra)
    return layout


def _scatter(x: list, y: list, name: str, meta: str, **style: Any) -> dict[str, Any]:
    return dict(type="scatter", x=x, y=y, name=name, meta=meta, **style)


def placeholder_figure(message: str) -> dict[str, Any]:
    """An empty plot with a centred message (while the first result is on its way)."""
    hidden = dict(visible=False, fixedrange=True)
    return {
        "data": [],
        "layout": _layout("", xaxis=hidden, yaxis=hidden, annotations=[_centred_note(message)]),
    }


def _centred_note(message: str) -> dict[str, Any]:
    """A grey message in the middle of an empty plot."""
    return dict(
        text=message,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font=dict(color=GREY, size=13),
    )


def prediction_figure(test: dict[str, Any], data: str, epoch: int) -> dict[str, Any]:
    """The test window and its autoregressive prediction (functions) or characters (text)."""
    if signals.is_text(data):
        return text_prediction_figure(test, epoch)
    return function_prediction_figure(test, epoch)


def function_prediction_figure(test: dict[str, Any], epoch: int) -> dict[str, Any]:
    """Input (dark), ground truth (thin grey), prediction (blue), input window (grey), error lines."""
    x = np.asarray(test["x"], dtype=float)
    inputs = np.asarray(test["inputs"], dtype=float)
    targets = np.asarray(test["targets"], dtype=float)
    n_in = len(inputs)
    truth = np.concatenate([np.asarray(test.get("clean_inputs", inputs), dtype=float), targets])
    traces = [
        _scatter(
            x.tolist(),
            truth.tolist(),
            "ground truth",
            "truth",
            mode="lines",
            line=dict(color=GREY, width=1.2),
            hoverinfo="skip",
        ),
        _scatter(
            x[:n_in].tolist(),
            inputs.tolist(),
            "input",
            "input",
            mode="lines+markers",
            line=dict(color=INK, width=2),
            marker=dict(size=5),
        ),
    ]
    if "predictions" in test:
        preds = np.asarray(test["predictions"], dtype=float)
        xs = x[n_in : n_in + len(preds)]
        err_x: list[float | None] = []
        err_y: list[float | None] = []
        for xi, target, pred in zip(xs.tolist(), targets.tolist(), preds.tolist(), strict=False):
            err_x += [xi, xi, None]
            err_y += [target, pred, None]
        traces += [
            _scatter(
                err_x,
                err_y,
                "error",
                "errors",
                mode="lines",
                line=dict(color=ERROR, width=1.5),
                hoverinfo="skip",
            ),
            _scatter(
                xs.tolist(),
                preds.tolist(),
                "prediction",
                "prediction",
                mode="lines+markers",
                line=dict(color=BLUE, width=2.5),
                marker=dict(size=6),
            ),
        ]
    half = float(x[1] - x[0]) / 2 if len(x) > 1 else 0.1
    edge = float(x[n_in - 1]) + half
    shapes = [
        dict(
            type="rect",
            name="window",
            x0=float(x[0]) - half,
            x1=edge,
            y0=-1.45,
            y1=1.45,
            fillcolor="rgba(120,120,120,0.12)",
            line=dict(width=0),
            layer="below",
        ),
        dict(
            type="line",
            name="now",
            x0=edge,
            x1=edge,
            y0=0,
            y1=1,
            yref="paper",
            line=dict(color=GREY, width=1, dash="dot"),
        ),
    ]
    title = f"Prediction after epoch {epoch}" if epoch else "Prediction of the untrained network"
    layout = _layout(
        title,
        shapes=shapes,
        xaxis=dict(AXIS, title=dict(text="x", standoff=4), range=[float(x[0]) - 0.3, float(x[-1]) + 0.3]),
        yaxis=dict(AXIS, range=[-1.5, 1.5], zeroline=True),
    )
    return {"data": traces, "layout": layout}


def _tile(x: float, y: float, right: bool) -> dict[str, Any]:
    """A tinted tile under a predicted character: green if right, red if wrong."""
    rgb = "46,125,50" if right else "229,57,53"
    box = dict(x0=x - 0.46, x1=x + 0.46, y0=y - 0.34, y1=y + 0.34)
    return dict(
        type="rect",
        name="predicted-tile",
        layer="below",
        fillcolor=f"rgba({rgb},0.1)",
        **box,
        line=dict(width=1, color=f"rgba({rgb},0.45)"),
    )


def text_prediction_figure(test: dict[str, Any], epoch: int) -> dict[str, Any]:
    """Input characters, target characters and predicted characters (green right, red wrong)."""
    inputs = test["input_text"]
    target = test["target_text"]
    predicted = test.get("predicted_text", "")
    n_in = len(inputs)

    def row(
        chars: str, start: int, y: float, color: Any, name: str, meta: str, size: int = CHAR_SIZE
    ) -> dict:
        shown = [signals.display_char(c) for c in chars]
        return _scatter(
            list(range(start, start + len(chars))),
            [y] * len(chars),
            name,
            meta,
            mode="text",
            text=shown,
            textfont=dict(
                family="Menlo, Consolas, monospace",
                size=size,
                color=color,
                weight=700 if size > CHAR_SIZE else 400,
            ),
            hoverinfo="text",
            hovertext=[f"{name}: {c}" for c in shown],
        )

    text_y, predicted_y = TEXT_ROWS["text"], TEXT_ROWS["predicted"]
    traces = [
        row(inputs, 0, text_y, INK, "input", "input"),
        row(target, n_in, text_y, GREY, "target", "target"),
    ]
    right = 0
    shapes = []
    if predicted:
        colors = [RIGHT if p == t else ERROR for p, t in zip(predicted, target, strict=False)]
        right = colors.count(RIGHT)
        traces.append(
            row(predicted, n_in, predicted_y, colors, "prediction", "prediction", size=PREDICTED_SIZE)
        )
        shapes += [_tile(n_in + k, predicted_y, c == RIGHT) for k, c in enumerate(colors)]
    shapes += [
        dict(
            type="rect",
            name="window",
            x0=-0.5,
            x1=n_in - 0.5,
            y0=1.55,
            y1=2.45,
            fillcolor="rgba(120,120,120,0.12)",
            line=dict(width=0),
            layer="below",
        )
    ]
    annotations = [
        dict(
            x=n_in + 2,
            y=0.35,
            showarrow=False,
            font=dict(size=12, color=INK),
            text=f"{right} of {len(target)} right" if predicted else "",
        )
    ]
    title = f"Next characters after epoch {epoch}" if epoch else "Next characters, untrained network"
    layout = _layout(
        title,
        showlegend=False,
        shapes=shapes,
        annotations=annotations,
        margin=dict(l=TEXT_MARGIN, r=12, t=36, b=24),
        xaxis=dict(visible=False, range=[-1, n_in + len(target) + 0.5], fixedrange=True),
        yaxis=dict(
            range=[0, 2.8],
            tickvals=list(TEXT_ROWS.values()),
            ticktext=list(TEXT_ROWS),
            tickfont=dict(size=ROW_FONT, color="#607d8b"),
            ticks="",
            ticklabelstandoff=6,
            automargin=True,
            showgrid=False,
            zeroline=False,
            fixedrange=True,
        ),
    )
    return {"data": traces, "layout": layout}


# ---------------------------------------------------------------- loss chart


def loss_figure(train_loss: Sequence[float], val_loss: Sequence[float], text: bool = False) -> dict[str, Any]:
    """Training and validation loss per epoch on a log axis."""
    epochs = list(range(1, len(train_loss) + 1))
    traces = [
        _scatter(
            epochs,
            [float(v) for v in train_loss],
            "training",
            "train",
            mode="lines+markers",
            line=dict(color=BLUE, width=2),
            marker=dict(size=4),
        ),
        _scatter(
            epochs,
            [float(v) for v in val_loss],
            "validation",
            "validation",
            mode="lines+markers",
            line=dict(color=VALIDATION, width=2, dash="dot"),
            marker=dict(size=4),
        ),
    ]
    yaxis = dict(
        AXIS,
        type="log",
        title=dict(text="cross-entropy" if text else "mean squared error", standoff=4),
        exponentformat="power",
    )
    annotations = []
    if not epochs:
        yaxis["range"] = [-3, 0]
        annotations.append(_centred_note("Train an epoch to see the loss"))
    layout = _layout(
        "Loss per epoch",
        margin=dict(l=56, r=12, t=36, b=36),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom", font=dict(size=11)),
        uirevision=None,
        annotations=annotations,
        xaxis=dict(
            AXIS, title=dict(text="epoch", standoff=4), range=[0, max(5, len(epochs)) + 0.5], tickformat="d"
        ),
        yaxis=yaxis,
    )
    return {"data": traces, "layout": layout}
