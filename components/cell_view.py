"""The cell view: one recurrent layer opened up, drawn as a plotly figure (pure functions).

The diagram is static geometry (nodes, connections, loops, neighbour-layer
pictograms, a 16-cell heatmap strip per vector); ``assets/cellview.js`` lights
the active parts in orange and fills the strips with the real values of each
frame, from the payload built by :func:`payload`.  Which parts are active in
which sub-step is defined here (``SUBSTEP_PARTS``), so the browser only renders.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from components import explanations as ex

ORANGE = "#ff9800"
ORANGE_SOFT = "#ffe0b2"
IDLE = "#b0bec5"
INK = "#37474f"
X_RANGE = (-1.75, 11.75)
Y_RANGE = (-1.05, 6.75)
STRIP_WIDTH = 1.36
STRIP_HEIGHT = 0.2
SIGNED_SCALE = [[0.0, "#00838f"], [0.5, "#ffffff"], [1.0, "#ad1457"]]
GATE_SCALE = [[0.0, "#ffffff"], [1.0, "#37474f"]]
SUBSTEP_TITLES = (
    "Receive the layer input",
    "Compute the gate activations",
    "Update the cell state",
    "Output",
)
SPEEDS = (0.5, 1, 2, 4, 8)
STRIP_NAMES = {
    "x": "xₜ",
    "a_prev": "aₜ₋₁",
    "f": "forget fₜ",
    "i": "input iₜ",
    "g": "candidate",
    "o": "output oₜ",
    "c": "cell state",
    "a": "aₜ",
    "z": "update zₜ",
    "r": "reset rₜ",
}


class Node(NamedTuple):
    key: str
    x: float
    y: float
    symbol: str  # "circle" for operations and gates, "square" for the memory
    text: str  # inside the icon
    label: str  # under the icon
    explain: str  # explanation key
    sub: int  # forward sub-step in which it is computed


class Strip(NamedTuple):
    part: str  # key in the trace's values
    x: float  # centre
    y: float
    sub: int  # shown as this step's value from this sub-step on
    scale: str  # "gate" (0..1) or "signed"
    before: str | None  # the part shown before ``sub`` (e.g. c_{t-1})
    explain: str


class Edge(NamedTuple):
    key: str
    x0: float
    y0: float
    x1: float
    y1: float
    sub: int


class Path(NamedTuple):
    key: str
    d: str  # SVG path
    sub: int
    arrow: tuple[float, float, float, float]  # arrowhead annotation (x0, y0, x1, y1)


def _common_nodes() -> list[Node]:
    return [
        Node("x", 0.55, 2.75, "circle", "x", "xₜ", "layer_input", 0),
        Node("a_prev", 0.55, 0.45, "circle", "a", "aₜ₋₁", "recurrent_loop", 0),
        Node("in", 2.0, 1.5, "circle", "+", "layer input", "layer_input", 0),
    ]


def _common_edges(bus_end: float) -> list[Edge | Path]:
    return [
        Edge("neighbour_in", -0.45, 2.75, 0.25, 2.75, 0),
        Edge("x_in", 0.8, 2.5, 1.8, 1.72, 0),
        Edge("a_prev_in", 0.8, 0.65, 1.78, 1.32, 0),
        Path("bus", f"M 2.3,1.5 L {bus_end},1.5", 1, (bus_end - 0.01, 1.5, bus_end, 1.5)),
        Edge("out_neighbour", 9.7, 3.0, 10.45, 3.0, 3),
        Path("loop_a", "M 9.4,2.15 L 9.4,-0.55 L 0.55,-0.55 L 0.55,0.1", 3, (0.55, -0.1, 0.55, 0.14)),
    ]


def _gate_edges(xs: dict[str, float], top: float = 2.72) -> list[Edge]:
    return [Edge(f"bus_{key}", x, 1.5, x, top, 1) for key, x in xs.items()]


def _lstm() -> tuple[list[Node], list[Strip], list[Edge | Path]]:
    gx = {"f": 3.4, "i": 4.9, "g": 6.4, "o": 7.9}
    nodes = [
        *_common_nodes(),
        Node("f", gx["f"], 3.0, "circle", "f", "forget gate", "forget_gate", 1),
        Node("i", gx["i"], 3.0, "circle", "i", "input gate", "input_gate", 1),
        Node("g", gx["g"], 3.0, "circle", "c̃", "candidate", "candidate", 1),
        Node("o", gx["o"], 3.0, "circle", "o", "output gate", "output_gate", 1),
        Node("c", 4.9, 5.4, "square", "c", "cell state", "cell_state", 2),
        Node("a", 9.4, 3.0, "circle", "a", "output aₜ", "output_activation", 3),
    ]
    strips = [
        Strip("x", 0.55, 3.3, 0, "signed", None, "layer_input"),
        Strip("a_prev", 0.55, 1.0, 0, "signed", None, "recurrent_loop"),
        *[
            Strip(k, x, 3.62, 1, "gate" if k != "g" else "signed", None, n.explain)
            for (k, x), n in zip(gx.items(), nodes[3:7], strict=True)
        ],
        Strip("c", 6.45, 5.4, 2, "signed", "c_prev", "cell_state"),
        Strip("a", 9.4, 2.4, 3, "signed", None, "output_activation"),
    ]
    edges: list[Edge | Path] = [
        *_common_edges(gx["o"]),
        *_gate_edges(gx),
        Edge("f_c", 3.45, 3.85, 4.6, 5.12, 2),
        Edge("i_c", 4.9, 3.85, 4.9, 5.0, 2),
        Edge("g_c", 6.35, 3.85, 5.2, 5.12, 2),
        Path("loop_c", "M 4.62,5.78 C 4.2,6.65 5.6,6.65 5.18,5.78", 2, (5.24, 5.9, 5.18, 5.78)),
        Path("c_a", "M 7.2,5.4 L 9.4,5.4 L 9.4,3.95", 3, (9.4, 3.6, 9.4, 3.32)),
        Edge("o_a", 8.2, 3.0, 9.08, 3.0, 3),
    ]
    return nodes, strips, edges


def _gru() -> tuple[list[Node], list[Strip], list[Edge | Path]]:
    gx = {"z": 3.4, "r": 4.9, "g": 6.4}
    nodes = [
        *_common_nodes(),
        Node("z", gx["z"], 3.0, "circle", "z", "update gate", "update_gate", 1),
        Node("r", gx["r"], 3.0, "circle", "r", "reset gate", "reset_gate", 1),
        Node("g", gx["g"], 3.0, "circle", "ã", "candidate", "gru_candidate", 1),
        Node("mix", 4.9, 5.4, "square", "a", "state update", "gru_state", 2),
        Node("a", 9.4, 3.0, "circle", "a", "output aₜ", "output_activation", 3),
    ]
    strips = [
        Strip("x", 0.55, 3.3, 0, "signed", None, "layer_input"),
        Strip("a_prev", 0.55, 1.0, 0, "signed", None, "recurrent_loop"),
        Strip("z", gx["z"], 3.62, 1, "gate", None, "update_gate"),
        Strip("r", gx["r"], 3.62, 1, "gate", None, "reset_gate"),
        Strip("g", gx["g"], 3.62, 1, "signed", None, "gru_candidate"),
        Strip("a", 6.45, 5.4, 2, "signed", "a_prev", "gru_state"),
    ]
    edges: list[Edge | Path] = [
        *_common_edges(gx["g"]),
        *_gate_edges(gx),
        Edge("r_g", 5.2, 3.0, 6.08, 3.0, 1),
        Edge("z_mix", 3.45, 3.85, 4.6, 5.12, 2),
        Edge("g_mix", 6.35, 3.85, 5.2, 5.12, 2),
        Path("mix_a", "M 7.2,5.4 L 9.4,5.4 L 9.4,3.95", 3, (9.4, 3.6, 9.4, 3.32)),
    ]
    return nodes, strips, edges


def _simplernn() -> tuple[list[Node], list[Strip], list[Edge | Path]]:
    nodes = [
        *_common_nodes(),
        Node("tanh", 5.6, 3.0, "circle", "tanh", "activation", "simple_activation", 1),
        Node("a", 9.4, 3.0, "circle", "a", "output aₜ", "output_activation", 2),
    ]
    strips = [
        Strip("x", 0.55, 3.3, 0, "signed", None, "layer_input"),
        Strip("a_prev", 0.55, 1.0, 0, "signed", None, "recurrent_loop"),
        Strip("a", 5.6, 3.62, 1, "signed", None, "simple_activation"),
    ]
    edges: list[Edge | Path] = [
        *_common_edges(5.6),
        *_gate_edges({"tanh": 5.6}),
        Edge("tanh_a", 5.95, 3.0, 9.08, 3.0, 2),
    ]
    return nodes, strips, edges


DIAGRAMS = {"lstm": _lstm, "gru": _gru, "simplernn": _simplernn}
CELL_TITLES = {"lstm": "LSTM cell", "gru": "GRU cell", "simplernn": "SimpleRNN cell"}


def diagram(cell_type: str) -> tuple[list[Node], list[Strip], list[Edge | Path]]:
    """Nodes, strips and connections of a cell type's diagram."""
    return DIAGRAMS[cell_type]()


