"""The cell view: one recurrent layer opened up (layout and payload; figures in cell_view_figures).

``assets/cellview.js`` lights the active parts in orange and fills the strips
with the real values of each frame, from the payload built by :func:`payload`.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from components import explanations as ex
from components.cell_view_figures import (
    DATA_HEIGHT,
    DIAGRAM_HEIGHT,
    GRADIENT_HEIGHT,
    cell_figure,
    data_figure,
    gradient_figure,
    set_strip_widths,
    strip_edges,
)
from components.cell_view_geometry import CELL_TITLES, SUBSTEP_TITLES, Edge, diagram, substep_parts
from components.ids import trainer as ids
from model import celltrace, signals

__all__ = [
    "CELL_TITLES",
    "SUBSTEP_TITLES",
    "cell_figure",
    "cell_view_layout",
    "data_figure",
    "diagram",
    "gradient_figure",
    "payload",
    "set_strip_widths",
    "strip_edges",
    "substep_parts",
]

# The step-through's phases in order: the window forward, its error, back through time, then the
# autoregressive prediction past the window (its own pill; see assets/cellview.js).
PHASE_LABELS = {"forward": "Forward", "error": "Error", "backward": "Backward", "predict": "Predict ahead"}


def payload(
    trace: dict[str, Any], layer: int, frames: list[dict[str, Any]], data: dict[str, Any]
) -> dict[str, Any]:
    """Everything the browser needs to animate one layer (JSON; some tens of kB).

    When the trace holds the rollout past the window (``celltrace.trace_model``
    adds it), its steps follow the window's in ``values`` (steps + predicted
    rows) and the predict-ahead frames are appended to ``frames`` if missing.
    """
    info = trace["layers"][layer]
    cell_type = info["cell_type"]
    nodes, strips, edges = diagram(cell_type)
    steps = info["steps"]
    rollout = info.get("rollout") or {}
    predicted = len(rollout.get("a", []))
    if predicted and not any(f["phase"] == "predict" for f in frames):
        frames = [*frames, *(f for f in celltrace.frames(steps, predicted) if f["phase"] == "predict")]
    values = {
        part: np.round(np.asarray(rows + rollout.get(part, []), dtype=float), 4).tolist()
        for part, rows in info["values"].items()
    }
    return {
        "cell_type": cell_type,
        "layer": layer,
        "n_layers": len(trace["layers"]),
        "steps": steps,
        "predicted": predicted,
        "ahead": _ahead(trace, data) if predicted else [],
        "values": values,
        "grad_a": info["grad_a"],
        "grad_c": info["grad_c"],
        "grad_norm": info["grad_norm"],
        "check_error": info["check_error"],
        "frames": frames,
        "substeps": substep_parts(cell_type),
        "node_sub": {n.key: n.sub for n in nodes},
        "edge_sub": {e.key: e.sub for e in edges},
        "arrows": {e.key: [e.x0, e.y0, e.x1, e.y1] if isinstance(e, Edge) else list(e.arrow) for e in edges},
        "substep_titles": list(SUBSTEP_TITLES),
        "data": data,
    }


def _ahead(trace: dict[str, Any], data: dict[str, Any]) -> list[Any]:
    """Predictions 1..predicted+1 of the rollout: values (functions) or characters (text)."""
    predictions = np.asarray(trace.get("rollout_predictions") or [], dtype=float)
    if data.get("kind") != "text":
        return [round(float(p[0]), 5) for p in predictions]
    vocab = data.get("vocab") or _window_vocabulary(trace, data) or []
    picks = [int(np.argmax(p)) for p in predictions]
    return [signals.display_char(vocab[k]) if k < len(vocab) else "?" for k in picks]


def _window_vocabulary(trace: dict[str, Any], data: dict[str, Any]) -> list[str] | None:
    """The text vocabulary whose one-hot code matches the window's characters (if one does)."""
    onehot = np.asarray(trace["layers"][0]["values"]["x"])
    inputs = data.get("inputs") or []
    for key in signals.TEXTS:
        vocab = signals.vocabulary(key)
        fits = len(vocab) == onehot.shape[-1] and len(inputs) == len(onehot)
        if fits and all(vocab[int(np.argmax(row))] == c for row, c in zip(onehot, inputs, strict=True)):
            return vocab
    return None


def _substep_pane() -> html.Div:
    items = []
    for k, (title, key) in enumerate(zip(SUBSTEP_TITLES, ex.SUBSTEP_KEYS, strict=True)):
        items.append(
            html.Li(
                [
                    html.Span(f"{k + 1}", className="cell-sub-num"),
                    html.Span(title),
                    ex.info(key, ids.INFO_CELL_SUBS[k]),
                ],
                id=ids.CELL_SUBS[k],
                className="cell-sub",
            )
        )
    phases = [
        html.Span(
            [
                html.Span(label, id=ids.CELL_PHASE_LABELS[p], className="cell-phase-label"),
                ex.info(ex.PHASE_KEYS.get(p, "prediction"), ids.INFO_CELL_PHASES[p]),
            ],
            className="me-2 d-inline-flex align-items-center",
        )
        for p, label in PHASE_LABELS.items()
    ]
    return html.Div(
        [
            html.Div(phases, className="d-flex flex-wrap"),
            html.Ol(items, className="cell-subs"),
            html.Div(id=ids.CELL_SUBSTEP_LABEL, className="cell-status"),
        ],
        className="cell-process",
    )


