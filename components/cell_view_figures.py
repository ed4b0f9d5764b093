"""The cell view's plotly figures (pure functions): the cell diagram, the network data, the gradients.

The diagram is static geometry (:mod:`components.cell_view_geometry`), with a
16-cell heatmap strip per vector and a colour scale per kind of strip;
``assets/cellview.js`` lights the active parts in orange and fills the strips
with the real values of each frame.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from components.cell_view_geometry import (
    GATE_SCALE,
    IDLE,
    INK,
    ORANGE,
    SIGNED_SCALE,
    STRIP_HEIGHT,
    STRIP_NAMES,
    STRIP_WIDTH,
    X_RANGE,
    Y_RANGE,
    Edge,
    Strip,
    diagram,
    node_labels,
)

# The charts' heights (px): the cell view gives each chart's box the same height, so the page's layout
# knows how tall they are (components/cell_view.py).
DIAGRAM_HEIGHT, DATA_HEIGHT, GRADIENT_HEIGHT = 430, 240, 160
# The two colour scales of the strips, as horizontal colour bars in the empty top-left corner
# (paper coordinates): gates run 0..1, every other vector (and, backward, the gradient) -1..1.
SCALES = {
    "gate": {"title": "gates (0 shut, 1 open)", "scale": GATE_SCALE, "range": (0.0, 1.0), "y": 0.95},
    "signed": {"title": "values", "scale": SIGNED_SCALE, "range": (-1.0, 1.0), "y": 0.77},
}
GRAD_NOTES = {
    "forward": "Gradients come in the backward phase:<br>first the error must be known",
    "error": "The error is known: the backward phase<br>sends it back through time",
    "predict": "Predicting ahead runs forward only:<br>no error, no gradient",
}


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
    for label in node_labels(cell_type):
        annotations.append(
            {
                "x": label.x,
                "y": label.y,
                "xanchor": label.xanchor,
                "text": label.text,
                "showarrow": False,
                "font": {"size": label.size, "color": INK},
                "name": "label",
            }
        )
    fig = go.Figure()
    for strip in strips:
        fig.add_trace(_strip_trace(strip))
    for kind in SCALES:
        if any(strip.scale == kind for strip in strips):  # a SimpleRNN has no gates
            fig.add_trace(scale_trace(kind))
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
        height=DIAGRAM_HEIGHT,
        hovermode="closest",
        dragmode=False,
        showlegend=False,
        uirevision="cell",
    )
    return fig


def scale_trace(kind: str) -> go.Scatter:
    """A colour bar for the strips of one ``kind`` ("gate" or "signed"), from an invisible marker."""
    spec = SCALES[kind]
    low, high = spec["range"]
    ticktext = [f"{v:g}".replace("-", "−") for v in (low, (low + high) / 2, high)]
    return go.Scatter(
        x=[X_RANGE[0] - 10],  # outside the axes: only the colour bar shows
        y=[0.0],
        mode="markers",
        marker={
            "color": [low],
            "cmin": low,
            "cmax": high,
            "colorscale": spec["scale"],
            "showscale": True,
            "colorbar": {
                "orientation": "h",
                "x": 0.005,
                "xanchor": "left",
                "y": spec["y"],
                "yanchor": "top",
                "len": 0.2,
                "thickness": 9,
                "outlinewidth": 1,
                "outlinecolor": "#cfd8dc",
                "tickvals": [low, (low + high) / 2, high],
                "ticktext": ticktext,
                "tickfont": {"size": 9, "color": "#78909c"},
                "title": {"text": spec["title"], "side": "top", "font": {"size": 10, "color": INK}},
            },
        },
        hoverinfo="skip",
        meta={"role": "scale", "scale": kind, "title": spec["title"], "ticktext": ticktext},
        name=f"{kind} scale",
        showlegend=False,
    )


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
        height=DATA_HEIGHT,
        legend={"orientation": "h", "y": -0.18, "font": {"size": 10}},
        plot_bgcolor="#ffffff",
        xaxis={"showgrid": False, "zeroline": False, "fixedrange": True},
        yaxis={"gridcolor": "#eceff1", "zeroline": True, "zerolinecolor": "#cfd8dc", "fixedrange": True},
        uirevision="data",
    )
    return fig


def gradient_note(phase: str) -> dict[str, Any]:
    """The grey note an empty gradient chart shows: why there is nothing yet (forward, error, predict)."""
    return {
        "text": GRAD_NOTES[phase],
        "name": "note",
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "showarrow": False,
        "font": {"size": 11, "color": "#78909c"},
        "bgcolor": "rgba(255,255,255,0.85)",
    }


def gradient_figure(steps: int) -> go.Figure:
    """Gradient norm per time step (the backward phase), bars revealed from the last step back;
    empty, the chart says why (it opens on the forward phase)."""
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
        height=GRADIENT_HEIGHT,
        plot_bgcolor="#ffffff",
        xaxis={"title": None, "dtick": 1, "fixedrange": True, "range": [0.4, steps + 0.6]},
        yaxis={
            "type": "log",
            "gridcolor": "#eceff1",
            "fixedrange": True,
            "exponentformat": "e",
            "showticklabels": False,
        },
        annotations=[gradient_note("forward")],
        bargap=0.25,
        uirevision="grad",
    )
    return fig
