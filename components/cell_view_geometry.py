"""The cell view's diagram geometry: nodes, heatmap strips and connections of each cell type.

Coordinates are in the diagram's data units (``X_RANGE`` x ``Y_RANGE``); which
parts light up in which forward sub-step is defined here (``Node.sub``,
``Edge.sub``), so the browser only renders.  Figures: :mod:`components.cell_view_figures`.
"""

from __future__ import annotations

from typing import NamedTuple

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


class Label(NamedTuple):
    text: str
    x: float
    y: float
    xanchor: str  # "center", "left" or "right" of x
    size: int = 11


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


# Labels that would sit on a connection go beside their icon instead: the output loop runs down
# from aₜ and up into aₜ₋₁; the gates' arrows meet under the memory square.
_BESIDE = {"a_prev": ("right", -0.36, 0.0), "c": ("right", -0.42, 0.0), "mix": ("right", -0.42, 0.0)}
_GATES = {"f", "i", "g", "o", "z", "r", "tanh"}


def node_labels(cell_type: str) -> list[Label]:
    """The name under (or beside) each icon, placed clear of every connection."""
    nodes, _, _ = diagram(cell_type)
    out = []
    for node in nodes:
        if node.key in _BESIDE:
            anchor, dx, dy = _BESIDE[node.key]
            out.append(Label(node.label, node.x + dx, node.y + dy, anchor))
        elif node.key == "a":  # under its strip, left of the loop going down
            out.append(Label(node.label, node.x - 0.2, 1.95, "right"))
        else:
            out.append(Label(node.label, node.x, 1.2 if node.key in _GATES else node.y - 0.58, "center"))
    return out


def segments(edge: Edge | Path, samples: int = 24) -> list[tuple[float, float]]:
    """Points along a connection (a straight arrow, or an SVG path of M, L and C commands)."""
    if isinstance(edge, Edge):
        return [
            (edge.x0 + (edge.x1 - edge.x0) * k / samples, edge.y0 + (edge.y1 - edge.y0) * k / samples)
            for k in range(samples + 1)
        ]
    tokens = edge.d.replace(",", " ").split()
    points: list[tuple[float, float]] = []
    k = 0
    while k < len(tokens):
        command = tokens[k]
        if command in ("M", "L"):
            target = (float(tokens[k + 1]), float(tokens[k + 2]))
            if command == "L" and points:
                start = points[-1]
                points += [
                    (
                        start[0] + (target[0] - start[0]) * j / samples,
                        start[1] + (target[1] - start[1]) * j / samples,
                    )
                    for j in range(1, samples + 1)
                ]
            else:
                points.append(target)
            k += 3
        elif command == "C":
            p0 = points[-1]
            p1, p2, p3 = ((float(tokens[k + 1 + 2 * j]), float(tokens[k + 2 + 2 * j])) for j in range(3))
            for j in range(1, samples + 1):
                t = j / samples
                w = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
                points.append(
                    tuple(sum(wi * p[d] for wi, p in zip(w, (p0, p1, p2, p3), strict=True)) for d in (0, 1))
                )
            k += 7
        else:
            raise ValueError(f"unsupported path command {command!r}")
    return points


def substep_parts(cell_type: str) -> list[dict[str, list[str]]]:
    """For each forward sub-step 0..3, the node and connection keys that light up."""
    nodes, _, edges = diagram(cell_type)
    return [
        {"nodes": [n.key for n in nodes if n.sub == sub], "edges": [e.key for e in edges if e.sub == sub]}
        for sub in range(4)
    ]