def _controls() -> html.Div:
    return html.Div(
        [
            dbc.ButtonGroup(
                [
                    dbc.Button(
                        html.I(className="bi bi-play-fill"),
                        id=ids.CELL_PLAY,
                        color="warning",
                        outline=True,
                        title="Play / pause",
                        n_clicks=0,
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-skip-end-fill"), " Next sub-step"],
                        id=ids.CELL_STEP_BUTTON,
                        color="warning",
                        n_clicks=0,
                    ),
                ],
                className="me-3",
            ),
            html.Div(
                [
                    html.Small("Jump to", className="text-muted me-2"),
                    dbc.RadioItems(
                        id=ids.CELL_PHASE,
                        options=[{"label": p.capitalize(), "value": p} for p in PHASE_LABELS],
                        value="forward",
                        inline=True,
                        className="btn-group cell-phase-group",
                        inputClassName="btn-check",
                        labelClassName="btn btn-sm btn-outline-warning",
                        labelCheckedClassName="active",
                    ),
                ],
                className="d-flex align-items-center me-3",
            ),
            html.Div(
                [
                    html.Small("Speed", className="text-muted me-2"),
                    html.Div(
                        dcc.Slider(
                            id=ids.CELL_SPEED,
                            min=-1,
                            max=3,
                            step=1,
                            value=0,
                            marks={i: f"{2.0**i:g}×" for i in range(-1, 4)},
                        ),
                        style={"width": "210px"},
                    ),
                ],
                className="d-flex align-items-center",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-2 cell-controls",
    )


def cell_view_layout() -> html.Div:
    """The cell view panel (hidden until a layer is opened); ids are the issue's contract."""
    return html.Div(
        [
            html.Div(id=ids.CELL_BACKDROP, className="cell-backdrop", n_clicks=0),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Button(
                                [html.I(className="bi bi-arrow-left"), " Network overview"],
                                id=ids.CELL_BACK,
                                color="link",
                                size="sm",
                                className="cell-back",
                                n_clicks=0,
                            ),
                            html.H5(
                                ["Cell view", ex.info("cell", ids.INFO_CELL_HEADING)],
                                id=ids.CELL_HEADING,
                                className="d-flex align-items-center mb-0 ms-2",
                            ),
                            html.Small(id=ids.CELL_CHECK, className="text-muted ms-auto"),
                        ],
                        className="d-flex align-items-center mb-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dcc.Loading(
                                    dcc.Graph(
                                        id=ids.CELL_DIAGRAM,
                                        figure=cell_figure("lstm", 0, 1),
                                        config={"displayModeBar": False, "responsive": True},
                                        # its own height in the page: the row is as tall as the
                                        # diagram, whatever the charts beside it measure
                                        style={"height": f"{DIAGRAM_HEIGHT}px"},
                                        className="cell-graph",
                                    ),
                                    type="circle",
                                    color="#ff9800",
                                    delay_show=300,
                                ),
                                lg=8,
                            ),
                            dbc.Col(
                                [
                                    html.Div(
                                        ["Network data", ex.info("network_data", ids.INFO_CELL_NETWORK_DATA)],
                                        className="d-flex align-items-center small fw-semibold",
                                    ),
                                    dcc.Graph(
                                        id=ids.CELL_DATA_GRAPH,
                                        figure=data_figure(),
                                        config={"displayModeBar": False},
                                        style={"height": f"{DATA_HEIGHT}px"},
                                        className="cell-graph",
                                    ),
                                    html.Div(
                                        [
                                            "Gradient per time step",
                                            ex.info("gradient_norm", ids.INFO_CELL_GRADIENT),
                                        ],
                                        className="d-flex align-items-center small fw-semibold",
                                    ),
                                    dcc.Graph(
                                        id=ids.CELL_GRAD_GRAPH,
                                        figure=gradient_figure(15),
                                        config={"displayModeBar": False},
                                        style={"height": f"{GRADIENT_HEIGHT}px"},
                                        className="cell-graph",
                                    ),
                                ],
                                lg=4,
                            ),
                        ],
                        className="g-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(_substep_pane(), lg=5),
                            dbc.Col(_controls(), lg=7, className="d-flex align-items-center"),
                        ],
                        className="g-2 mt-1",
                    ),
                    dbc.Modal(
                        [
                            dbc.ModalHeader(dbc.ModalTitle(id=ids.CELL_EXPLAIN_TITLE)),
                            dbc.ModalBody(dcc.Markdown(id=ids.CELL_EXPLAIN_BODY, mathjax=True)),
                        ],
                        id=ids.CELL_EXPLAIN,
                        is_open=False,
                        size="md",
                    ),
                    dcc.Store(id=ids.CELL_PAYLOAD),
                    dcc.Store(id=ids.CELL_POSITION, data=0),
                    dcc.Store(id=ids.CELL_FIGURE_READY),
                    dcc.Interval(id=ids.CELL_INTERVAL, interval=800, disabled=True),
                ],
                className="cell-panel",
            ),
        ],
        id=ids.CELL_VIEW,
        className="cell-view",
        hidden=True,
    )
