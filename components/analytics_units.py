"""The hidden-units view: the units × words heatmap, its highlights, and the list of matches (no callbacks).

The heatmap's rows are units (in display order, top first) on a category axis, its columns the
steps of the selected sequence (numeric x, so the page's hover linking reads ``x`` as the step;
the heatmap sits on ``xaxis2``, a twin of ``xaxis`` naming every step's word for its hover label).
``layout.shapes[0]`` is the span, always present; ``shapes[1]`` is left to ``assets/analytics.js``
for the hovered step. The on-units of the span are outlined by the second trace.
"""

from __future__ import annotations

import numpy as np
from dash import html

from components.ids import analytics as ids
from model.artifacts import Analysis
from model.units import Matches

HEATMAP_SLOT = 0
OUTLINE_SLOT = 1
SPAN_SHAPE = 0
MAX_ROWS = 128  # units drawn at most (the first in display order)
MAX_WORD_TICKS = 50
MATCH_TYPE = ids.UNIT_MATCH  # pattern-matching id of a listed match: {"type", "seq", "start", "end"}
CONTEXT_WORDS = 4
ON_COLOR = "#111111"
COLORSCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
_FONT = {"family": "Lato, system-ui, sans-serif", "size": 11}


def unit_name(unit: int) -> str:
    return f"unit {unit}"