def substep_parts(cell_type: str) -> list[dict[str, list[str]]]:
    """For each forward sub-step 0..3, the node and connection keys that light up."""
    nodes, _, edges = diagram(cell_type)
    return [
        {"nodes": [n.key for n in nodes if n.sub == sub], "edges": [e.key for e in edges if e.sub == sub]}
        for sub in range(4)
    ]


def _arrow(x0: float, y0: float, x1: float, y1: float, key: str, head: bool = True) -> dict[str, Any]:
    return {
        "x": x1,
        "y": y1,
        "ax": x0,
        "ay": y0,
        "xref": "x",
        "yref": "y",
        "axref": "x",
        "ayref": "y",
        "showarrow": True,
        "arrowhead": 2 if head else 0,
        "arrowsize": 1.1,
        "arrowwidth": 1.6,
        "arrowcolor": IDLE,
        "text": "",
        "name": key,
    }


def _neighbour(x0: float, label: str, key: str) -> list[dict[str, Any]]:
    """A small pictogram of the neighbouring layer (box with its loop)."""
    line = {"color": "#90a4ae", "width": 1.2}
    return [
        {
            "type": "rect",
            "x0": x0,
            "x1": x0 + 1.0,
            "y0": 2.35,
            "y1": 3.65,
            "line": line,
            "fillcolor": "#eceff1",
            "layer": "below",
            "name": f"{key}_box",
        },
        {
            "type": "path",
            "path": f"M {x0 + 0.3},3.65 C {x0 + 0.2},4.25 {x0 + 0.8},4.25 {x0 + 0.7},3.65",
            "line": line,
            "name": f"{key}_loop",
        },
    ]


