"""The hidden-state projection: every state as WebGL points plus a small trajectory overlay.

Trace order is fixed so a selection can be sent as a ``Patch`` of the overlay only:
0 = the states of the first colour bin, 1..N_SEGMENT_SLOTS = trajectory segments grouped by
colour, then the trajectory points (with word labels), the start/end rings, the hover marker,
the two what-if slots (the typed text and the pinned one, out-of-sample), the nearest-neighbour
rings (``components.analytics_neighbors``), the states of the other colour bins (``state_slots``),
the states the table's filters leave (``filter_slot``) and last an empty trace that carries the colour bar. A set above the point budget (level of detail,
``components.analytics_density``) adds an invisible frame trace after it, a density image and a note.

The cloud is split into single-colour traces because Plotly colours a numeric marker array
point by point through colour strings, which costs as much as drawing the points; 32 EP levels
(or one trace per class) look the same and draw in about half the time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

from components import analytics_colors as colors
from components import figure_text
from components import label_placement as placement
from services.analysis import VIEW_SPAN, to_view_coordinates, view_transform  # noqa: F401 (re-exported)
from services.cloud import split_by_bin

N_SEGMENT_SLOTS = 11  # EP quantised to 0, 0.1, ..., 1
POINTS_SLOT = N_SEGMENT_SLOTS + 1
ENDS_SLOT = N_SEGMENT_SLOTS + 2
HOVER_SLOT = N_SEGMENT_SLOTS + 3
N_TRACES = N_SEGMENT_SLOTS + 4
WHATIF_SLOT = N_TRACES  # the typed text's trajectory (out of sample)
PINNED_SLOT = N_TRACES + 1  # a pinned typed text
NEIGHBORS_SLOT = N_TRACES + 2  # rings around the selected state's nearest neighbours
FILTER_POINTS = 20_000  # filtered states drawn at most (evenly thinned beyond)
FILTER_COLOR = "#212529"
WHATIF_COLOR = "#e8590c"
PINNED_COLOR = "#495057"
# Faded sequences (fade correct / misclassified): low enough that a stack of ten faded states stays
# faint (1 - 0.97**10 = 0.26) where 0.12 left them nearly as dark as the kept ones (0.72).
FADED = 0.03
# A white halo around each word label: readable over the path and the points it may have to cover.
LABEL_HALO = "0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff"
SELECTION_FADE = 0.04  # the whole cloud behind a selected trajectory, so the path stands out
DEFAULT_OPACITY = 0.65
EP_BINS = 32  # binary EP levels of the state cloud (and the least number of state traces)


def base_colors(ep: np.ndarray, state_labels: np.ndarray, class_names: list[str], mode: str) -> dict:
    """Marker colour settings of the state scatter for ``mode`` "ep" or "actual"."""
    n = len(class_names)
    class_names = figure_text.literals(class_names)
    palette = colors.class_colors(n)
    ticks = {"tickvals": list(range(n)), "ticktext": class_names}
    if mode == "ep" and n == 2:
        # EP quantised to one byte per state: 255 levels are finer than the eye can tell apart.
        return {
            "color": np.rint(np.clip(ep[:, 1], 0, 1) * 255).astype(np.uint8),
            "colorscale": colors.EP_COLORSCALE,
            "cmin": 0,
            "cmax": 255,
            "colorbar": {
                "title": {"text": f"EP {class_names[1]}", "side": "right"},
                "thickness": 10,
                "len": 0.6,
                "tickvals": [0, 63.75, 127.5, 191.25, 255],
                "ticktext": ["0", "0.25", "0.5", "0.75", "1"],
            },
        }
    values = ep.argmax(axis=1) if mode == "ep" else state_labels
    return {
        "color": np.asarray(values, dtype=np.uint8),
        "colorscale": colors.discrete_colorscale(palette),
        "cmin": -0.5,
        "cmax": n - 0.5,
        "colorbar": {
            "title": {"text": "predicted" if mode == "ep" else "actual", "side": "right"},
            "thickness": 10,
            "len": 0.6,
            **ticks,
        },
    }


def state_bins(marker: dict) -> tuple[np.ndarray, list[str]]:
    """Colour bin of every state and the colour of every bin, from ``base_colors``' codes."""
    codes = np.asarray(marker.get("color", []), dtype=np.int64)
    scale = marker.get("colorscale")
    if scale == colors.EP_COLORSCALE:  # binary EP, one byte per state
        bins = np.minimum(codes * EP_BINS // 256, EP_BINS - 1)
        return bins, colors.ep_hex((np.arange(EP_BINS) + 0.5) / EP_BINS)
    n = int(round(marker["cmax"] - marker["cmin"])) if scale else 0
    return codes, [scale[2 * i][1] for i in range(n)]  # discrete: bin = class, steps of two stops


def state_trace_count(n_classes: int) -> int:
    """How many state traces a figure of a set with ``n_classes`` classes has (fixed per set)."""
    return max(EP_BINS, n_classes)


def state_slots(n_traces: int) -> list[int]:
    """Trace indices of the state bins: 0, then after the what-if and neighbour slots."""
    return [0, *range(NEIGHBORS_SLOT + 1, NEIGHBORS_SLOT + n_traces)]


def filter_slot(n_traces: int) -> int:
    """Trace index of the filtered states: right after the state bins (WebGL draws in trace order, so
    they lie on top of the cloud), before the colour bar's trace."""
    return NEIGHBORS_SLOT + n_traces


def cloud_rows(marker: dict) -> list[np.ndarray]:
    """For each state trace, the rows (into the drawn points) it holds, in order."""
    return _rows_by_bin(*state_bins(marker))


def _rows_by_bin(bins: np.ndarray, palette: list[str]) -> list[np.ndarray]:
    n = state_trace_count(len(palette))
    order = np.argsort(bins, kind="stable")
    return np.split(order, np.cumsum(np.bincount(bins, minlength=n))[:-1]) if len(bins) else [order[:0]] * n


def point_row(rows: list[np.ndarray], curve: int | None, point_index: int | None) -> int | None:
    """The drawn point behind ``(curveNumber, pointIndex)`` of a click or lasso, or None."""
    slots = state_slots(len(rows))
    if curve not in slots or point_index is None:
        return None
    members = rows[slots.index(curve)]
    return int(members[point_index]) if 0 <= point_index < len(members) else None


def base_opacity(correct: np.ndarray, fade: str, selected: bool) -> float | np.ndarray:
    """Opacity of the state markers: faded behind a selection, or by correctness."""
    if selected:
        return SELECTION_FADE
    if fade in ("correct", "wrong"):
        faded = correct if fade == "correct" else ~correct
        return np.where(faded, FADED, DEFAULT_OPACITY).astype(np.float32)
    return DEFAULT_OPACITY


def empty_overlay() -> list[dict]:
    """The overlay slots with nothing in them."""
    traces: list[dict] = []
    for i in range(N_SEGMENT_SLOTS):
        traces.append(_segments_trace([], [], "#000000", i))
    traces.append(
        {
            "type": "scatter",
            "x": [],
            "y": [],
            "mode": "markers+text",
            "uid": "traj-points",
            "showlegend": False,
        }
    )
    traces.append(
        {"type": "scatter", "x": [], "y": [], "mode": "markers", "uid": "traj-ends", "showlegend": False}
    )
    traces.append(_hover_trace([], []))
    return traces


def _segments_trace(xs: list, ys: list, color: str, slot: int, width: float = 3.5) -> dict:
    return {
        "type": "scatter",  # SVG: changing it never makes WebGL redo the big scatter
        "x": xs,
        "y": ys,
        "mode": "lines",
        "line": {"color": color, "width": width},
        "hoverinfo": "skip",
        "uid": f"traj-seg-{slot}",
        "showlegend": False,
        "connectgaps": False,
    }


def _hover_trace(xs: list, ys: list) -> dict:
    return {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "mode": "markers",
        "marker": {"size": 18, "color": "rgba(255,193,7,0.35)", "line": {"color": "#ff9800", "width": 2.5}},
        "hoverinfo": "skip",
        "uid": "hover-mark",
        "showlegend": False,
    }


def filter_trace(xy: np.ndarray, n_sequences: int = 0, n_states: int = 0) -> dict:
    """The states of the table's filtered sequences, drawn over the faded cloud (``xy``: at most
    ``FILTER_POINTS`` of them); the legend-less hover says how many sequences and states it holds."""
    return {
        "type": "scattergl",
        "x": np.round(xy[:, 0], 4).tolist() if len(xy) else [],
        "y": np.round(xy[:, 1], 4).tolist() if len(xy) else [],
        "mode": "markers",
        "uid": "filter-states",
        "name": f"{n_sequences:,} filtered sequences" if n_sequences else "filter",
        "marker": {"size": 4, "color": FILTER_COLOR, "opacity": 0.55},
        "hoverinfo": "name" if len(xy) else "skip",
        "showlegend": False,
    }


def empty_whatif() -> list[dict]:
    """The two what-if slots (typed text, pinned text) with nothing in them."""
    return [whatif_trace(np.zeros((0, 2)), np.zeros((0, 2)), [], [], pinned) for pinned in (False, True)]


def whatif_trace(
    xy: np.ndarray, ep: np.ndarray, words: list[str], class_names: list[str], pinned: bool = False
) -> dict:
    """A typed text's path: dashed line, open diamonds coloured by EP (out of sample), last word labelled."""
    n = len(xy)
    xs = np.round(np.asarray(xy[:, 0], dtype=float), 1).tolist() if n else []
    ys = np.round(np.asarray(xy[:, 1], dtype=float), 1).tolist() if n else []
    line = PINNED_COLOR if pinned else WHATIF_COLOR
    name = "pinned text" if pinned else "typed text"
    return {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "mode": "lines+markers+text",
        "line": {"color": line, "width": 2.5, "dash": "dot" if pinned else "dash"},
        "marker": {
            "symbol": ["diamond-open-dot" if pinned else "diamond-open"] * max(n - 1, 0)
            + ["star-diamond"][:n],
            "size": [9] * max(n - 1, 0) + [15][:n],
            "color": colors.state_colors(ep) if n else [],
            "line": {"width": 2},
        },
        "text": [""] * max(n - 1, 0) + [name][:n],
        "textposition": "bottom center",
        "textfont": {"size": 11, "color": line},
        "customdata": [
            [t, w, h] for t, (w, h) in enumerate(zip(words, _ep_hover(ep, class_names), strict=True))
        ]
        if n
        else [],
        "hovertemplate": f"<b>%{{customdata[1]}}</b> · step %{{customdata[0]}} · {name} (out of sample)"
        "<br>%{customdata[2]}<extra></extra>",
        "uid": "whatif-pinned" if pinned else "whatif-typed",
        "name": name,
        "showlegend": False,
        "cliponaxis": False,
    }


def _state_trace(
    xy: np.ndarray,
    color: str,
    opacity: float | np.ndarray,
    b: int,
    hover: dict | None = None,
    trace_opacity: float | None = None,
) -> go.Scattergl:
    return go.Scattergl(
        x=np.rint(xy[:, 0]).astype(np.uint16),
        y=np.rint(xy[:, 1]).astype(np.uint16),
        mode="markers",
        marker={"color": color, "size": 4, "opacity": opacity, "line": {"width": 0}},
        uid="states" if b == 0 else f"states-{b}",
        name="hidden states",
        showlegend=False,
        **({} if trace_opacity is None else {"opacity": trace_opacity}),
        **(hover or {"hoverinfo": "none"}),
    )


def _colorbar_trace(marker: dict) -> dict:
    """No points, only the colour bar of the cloud's scale."""
    trace = {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "hoverinfo": "skip",
        "showlegend": False,
        "uid": "colorbar",
    }
    if marker.get("colorscale"):
        keys = ("colorscale", "cmin", "cmax", "colorbar")
        trace["marker"] = {**{k: marker[k] for k in keys if k in marker}, "showscale": True, "color": [0]}
    return trace


def projection_figure(
    xy: np.ndarray,
    marker: dict,
    opacity: float | np.ndarray,
    uirevision: str,
    overlay: list[dict] | None = None,
    title: str = "",
    whatif: list[dict] | None = None,
    hover: Callable[[np.ndarray, int], dict] | None = None,
    neighbors: dict | None = None,
    lod: dict | None = None,
    filtered: dict | None = None,
) -> go.Figure:
    """The state cloud (``xy`` in view coordinates, colours from ``base_colors``), the overlay
    slots, the what-if slots and the neighbour rings (an empty trace when ``neighbors`` is None).

    ``hover(rows, bin)``: the hover fields of a colour bin's trace (``analytics_view.cloud_hover``).
    ``lod`` (a set above the point budget, ``components.analytics_density``): ``rows``, the drawn
    states sent as points, ``image`` and ``note`` (layout image and annotation), ``frame`` (a trace
    appended last) and ``trace_opacity`` (the state traces' own opacity, or None). ``filtered``: the
    states the table's filters leave (``filter_trace``; an empty one when None)."""
    bins, palette = state_bins(marker)
    if lod is None:
        rows = _rows_by_bin(bins, palette)
    else:
        rows = split_by_bin(bins, lod["rows"], state_trace_count(len(palette)))
    cloud = [
        _state_trace(
            xy[r],
            palette[b] if b < len(palette) else "#999999",
            opacity if np.isscalar(opacity) else opacity[r],
            b,
            hover(r, b) if hover is not None and len(r) else None,
            None if lod is None else lod.get("trace_opacity"),
        )
        for b, r in enumerate(rows)
    ]
    rings = neighbors or {"type": "scatter", "x": [], "y": [], "uid": "neighbor-rings", "showlegend": False}
    traces = [
        cloud[0],
        *(overlay or empty_overlay()),
        *(whatif or empty_whatif()),
        rings,
        *cloud[1:],
        filtered or filter_trace(np.zeros((0, 2))),
    ]
    fig = go.Figure(data=[*traces, _colorbar_trace(marker)])
    fig.update_layout(
        template=go.layout.Template(),
        uirevision=uirevision,
        margin={"l": 10, "r": 10, "t": 30 if title else 10, "b": 10},
        # left-aligned, clear of the mode bar on the right
        title={"text": title, "font": {"size": 13, "color": "#b35c00"}, "x": 0.01, "xanchor": "left"}
        if title
        else None,
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        dragmode="zoom",
        hovermode="closest",
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1},
        clickmode="event+select",
        font={"family": "Lato, system-ui, sans-serif"},
    )
    if lod is not None:
        fig.add_trace(lod["frame"])
        fig.update_layout(images=[lod["image"]], annotations=[lod["note"]])
    return fig


