"""The nearest-neighbours view: the list of neighbours and their rings on the projection (no callbacks)."""

from __future__ import annotations

import numpy as np
from dash import html

from components import analytics_colors as colors
from components.ids import analytics as ids
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import neighbors as service
from services.neighbors import NeighborList
from services.validation import InvalidInput

RING_COLOR = "#6f42c1"
ROW_TYPE = ids.RNNX_NEIGHBOR  # id type of a listed neighbour: {"type", "seq", "step"}
CONTEXT_WORDS = 3  # words shown before the neighbour's word
HINT = "Click a point of the projection, a word of the selected sequence or a row of the table."


def ep_label(ep: np.ndarray, class_names: list[str]) -> str:
    """The EP of one state in a few characters: P(class 1) when binary, else the likeliest class."""
    if len(class_names) == 2:
        return f"{float(ep[1]):.2f}"
    best = int(np.argmax(ep))
    return f"{class_names[best]} {float(ep[best]):.2f}"


def _context(words: list[str], step: int) -> list:
    before = words[max(0, step - CONTEXT_WORDS) : step]
    lead = ("… " if step > CONTEXT_WORDS else "") + " ".join(before)
    return [html.Span(lead + (" " if before else ""), className="text-muted"), html.B(words[step])]


def _ep_chip(ep: np.ndarray, class_names: list[str]) -> html.Span:
    bg = colors.state_colors(ep[None, :])[0]
    return html.Span(
        ep_label(ep, class_names),
        className="rnnx-nb-ep",
        style={"backgroundColor": bg, "color": colors.text_color_for(bg)},
    )


def neighbor_table(found: NeighborList, analysis: Analysis) -> html.Div:
    """The query state and its neighbours as a table; each row selects its sequence and step."""
    names = list(analysis.class_names)
    query_ep = analysis.ep[found.row]
    head = html.Div(
        [
            "Neighbours of ",
            *_context(analysis.words[found.seq], found.step),
            html.Span(f" · sequence {found.seq}, step {found.step} · EP ", className="text-muted"),
            _ep_chip(query_ep, names),
        ],
        className="small mb-1",
        id=ids.NEIGHBORS_QUERY,
    )
    note = html.Div(
        f"Euclidean distance over all {found.units} hidden units "
        f"({'exact search' if found.kind == 'exact' else 'approximate index'}, "
        f"{found.seconds * 1000:.1f} ms). Click a row to select that state"
        + ("." if found.seq not in found.seqs else "; a bar marks its own sequence's states."),
        className="text-muted small mb-1",
    )
    rows = []
    for rank, (row, seq, step, dist) in enumerate(
        zip(found.rows, found.seqs, found.steps, found.distances, strict=True), start=1
    ):
        seq, step = int(seq), int(step)
        same = " rnnx-nb-same" if seq == found.seq else ""
        rows.append(
            html.Tr(
                [
                    html.Td(str(rank), className="text-muted"),
                    html.Td(_context(analysis.words[seq], step), className="rnnx-nb-word"),
                    html.Td(f"{seq}", title=f"step {step}"),
                    html.Td(str(step)),
                    html.Td(_ep_chip(analysis.ep[int(row)], names)),
                    html.Td(f"{float(dist):.3g}", className="text-end"),
                ],
                id={"type": ROW_TYPE, "seq": seq, "step": step},
                # a press on the row is read by assets/neighbors.js from these (not n_clicks, which a
                # list redrawn between the press and the release would lose)
                disable_n_clicks=True,
                **{"data-seq": str(seq), "data-step": str(step)},
                className="rnnx-nb-row" + same,
                title=f"Select sequence {seq} at step {step}",
            )
        )
    ep_head = f"EP {names[1]}" if len(names) == 2 else "EP"
    table = html.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th("#"),
                        html.Th("word"),
                        html.Th("seq"),
                        html.Th("step"),
                        html.Th(ep_head),
                        html.Th("distance", className="text-end"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        className="table table-sm table-hover rnnx-nb-table mb-0",
    )
    return html.Div([head, note, html.Div(table, className="rnnx-nb-scroll")])


def hint(text: str) -> html.Div:
    """A muted line in place of the list."""
    return html.Div(text, className="text-muted small")


def ring_trace(
    xy: np.ndarray | None = None, found: NeighborList | None = None, words: list | None = None
) -> dict:
    """The projection's neighbour rings (``xy`` in view coordinates); empty without an answer."""
    n = 0 if xy is None or found is None else len(found.rows)
    pts = xy[found.rows] if n else np.zeros((0, 2))
    custom = (
        [
            [rank, str(words[int(s)][int(t)]) if words else "", int(s), int(t), round(float(d), 3)]
            for rank, (s, t, d) in enumerate(zip(found.seqs, found.steps, found.distances, strict=True), 1)
        ]
        if n
        else []
    )
    return {
        "type": "scatter",  # SVG: changing it never makes WebGL redo the big scatter
        "x": np.round(np.asarray(pts[:, 0], dtype=float), 1).tolist(),
        "y": np.round(np.asarray(pts[:, 1], dtype=float), 1).tolist(),
        "mode": "markers+text",
        "marker": {"symbol": "circle-open", "size": 15, "color": RING_COLOR, "line": {"width": 2.2}},
        "text": [str(i) for i in range(1, n + 1)],
        "textposition": "middle right",
        "textfont": {"size": 10, "color": RING_COLOR},
        "customdata": custom,
        "hovertemplate": "neighbour %{customdata[0]}: <b>%{customdata[1]}</b><br>sequence %{customdata[2]}, "
        "step %{customdata[3]}<br>distance %{customdata[4]}<extra></extra>",
        "uid": "neighbor-rings",
        "name": "nearest neighbours",
        "showlegend": False,
        "cliponaxis": False,
    }


def _selected(selection: dict | None, dataset: str, analysis: Analysis) -> int | None:
    if not selection or selection.get("dataset") != dataset or selection.get("seq") is None:
        return None
    seq = int(selection["seq"])
    return seq if 0 <= seq < analysis.n_sequences else None


def answer(
    dataset: str | None, method: str | None, selection: dict | None, k: int | None, other_only: bool
) -> tuple[html.Div, NeighborList | None, Analysis | None]:
    """(the list, the answer or None, the analysis) for the selected state; the list says why when empty."""
    analysis, _dmax, _xy = analysis_service.load(dataset, method)
    if analysis is None:
        return hint("The dataset is not prepared yet."), None, None
    seq = _selected(selection, dataset, analysis)
    if seq is None:
        return hint(HINT), None, analysis
    try:
        found = service.neighbors_of(
            dataset, analysis, seq, selection.get("step"), k or service.DEFAULT_K, bool(other_only)
        )
    except (InvalidInput, LookupError) as error:
        return hint(str(error)), None, analysis
    return neighbor_table(found, analysis), found, analysis


def rings(
    dataset: str | None, method: str | None, selection: dict | None, k: int | None, other_only: bool
) -> dict:
    """The ring trace of the selected state's neighbours on ``method``'s projection (or the stand-in)."""
    _listing, found, analysis = answer(dataset, method, selection, k, other_only)
    _a, _d, xy, _shown = analysis_service.load_shown(dataset, method)
    if found is None or xy is None or analysis is None:
        return ring_trace()
    return ring_trace(xy, found, analysis.words)