def cell_figure(cell_type: str, layer: int, n_layers: int, input_label: str = "input") -> go.Figure:
    """The static cell diagram of layer ``layer`` (0-based) in a stack of ``n_layers``."""
    nodes, strips, edges = diagram(cell_type)
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for edge in edges:
        if isinstance(edge, Edge):
            annotations.append(_arrow(edge.x0, edge.y0, edge.x1, edge.y1, edge.key))
        else:
            shapes.append(
                {
                    "type": "path",
                    "path": edge.d,
                    "line": {"color": IDLE, "width": 1.6},
                    "name": edge.key,
                    "layer": "below",
                }
            )
            annotations.append(_arrow(*edge.arrow, edge.key))
    left = input_label if layer == 0 else f"layer {layer}"
    right = "output" if layer == n_layers - 1 else f"layer {layer + 2}"
    shapes += _neighbour(-1.55, left, "left") + _neighbour(10.55, right, "right")
    shapes.append(
        {
            "type": "rect",
            "x0": 1.55,
            "x1": 10.05,
            "y0": -0.85,
            "y1": 6.45,
            "layer": "below",
            "line": {"color": ORANGE, "width": 2, "dash": "dot"},
            "fillcolor": "rgba(255,152,0,0.03)",
            "name": "frame",
        }
    )
    for x, text in ((-1.05, left), (11.05, right)):
        annotations.append(
            {
                "x": x,
                "y": 2.1,
                "text": text,
                "showarrow": False,
                "font": {"size": 11, "color": "#78909c"},
                "name": "label",
            }
        )
    annotations.append(
        {
            "x": 9.95,
            "y": 6.25,
            "xanchor": "right",
            "showarrow": False,
            "name": "title",
            "text": f"<b>layer {layer + 1} of {n_layers}</b>",
            "font": {"size": 13, "color": INK},
        }
    )
    if cell_type == "lstm":
        annotations.append(
            {
                "x": 8.3,
                "y": 5.58,
                "text": "tanh",
                "showarrow": False,
                "name": "label",
                "font": {"size": 10, "color": "#78909c"},
            }
        )
    for node in nodes:
        below = node.y - 0.52 if node.key not in {"f", "i", "g", "o", "z", "r", "tanh"} else 1.2
        if node.key in {"c", "mix"}:
            below = node.y - 0.55
        if node.key == "a":
            below = 1.95
        annotations.append(
            {
                "x": node.x,
                "y": below,
                "text": node.label,
                "showarrow": False,
                "font": {"size": 11, "color": INK},
                "name": "label",
            }
        )
    fig = go.Figure()
    for strip in strips:
        fig.add_trace(_strip_trace(strip))
    fig.add_trace(
        go.Scatter(
            x=[n.x for n in nodes],
            y=[n.y for n in nodes],
            mode="markers+text",
            text=[n.text for n in nodes],
            textfont={"color": INK, "size": [12 if len(n.text) > 2 else 15 for n in nodes]},
            marker={
                "symbol": [n.symbol for n in nodes],
                "size": [40 if n.symbol == "square" else 34 if n.key != "tanh" else 40 for n in nodes],
                "color": ["#ffffff"] * len(nodes),
                "line": {"color": IDLE, "width": 2},
            },
            customdata=[[n.key, n.explain] for n in nodes],
            hovertemplate="%{customdata[0]}<extra>click to explain</extra>",
            meta={"role": "nodes", "keys": [n.key for n in nodes]},
            name="parts",
            showlegend=False,
        )
    )
    fig.update_layout(
        shapes=shapes,
        annotations=annotations,
        margin={"l": 4, "r": 4, "t": 4, "b": 4},
        xaxis={"range": list(X_RANGE), "visible": False, "fixedrange": True},
        yaxis={"range": list(Y_RANGE), "visible": False, "fixedrange": True},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        height=430,
        hovermode="closest",
        dragmode=False,
        showlegend=False,
        uirevision="cell",
    )
    return fig