def row_height(n_rows: int) -> int:
    """Pixels per unit row: roomy for a few units, at least 5 for many."""
    return int(max(5, min(18, 520 // max(n_rows, 1))))


def _word_ticks(words: list[str]) -> tuple[list[int], list[str]]:
    n = len(words)
    every = max(1, int(np.ceil(n / MAX_WORD_TICKS)))
    steps = list(range(0, n, every))
    return steps, [words[t][:14] for t in steps]


def unit_ticks(order: list[int], on: set[int]) -> tuple[list[str], list[str]]:
    """(tickvals, ticktext) of the unit axis: every unit when rows are tall enough, else on-units only."""
    names = [unit_name(u) for u in order]
    px = row_height(len(order))
    vals, texts = [], []
    last = -(10**9)
    for i, (u, name) in enumerate(zip(order, names, strict=True)):
        is_on = u in on
        if px < 11 and (not is_on or (i - last) * px < 11):
            continue
        vals.append(name)
        texts.append(f"<b>● {u}</b>" if is_on else str(u))
        last = i
    return vals, texts


def span_shape(span: tuple[int, int] | None) -> dict:
    """The span's frame over every row (invisible without a span, so its slot stays taken)."""
    lo, hi = span if span is not None else (0, -1)
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": lo - 0.5,
        "x1": hi + 0.5,
        "y0": 0,
        "y1": 1,
        "line": {"color": ON_COLOR if span is not None else "rgba(0,0,0,0)", "width": 1.5, "dash": "dot"},
        "fillcolor": "rgba(0,0,0,0)",
        "layer": "above",
    }


def _row_blocks(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers merged into (first, last) blocks."""
    blocks: list[tuple[int, int]] = []
    for r in sorted(rows):
        if blocks and r == blocks[-1][1] + 1:
            blocks[-1] = (blocks[-1][0], r)
        else:
            blocks.append((r, r))
    return blocks


def outline_trace(order: list[int], on: set[int], span: tuple[int, int] | None) -> dict:
    """Frames around the on-units' rows across the span (adjacent rows share one frame)."""
    xs: list = []
    ys: list = []
    if span is not None:
        position = {u: i for i, u in enumerate(order)}
        lo, hi = span[0] - 0.5, span[1] + 0.5
        for first, last in _row_blocks([position[u] for u in on if u in position]):
            xs += [lo, hi, hi, lo, lo, None]
            ys += [first - 0.5, first - 0.5, last + 0.5, last + 0.5, first - 0.5, None]
    return {
        "type": "scatter",
        "mode": "lines",
        "x": xs,
        "y": ys,
        "xaxis": "x2",
        "yaxis": "y2",
        "line": {"color": ON_COLOR, "width": 2},
        "hoverinfo": "skip",
        "showlegend": False,
        "name": "on-units",
    }


def units_figure(
    values: np.ndarray,
    order: list[int],
    words: list[str],
    on: set[int],
    span: tuple[int, int] | None,
    scale: float,
    kind_label: str,
) -> dict:
    """Heatmap of ``values`` (steps, units) with rows in ``order``, the span and its on-units outlined."""
    order = list(order)[:MAX_ROWS]
    n_steps = len(words)
    z = np.round(values[:, order].T.astype(float), 3)
    names = [unit_name(u) for u in order]
    px = row_height(len(order))
    height = px * len(order) + 140
    xticks, xtext = _word_ticks(list(words))
    yvals, ytext = unit_ticks(order, on)
    heat = {
        "type": "heatmap",
        "z": z.tolist(),
        "x": list(range(n_steps)),
        "y": names,
        "xaxis": "x2",  # every step's word as its tick text: hover labels read the word from it
        "colorscale": COLORSCALE,
        "zmin": -scale,
        "zmax": scale,
        "zmid": 0,
        "colorbar": {"thickness": 10, "len": 0.8, "title": {"text": kind_label.split()[-1], "side": "top"}},
        "hovertemplate": "<b>%{y}</b> · “%{x}”<br>" + kind_label + ": %{z:.3f}<extra></extra>",
        "name": kind_label,
    }
    axis_y = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": names,
        "autorange": "reversed",
        "tickvals": yvals,
        "ticktext": ytext,
        "tickfont": {"size": 9 if px < 11 else 10},
        "showgrid": False,
        "title": {"text": "units", "standoff": 2},
    }
    # The outlines sit on a numeric twin of the unit axis: rows are numbers there.
    axis_y2 = {
        "overlaying": "y",
        "range": [len(order) - 0.5, -0.5],
        "visible": False,
        "fixedrange": True,
    }
    layout = {
        "height": height,
        "margin": {"l": 62, "r": 10, "t": 30, "b": 84},  # the mode bar sits above the rows
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": _FONT,
        "hovermode": "closest",
        "showlegend": False,
        "dragmode": False,
        "uirevision": "units",
        "xaxis": {
            "range": [-0.5, n_steps - 0.5],
            "tickvals": xticks,
            "ticktext": xtext,
            "tickangle": -60,
            "tickfont": {"size": 10},
            "showgrid": False,
            "zeroline": False,
        },
        # The heatmap's own x axis, drawn under the shown one: every step named, no labels drawn.
        "xaxis2": {
            "overlaying": "x",
            "matches": "x",
            "tickvals": list(range(n_steps)),
            "ticktext": [w[:24] for w in words],
            "showticklabels": False,
            "ticks": "",
            "showgrid": False,
            "zeroline": False,
        },
        "yaxis": axis_y,
        "yaxis2": axis_y2,
        "shapes": [span_shape(span)],
    }
    return {"data": [heat, outline_trace(order, on, span)], "layout": layout}


def drawn_order(order: np.ndarray) -> list[int]:
    """The units the figure shows, top first."""
    return [int(u) for u in np.asarray(order)[:MAX_ROWS]]


def highlight_parts(order: list[int], on: set[int], span: tuple[int, int] | None) -> dict:
    """What changes with the span or threshold when the order stays: ticks, outlines, span frame."""
    yvals, ytext = unit_ticks(order, on)
    return {
        "tickvals": yvals,
        "ticktext": ytext,
        "outline": outline_trace(order, on, span),
        "span": span_shape(span),
    }


def summary(
    words: list[str], span: tuple[int, int], threshold: float, on: np.ndarray, n_units: int, n_drawn: int
) -> list:
    """One line: the span's words, the threshold and the units above it throughout."""
    lo, hi = span
    phrase = " ".join(words[lo : hi + 1])
    listed = ", ".join(str(int(u)) for u in on[:24]) + (" …" if len(on) > 24 else "")
    parts: list = [
        html.Span("Span ", className="text-muted"),
        html.B(f"“{phrase[:120]}”"),
        html.Span(f" (steps {lo}–{hi}) · above {threshold:g} throughout: ", className="text-muted"),
        html.B(f"{len(on)} of {n_units} units") if len(on) else html.B("no unit"),
    ]
    if len(on):
        parts.append(html.Span(f" ({listed})", className="text-muted"))
    else:
        parts.append(html.Span(" · lower the threshold or shorten the span", className="text-muted"))
    if n_drawn < n_units:
        parts.append(html.Span(f" · showing the first {n_drawn} units in this order", className="text-muted"))
    return parts


def hint(text: str) -> html.Div:
    return html.Div(text, className="text-muted small")


def _snippet(words: list[str], start: int, end: int) -> list:
    lo = max(0, start - CONTEXT_WORDS)
    hi = min(len(words), end + 1 + CONTEXT_WORDS)
    before = ("… " if lo > 0 else "") + " ".join(words[lo:start])
    after = " ".join(words[end + 1 : hi]) + (" …" if hi < len(words) else "")
    return [
        html.Span(before + " ", className="text-muted"),
        html.Mark(" ".join(words[start : end + 1]), className="rnnx-unit-mark"),
        html.Span(" " + after, className="text-muted"),
    ]


def match_list(found: Matches, analysis: Analysis, n_units: int, seconds: float) -> html.Div:
    """The matches, best first; each item selects its sequence at the match's first step."""
    if len(found) == 0:
        return hint("No other span of the dataset keeps all these units on.")
    names = list(analysis.class_names)
    head = html.Div(
        f"{found.total:,} spans in the dataset keep all {n_units} units on"
        f"{f'; the best {len(found)}' if found.total > len(found) else ''} "
        f"({seconds * 1000:.0f} ms). Score: 1 = exactly these units, over a span of the same length. "
        "Click one to select it.",
        className="text-muted small mb-1",
    )
    items = []
    for seq, start, end, score, extra in zip(
        found.seq, found.start, found.end, found.score, found.extra, strict=True
    ):
        seq, start, end = int(seq), int(start), int(end)
        label = names[int(analysis.labels[seq])] if seq < len(analysis.labels) else ""
        items.append(
            html.Button(
                [
                    html.Span(f"{float(score):.2f}", className="rnnx-unit-score", title="match score"),
                    html.Span(_snippet(analysis.words[seq], start, end), className="rnnx-unit-snippet"),
                    html.Span(
                        f"#{seq} · {start}–{end}" + (f" · +{int(extra)}" if extra else "") + f" · {label}",
                        className="rnnx-unit-where",
                        title=f"sequence {seq}, steps {start}–{end}; {int(extra)} more units on; actual {label}",
                    ),
                ],
                id={"type": MATCH_TYPE, "seq": seq, "start": start, "end": end},
                className="rnnx-unit-match",
                n_clicks=0,
            )
        )
    return html.Div([head, html.Div(items, className="rnnx-unit-list")])
