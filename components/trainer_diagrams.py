"""HTML builders for the trainer page: input-choice thumbnails and the network diagram.

Re-exported by :mod:`components.trainer_figures` (the page's figures and diagrams).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import numpy as np
from dash import html

from components.ids import trainer as ids
from model import signals

BLUE = "#2196f3"
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "RNN"}


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
            id={"type": ids.TRAINER_INSERT_LAYER, "index": index},
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
            id={"type": ids.TRAINER_REMOVE_LAYER, "index": index},
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
                id={"type": ids.TRAINER_LAYER, "index": index},
                className=classes,
                title=f"{CELL_LABELS.get(cell, cell)} layer {index + 1}: click for the cell view",
            ),
            remove,
        ],
        className="net-layer-wrap",
        style={"--i": str(index + 1), "--n": str(layers + 1)},
    )


def _caption(lines: Sequence[str]) -> html.Span:
    """A node's caption, one short line each (kept inside the circle)."""
    children: list[Any] = []
    for k, line in enumerate(lines):
        children += [html.Br()] if k else []
        children.append(line)
    return html.Span(children, className="net-node-caption")


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
                _caption(("one-hot", str(features)) if text else ("1 value",)),
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
                _caption(("softmax", str(features)) if text else ("tanh 1",)),
            ],
            className="net-node net-output",
            title="dense output layer: the prediction of the next value",
            style={"--i": str(layers + 1)},
        )
    )
    return html.Div(parts, className="rnn-net", **{"data-layers": str(layers)})