def _ep_hover(ep: np.ndarray, class_names: list[str]) -> list[str]:
    class_names = figure_text.literals(class_names)
    return ["<br>".join(f"{c}: {p:.2f}" for c, p in zip(class_names, row, strict=True)) for row in ep]


def segment_colors(ep: np.ndarray, color_mode: str) -> list[str]:
    """Colour of each segment t -> t+1: EP at its start, or a grey-to-black time ramp."""
    n_seg = max(len(ep) - 1, 0)
    if color_mode == "time":
        # A ramp binned into the available slots, so segments share few traces.
        ramp = colors.time_hex(N_SEGMENT_SLOTS)
        return [ramp[(t * N_SEGMENT_SLOTS) // max(n_seg, 1)] for t in range(n_seg)]
    if ep.shape[1] == 2:
        # Quantise so segments share a handful of traces.
        p = np.round(ep[:n_seg, 1] * (N_SEGMENT_SLOTS - 1)) / (N_SEGMENT_SLOTS - 1)
        return colors.ep_hex(p)
    return colors.state_colors(ep[:n_seg])


def trajectory_overlay(
    xy: np.ndarray,
    ep: np.ndarray,
    words: list[str],
    distance_norm: np.ndarray,
    labelled: np.ndarray,
    class_names: list[str],
    color_mode: str = "ep",
    hover_step: int | None = None,
) -> list[dict]:
    """Overlay traces (slots 1..) for one sequence's states ``xy`` in reading order."""
    n = len(xy)
    xs = np.round(np.asarray(xy[:, 0], dtype=float), 1)
    ys = np.round(np.asarray(xy[:, 1], dtype=float), 1)
    xl, yl = xs.tolist(), ys.tolist()
    seg_colors = segment_colors(ep, color_mode)
    groups: dict[str, tuple[list, list]] = {}
    for t, c in enumerate(seg_colors):
        gx, gy = groups.setdefault(c, ([], []))
        gx += [xl[t], xl[t + 1], None]
        gy += [yl[t], yl[t + 1], None]
    traces = []
    for slot, (c, (gx, gy)) in enumerate(list(groups.items())[:N_SEGMENT_SLOTS]):
        traces.append(_segments_trace(gx, gy, c, slot))
    while len(traces) < N_SEGMENT_SLOTS:
        traces.append(_segments_trace([], [], "#000000", len(traces)))

    # the labelled words placed without overlapping at the default zoom (a few may be left out)
    text, text_position, steps = placement.trajectory_labels(xy, words, labelled, distance_norm, VIEW_SPAN)
    point_colors = colors.state_colors(ep)
    custom = [
        [t, words[t], round(float(distance_norm[t]), 3), h]
        for t, h in zip(range(n), _ep_hover(ep, class_names), strict=True)
    ]
    traces.append(
        {
            "type": "scatter",
            "x": xl,
            "y": yl,
            "mode": "markers+text",
            "text": text,
            "textposition": text_position,
            "textfont": {"size": placement.FONT_SIZE, "color": "#212529", "shadow": LABEL_HALO},
            "meta": {"labelled": steps},  # the steps the label rules picked (some may not fit)
            "marker": {"size": 8, "color": point_colors, "line": {"color": "#212529", "width": 1.2}},
            "customdata": custom,
            "hovertemplate": "<b>%{customdata[1]}</b> · step %{customdata[0]}<br>jump %{customdata[2]}"
            "<br>%{customdata[3]}<extra></extra>",
            "uid": "traj-points",
            "showlegend": False,
            "cliponaxis": False,
        }
    )
    ends_x = [xl[0], xl[-1]] if n else []
    ends_y = [yl[0], yl[-1]] if n else []
    traces.append(
        {
            "type": "scatter",
            "x": ends_x,
            "y": ends_y,
            "mode": "markers",
            "marker": {
                "size": [16, 16][: len(ends_x)],
                "symbol": ["circle-open", "circle-x-open"][: len(ends_x)],
                "color": ["#198754", "#212529"][: len(ends_x)],
                "line": {"width": 2.5},
            },
            "hoverinfo": "skip",
            "uid": "traj-ends",
            "showlegend": False,
        }
    )
    if hover_step is not None and 0 <= hover_step < n:
        traces.append(_hover_trace([xl[hover_step]], [yl[hover_step]]))
    else:
        traces.append(_hover_trace([], []))
    return traces
