"""Pure figure and diagram builders for the trainer page (data in, components/figures out).

Trace ``meta`` tags (``input``, ``truth``, ``target``, ``prediction``,
``errors``) and the ``window`` shape name let ``assets/trainer.js`` animate a
figure the server built, without knowing how it was drawn.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import html

from model import signals

BLUE = "#2196f3"
INK = "#37474f"
GREY = "#9e9e9e"
ERROR = "#e53935"
RIGHT = "#2e7d32"
VALIDATION = "#607d8b"
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "RNN"}
FONT = dict(family="Lato, -apple-system, 'Segoe UI', Roboto, sans-serif", size=12, color=INK)


# ---------------------------------------------------------------- input thumbnails


def function_thumbnail_svg(key: str, width: int = 64, height: int = 30, samples: int = 96) -> str:
    """An SVG of exactly one period of a function (tiles seamlessly when scrolled)."""
    fn = signals.FUNCTIONS[key]
    x = np.linspace(0.0, fn.period, samples + 1)
    y = signals.function_values(key, x + 1e-9)
    px = x / fn.period * width
    py = height / 2 - y / 1.15 * (height / 2 - 3)
    points = " ".join(f"{a:.2f},{b:.2f}" for a, b in zip(px, py, strict=True))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><polyline points="{points}" fill="none" '
        f'stroke="{BLUE}" stroke-width="2" stroke-linejoin="round"/></svg>'
    )


def svg_data_uri(svg: str) -> str:
    """An SVG string as a CSS/HTML data URI."""
    return "data:image/svg+xml;utf8," + urllib.parse.quote(svg)


def input_option_label(key: str) -> html.Div:
    """The label of one input choice: a scrolling thumbnail (functions) or a text sample, and a name."""
    if key in signals.FUNCTIONS:
        thumb = html.Div(
            className="trainer-thumb",
            style={"backgroundImage": f'url("{svg_data_uri(function_thumbnail_svg(key))}")'},
            role="img",
            **{"aria-label": f"{signals.data_label(key)} curve"},
        )
    else:
        sample = "abababab" if key == "text-ab" else "lorem ipsum"
        thumb = html.Div(
            html.Span(sample, className="trainer-thumb-text-inner"), className="trainer-thumb text"
        )
    return html.Div([thumb, html.Span(signals.data_label(key), className="trainer-thumb-label")])


def input_options() -> list[dict[str, Any]]:
    """Options for the ``trainer-input-select`` radio group."""
    return [{"label": input_option_label(k), "value": k} for k in signals.DATA_KEYS]


# ---------------------------------------------------------------- network diagram


def _link(index: int, can_add: bool) -> html.Div:
    plus = (
        html.Button(
            "+",
            id={"type": "trainer-insert-layer", "index": index},
            className="net-plus",
            title="Add a layer here",
            **{"aria-label": "Add a layer"},
        )
        if can_add
        else None
    )
    return html.Div([html.Div(className="net-flow"), plus], className="net-link")


def _layer(index: int, layers: int, cell: str, selected: int | None) -> html.Div:
    classes = "net-layer trainer-layer" + (" selected" if selected == index else "")
    remove = (
        html.Button(
            "×",
            id={"type": "trainer-remove-layer", "index": index},
            className="net-remove",
            title="Remove this layer",
            **{"aria-label": f"Remove layer {index + 1}"},
        )
        if layers > 1
        else None
    )
    return html.Div(
        [
            html.Div(html.Div(className="net-loop-flow"), className="net-loop", title="recurrent connection"),
            html.Button(
                [
                    html.Span(CELL_LABELS.get(cell, cell), className="net-layer-cell"),
                    html.Span(str(index + 1), className="net-layer-index"),
                    html.Span("16 units", className="net-layer-units"),
                    html.Span("click for cell view", className="net-layer-hint"),
                ],
                id={"type": "trainer-layer", "index": index},
                className=classes,
                title=f"{CELL_LABELS.get(cell, cell)} layer {index + 1}: click for the cell view",
            ),
            remove,
        ],
        className="net-layer-wrap",
        style={"--i": str(index + 1), "--n": str(layers + 1)},
    )


def network_diagram(layers: int, cell: str, data: str, selected: int | None = None, max_layers: int = 7):
    """Input → ``layers`` recurrent layers (each with its loop) → dense output, as HTML.

    Layer buttons have ids ``{"type": "trainer-layer", "index": i}``; remove
    crosses ``trainer-remove-layer`` and the "+" between layers
    ``trainer-insert-layer`` (absent at ``max_layers``).
    """
    can_add = layers < max_layers
    text = signals.is_text(data)
    features = len(signals.vocabulary(data)) if text else 1
    parts: list[Any] = [
        html.Div(
            [
                html.Span("x", className="net-node-symbol"),
                html.Span(f"one-hot {features}" if text else "1 value", className="net-node-caption"),
            ],
            className="net-node net-input",
            title="input: one value (or one-hot character) per time step",
        ),
        _link(0, can_add),
    ]
    for i in range(layers):
        parts += [_layer(i, layers, cell, selected), _link(i + 1, can_add)]
    parts.append(
        html.Div(
            [
                html.Span("ŷ", className="net-node-symbol"),
                html.Span(f"softmax {features}" if text else "tanh 1", className="net-node-caption"),
            ],
            className="net-node net-output",
            title="dense output layer: the prediction of the next value",
            style={"--i": str(layers + 1)},
        )
    )
    return html.Div(parts, className="rnn-net", **{"data-layers": str(layers)})


# ---------------------------------------------------------------- prediction plot


def _base_layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        margin=dict(l=40, r=12, t=36, b=36),
        title=dict(text=title, x=0.01, font=dict(size=13)),
        legend=dict(orientation="h", yanchor="bottom", y=-0.32, x=0, font=dict(size=11)),
        uirevision="trainer",
        hovermode="closest",
    )
    return fig


def prediction_figure(test: dict[str, Any], data: str, epoch: int) -> go.Figure:
    """The test window and its autoregressive prediction (functions) or characters (text)."""
    if signals.is_text(data):
        return text_prediction_figure(test, epoch)
    return function_prediction_figure(test, epoch)


def function_prediction_figure(test: dict[str, Any], epoch: int) -> go.Figure:
    """Input (dark), ground truth (thin grey), prediction (blue), input window (grey), error lines."""
    x = np.asarray(test["x"], dtype=float)
    inputs = np.asarray(test["inputs"], dtype=float)
    targets = np.asarray(test["targets"], dtype=float)
    n_in = len(inputs)
    truth = np.concatenate([np.asarray(test.get("clean_inputs", inputs), dtype=float), targets])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x.tolist(),
            y=truth.tolist(),
            mode="lines",
            line=dict(color=GREY, width=1.2),
            name="ground truth",
            meta="truth",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x[:n_in].tolist(),
            y=inputs.tolist(),
            mode="lines+markers",
            line=dict(color=INK, width=2),
            marker=dict(size=5),
            name="input",
            meta="input",
        )
    )
    if "predictions" in test:
        preds = np.asarray(test["predictions"], dtype=float)
        xs = x[n_in : n_in + len(preds)]
        err_x = np.repeat(xs, 3).astype(object)
        err_y = (
            np.column_stack([targets[: len(preds)], preds, np.full(len(preds), np.nan)])
            .ravel()
            .astype(object)
        )
        err_x[2::3] = None
        err_y[2::3] = None
        fig.add_trace(
            go.Scatter(
                x=err_x,
                y=err_y,
                mode="lines",
                line=dict(color=ERROR, width=1.5),
                name="error",
                meta="errors",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=xs.tolist(),
                y=preds.tolist(),
                mode="lines+markers",
                line=dict(color=BLUE, width=2.5),
                marker=dict(size=6),
                name="prediction",
                meta="prediction",
            )
        )
    half = (x[1] - x[0]) / 2 if len(x) > 1 else 0.1
    fig.add_shape(
        type="rect",
        name="window",
        x0=float(x[0] - half),
        x1=float(x[n_in - 1] + half),
        y0=-1.45,
        y1=1.45,
        fillcolor="rgba(120,120,120,0.12)",
        line=dict(width=0),
        layer="below",
    )
    fig.add_vline(x=float(x[n_in - 1] + half), line=dict(color=GREY, width=1, dash="dot"))
    fig.update_yaxes(range=[-1.5, 1.5], zeroline=True, zerolinecolor="#e0e0e0", fixedrange=True)
    fig.update_xaxes(
        title=dict(text="x", standoff=4), fixedrange=True, range=[float(x[0]) - 0.3, float(x[-1]) + 0.3]
    )
    return _base_layout(
        fig, f"Prediction after epoch {epoch}" if epoch else "Prediction of the untrained network"
    )


def text_prediction_figure(test: dict[str, Any], epoch: int) -> go.Figure:
    """Input characters, target characters and predicted characters (green right, red wrong)."""
    inputs = test["input_text"]
    target = test["target_text"]
    predicted = test.get("predicted_text", "")
    n_in = len(inputs)
    fig = go.Figure()

    def row(chars: str, start: int, y: float, color: Any, name: str, meta: str, size: int = 20) -> None:
        fig.add_trace(
            go.Scatter(
                x=list(range(start, start + len(chars))),
                y=[y] * len(chars),
                mode="text",
                text=[signals.display_char(c) for c in chars],
                textfont=dict(family="Menlo, Consolas, monospace", size=size, color=color),
                name=name,
                meta=meta,
                hoverinfo="text",
                hovertext=[f"{name}: {signals.display_char(c)!r}" for c in chars],
            )
        )

    row(inputs, 0, 2, INK, "input", "input")
    row(target, n_in, 2, GREY, "target", "target")
    if predicted:
        colors = [RIGHT if p == t else ERROR for p, t in zip(predicted, target, strict=False)]
        row(predicted, n_in, 1, colors, "prediction", "prediction", size=22)
    fig.add_shape(
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
    right = sum(p == t for p, t in zip(predicted, target, strict=False))
    fig.add_annotation(
        x=n_in + 2,
        y=0.3,
        text=f"{right} of {len(target)} right" if predicted else "",
        showarrow=False,
        font=dict(size=12, color=INK),
    )
    fig.update_xaxes(visible=False, range=[-1, n_in + len(target) + 0.5], fixedrange=True)
    fig.update_yaxes(
        range=[0, 2.8],
        tickvals=[1, 2],
        ticktext=["predicted", "text"],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )
    fig = _base_layout(fig, f"Next characters after epoch {epoch}" if epoch else "Untrained network")
    fig.update_layout(showlegend=False)
    return fig


# ---------------------------------------------------------------- loss chart


def loss_figure(train_loss: Sequence[float], val_loss: Sequence[float], text: bool = False) -> go.Figure:
    """Training and validation loss per epoch on a log axis."""
    epochs = list(range(1, len(train_loss) + 1))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=list(train_loss),
            mode="lines+markers",
            name="training",
            line=dict(color=BLUE, width=2),
            marker=dict(size=4),
            meta="train",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=list(val_loss),
            mode="lines+markers",
            name="validation",
            line=dict(color=VALIDATION, width=2, dash="dot"),
            marker=dict(size=4),
            meta="validation",
        )
    )
    loss_name = "cross-entropy" if text else "mean squared error"
    fig.update_yaxes(type="log", title=dict(text=loss_name, standoff=4), exponentformat="power")
    fig.update_xaxes(
        title=dict(text="epoch", standoff=4),
        range=[0, max(5, len(epochs)) + 0.5],
        tickformat="d",
        autorangeoptions=dict(minallowed=0),
    )
    if not epochs:
        fig.add_annotation(
            text="Train an epoch to see the loss",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            font=dict(color=GREY, size=13),
        )
        fig.update_yaxes(range=[-3, 0])
    fig = _base_layout(fig, "Loss per epoch")
    fig.update_layout(
        margin=dict(l=56, r=12, t=36, b=36), legend=dict(y=1.02, x=1, xanchor="right"), uirevision=None
    )
    return fig