def _strip_trace(strip: Strip, units: int = 16) -> go.Heatmap:
    gate = strip.scale == "gate"
    return go.Heatmap(
        x=strip_edges(strip.x, units),
        y=[strip.y - STRIP_HEIGHT / 2, strip.y + STRIP_HEIGHT / 2],
        z=[[None] * units],
        zmin=0.0 if gate else -1.0,
        zmax=1.0,
        colorscale=GATE_SCALE if gate else SIGNED_SCALE,
        showscale=False,
        xgap=1,
        ygap=0,
        hovertemplate=f"{STRIP_NAMES.get(strip.part, strip.part)} · %{{text}}: %{{z:.3f}}<extra></extra>",
        text=[[f"unit {k}" for k in range(1, units + 1)]],
        customdata=[[strip.explain] * units],
        meta={
            "role": "strip",
            "part": strip.part,
            "sub": strip.sub,
            "before": strip.before,
            "explain": strip.explain,
            "scale": strip.scale,
            "centre": strip.x,
        },
        name=strip.part,
    )


def strip_edges(centre: float, units: int) -> list[float]:
    """Cell edges of a strip (units + 1 values): 16 units span STRIP_WIDTH, fewer keep their width."""
    width = STRIP_WIDTH if units >= 16 else STRIP_WIDTH * max(units, 3) / 16
    cell = width / units
    return [round(centre - width / 2 + cell * k, 4) for k in range(units + 1)]


def set_strip_widths(fig: go.Figure, widths: dict[str, int]) -> go.Figure:
    """Resize strips whose vector is not 16 long (the first layer's input x)."""
    for i, trace in enumerate(fig.data):
        meta = trace.meta or {}
        if meta.get("role") == "strip" and meta["part"] in widths:
            n = widths[meta["part"]]
            fig.data[i].x = strip_edges(meta["centre"], n)
            fig.data[i].z = [[None] * n]
            fig.data[i].text = [[f"unit {k}" for k in range(1, n + 1)]]
            fig.data[i].customdata = [[meta["explain"]] * n]
    return fig


def data_figure() -> go.Figure:
    """The network data beside the cell: input points, target and prediction (filled by JS)."""
    fig = go.Figure(
        [
            go.Scatter(
                x=[],
                y=[],
                mode="lines",
                line={"color": "#cfd8dc", "width": 1.5},
                name="ground truth",
                meta={"role": "truth"},
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="markers+lines",
                marker={"color": INK, "size": 7},
                line={"color": INK, "width": 1},
                name="input",
                meta={"role": "input"},
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="markers",
                marker={"color": ORANGE, "size": 12, "line": {"color": INK, "width": 1}},
                name="current x",
                meta={"role": "current"},
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="markers",
                marker={"color": "#9e9e9e", "size": 9, "symbol": "circle-open", "line": {"width": 2}},
                name="target",
                meta={"role": "target"},
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="markers",
                marker={"color": "#2196f3", "size": 10, "symbol": "diamond"},
                name="prediction",
                meta={"role": "prediction"},
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="lines",
                line={"color": "#e53935", "width": 2},
                name="error",
                meta={"role": "error"},
                hoverinfo="skip",
            ),
        ]
    )
    fig.update_layout(
        margin={"l": 36, "r": 8, "t": 8, "b": 30},
        height=240,
        legend={"orientation": "h", "y": -0.18, "font": {"size": 10}},
        plot_bgcolor="#ffffff",
        xaxis={"showgrid": False, "zeroline": False, "fixedrange": True},
        yaxis={"gridcolor": "#eceff1", "zeroline": True, "zerolinecolor": "#cfd8dc", "fixedrange": True},
        uirevision="data",
    )
    return fig


def gradient_figure(steps: int) -> go.Figure:
    """Gradient norm per time step (the backward phase), bars revealed from the last step back."""
    fig = go.Figure(
        go.Bar(
            x=list(range(1, steps + 1)),
            y=[None] * steps,
            marker={"color": ORANGE},
            hovertemplate="t = %{x}: ‖∂L/∂aₜ‖ = %{y:.2e}<extra></extra>",
            meta={"role": "grad"},
        )
    )
    fig.update_layout(
        margin={"l": 46, "r": 8, "t": 8, "b": 30},
        height=160,
        plot_bgcolor="#ffffff",
        xaxis={"title": None, "dtick": 1, "fixedrange": True, "range": [0.4, steps + 0.6]},
        yaxis={"type": "log", "gridcolor": "#eceff1", "fixedrange": True, "exponentformat": "e"},
        bargap=0.25,
        uirevision="grad",
    )
    return fig


def payload(
    trace: dict[str, Any], layer: int, frames: list[dict[str, Any]], data: dict[str, Any]
) -> dict[str, Any]:
    """Everything the browser needs to animate one layer (JSON; a few tens of kB)."""
    info = trace["layers"][layer]
    cell_type = info["cell_type"]
    nodes, strips, edges = diagram(cell_type)
    return {
        "cell_type": cell_type,
        "layer": layer,
        "n_layers": len(trace["layers"]),
        "steps": info["steps"],
        "values": info["values"],
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


def _substep_pane() -> html.Div:
    items = []
    for k, (title, key) in enumerate(zip(SUBSTEP_TITLES, ex.SUBSTEP_KEYS, strict=True)):
        items.append(
            html.Li(
                [
                    html.Span(f"{k + 1}", className="cell-sub-num"),
                    html.Span(title),
                    ex.info(key, f"info-cell-sub-{k}"),
                ],
                id=f"cell-sub-{k}",
                className="cell-sub",
            )
        )
    phases = [
        html.Span(
            [
                html.Span(p.capitalize(), id=f"cell-phase-label-{p}", className="cell-phase-label"),
                ex.info(ex.PHASE_KEYS[p], f"info-cell-phase-{p}"),
            ],
            className="me-2 d-inline-flex align-items-center",
        )
        for p in ("forward", "error", "backward")
    ]
    return html.Div(
        [
            html.Div(phases, className="d-flex flex-wrap"),
            html.Ol(items, className="cell-subs"),
            html.Div(id="cell-substep-label", className="cell-status"),
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
                        id="cell-play",
                        color="warning",
                        outline=True,
                        title="Play / pause",
                        n_clicks=0,
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-skip-end-fill"), " Next sub-step"],
                        id="cell-step-button",
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
                        id="cell-phase",
                        options=[
                            {"label": p.capitalize(), "value": p} for p in ("forward", "error", "backward")
                        ],
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
                            id="cell-speed",
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
            html.Div(id="cell-backdrop", className="cell-backdrop", n_clicks=0),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Button(
                                [html.I(className="bi bi-arrow-left"), " Network overview"],
                                id="cell-back",
                                color="link",
                                size="sm",
                                className="cell-back",
                                n_clicks=0,
                            ),
                            html.H5(
                                ["Cell view", ex.info("cell", "info-cell-heading")],
                                id="cell-heading",
                                className="d-flex align-items-center mb-0 ms-2",
                            ),
                            html.Small(id="cell-check", className="text-muted ms-auto"),
                        ],
                        className="d-flex align-items-center mb-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dcc.Loading(
                                    dcc.Graph(
                                        id="cell-diagram",
                                        figure=cell_figure("lstm", 0, 1),
                                        config={"displayModeBar": False, "responsive": True},
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
                                        ["Network data", ex.info("network_data", "info-cell-network-data")],
                                        className="d-flex align-items-center small fw-semibold",
                                    ),
                                    dcc.Graph(
                                        id="cell-data-graph",
                                        figure=data_figure(),
                                        config={"displayModeBar": False},
                                    ),
                                    html.Div(
                                        [
                                            "Gradient per time step",
                                            ex.info("gradient_norm", "info-cell-gradient"),
                                        ],
                                        className="d-flex align-items-center small fw-semibold",
                                    ),
                                    dcc.Graph(
                                        id="cell-grad-graph",
                                        figure=gradient_figure(15),
                                        config={"displayModeBar": False},
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
                            dbc.ModalHeader(dbc.ModalTitle(id="cell-explain-title")),
                            dbc.ModalBody(dcc.Markdown(id="cell-explain-body", mathjax=True)),
                        ],
                        id="cell-explain",
                        is_open=False,
                        size="md",
                    ),
                    dcc.Store(id="cell-payload"),
                    dcc.Store(id="cell-position", data=0),
                    dcc.Store(id="cell-figure-ready"),
                    dcc.Interval(id="cell-interval", interval=800, disabled=True),
                ],
                className="cell-panel",
            ),
        ],
        id="cell-view",
        className="cell-view",
        hidden=True,
    )
