"""Level-of-detail pieces of the projection figure: the density image, the frame, the note, the state patch.

A drawn set above the point budget (``services.cloud``) keeps the figure's state traces (all its colour
bins, same slots) but fills them only with the states of a zoomed view that holds at most the budget;
otherwise the cloud is one PNG in ``layout.images[0]`` (``layer="below"``), an invisible two-point
``frame`` trace after the colour bar keeps autorange (double-click) framing the whole cloud, and
``layout.annotations[0]`` says what is shown. Behind a selected trajectory the state traces fade with
their trace opacity (their marker opacities may be per point) and the image with its own.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from dash import Patch

from components import analytics_colors as colors
from components import analytics_projection as projection
from services import cloud

IMAGE_FADE = 0.25  # the density image behind a selected trajectory
TRACE_FADE = projection.SELECTION_FADE / projection.DEFAULT_OPACITY  # the state traces' opacity then
FRAME_UID = "lod-frame"


@dataclass(frozen=True)
class Lod:
    """What a view of a set above the budget shows."""

    rows: np.ndarray  # drawn rows sent as points (none while the view holds more than the budget)
    image: dict  # layout.images[0]
    note: dict  # layout.annotations[0]


def _rgb(hexes: list[str]) -> np.ndarray:
    return np.array([[int(h.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for h in hexes], dtype=np.uint8)


def color_source(marker: dict) -> dict:
    """The ``model.density.render`` colour arguments for a cloud coloured by ``marker`` (``base_colors``)."""
    codes = np.asarray(marker.get("color", []))
    if marker.get("colorscale") == colors.EP_COLORSCALE:  # binary EP, one byte per state
        return {"values": codes / 255.0, "lut": _rgb(colors.ep_hex(np.arange(256) / 255))}
    _bins, palette = projection.state_bins(marker)
    return {"codes": codes, "palette": _rgb(palette or ["#999999"])}


def image(uri: str | None, grid=None, opacity: float = 1.0) -> dict:
    """The layout image: ``uri`` stretched over ``grid`` in data coordinates; hidden when ``uri`` is None."""
    if uri is None or grid is None:
        return {"source": "", "visible": False, "xref": "x", "yref": "y", "opacity": opacity}
    return {
        "source": uri,
        "visible": True,
        "xref": "x",
        "yref": "y",
        "x": grid.x0,
        "y": grid.y1,
        "sizex": grid.x1 - grid.x0,
        "sizey": grid.y1 - grid.y0,
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
        "opacity": opacity,
    }


def frame_trace(full: cloud.View) -> dict:
    """Two invisible points at the cloud's corners: autorange frames the cloud though no state is drawn."""
    x0, x1, y0, y1 = full
    return {
        "type": "scatter",
        "x": [x0, x1],
        "y": [y0, y1],
        "mode": "lines",  # no markers: nothing to hover, click or lasso
        "line": {"width": 0},
        "opacity": 0,
        "hoverinfo": "skip",
        "showlegend": False,
        "uid": FRAME_UID,
    }


def note(n_drawn: int, in_view: int | None, as_points: bool) -> dict:
    """The annotation saying how the cloud is shown (``in_view`` None: the whole cloud)."""
    if in_view is None:
        text = f"{n_drawn:,} states as density · zoom in to see points"
    elif as_points:
        text = f"{in_view:,} of {n_drawn:,} states in view as points · double-click to see all"
    else:
        text = f"{in_view:,} of {n_drawn:,} states in view as density · zoom in further to see points"
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.995,
        "y": 0.005,
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 11, "color": "#6c757d"},
        "bgcolor": "rgba(255,255,255,0.75)",
    }


def lod_content(
    xy: np.ndarray,
    marker: dict,
    opacity: float | np.ndarray,
    view: cloud.View | None,
    key: tuple | None,
    selected: bool = False,
) -> Lod:
    """What the drawn states ``xy`` show at ``view`` (None: the whole cloud, cached under ``key``).

    ``opacity``: the states' own marker opacity (fade by correctness), which also weighs the density."""
    n = len(xy)
    weights = (
        None if np.isscalar(opacity) else np.asarray(opacity, dtype=np.float64) / projection.DEFAULT_OPACITY
    )
    fade = IMAGE_FADE if selected else 1.0
    if view is None:
        uri, grid = cloud.density_image(
            key, xy, cloud.extent(xy, key and key[:2] + key[3:4]), weights=weights, **color_source(marker)
        )
        return Lod(np.zeros(0, dtype=np.int64), image(uri, grid, fade), note(n, None, False))
    wide = cloud.padded(view)
    rows = cloud.rows_in_view(xy, wide)
    x0, x1, y0, y1 = view
    sub = xy[rows]
    in_view = int(
        np.count_nonzero((sub[:, 0] >= x0) & (sub[:, 0] <= x1) & (sub[:, 1] >= y0) & (sub[:, 1] <= y1))
    )
    if len(rows) <= cloud.budget():
        return Lod(rows, image(None, None, fade), note(n, in_view, True))
    source = color_source(marker)
    picked = {k: (v[rows] if k in ("values", "codes") else v) for k, v in source.items()}
    uri, grid = cloud.density_image(
        None, sub, wide, weights=None if weights is None else weights[rows], **picked
    )
    return Lod(rows[:0], image(uri, grid, fade), note(n, in_view, False))


def image_fields(entry: dict) -> dict:
    """The fields of a layout image a view change replaces (not its opacity: the selection fade owns it)."""
    return {k: v for k, v in entry.items() if k != "opacity"}


def _typed(values: np.ndarray, dtype: str) -> dict:
    """A 1-D array as plotly.js's base64 typed-array spec (how plotly.py sends numpy arrays)."""
    data = np.ascontiguousarray(values, dtype="<" + dtype)
    return {"dtype": dtype, "bdata": base64.b64encode(data.tobytes()).decode()}


def state_fields(xy: np.ndarray, rows: np.ndarray, opacity: float | np.ndarray, hover: dict | None) -> dict:
    """The fields of one state trace holding the drawn ``rows`` (coordinates as uint16 typed arrays)."""
    if len(rows) == 0:
        return {"x": [], "y": [], "opacity": opacity if np.isscalar(opacity) else [], "customdata": [],
                "text": None, "hoverinfo": "none"}  # fmt: skip
    pts = np.clip(np.rint(xy[rows]), 0, 65535).astype(np.uint16)
    fields = {
        "x": _typed(pts[:, 0], "u2"),
        "y": _typed(pts[:, 1], "u2"),
        "opacity": opacity if np.isscalar(opacity) else _typed(np.asarray(opacity)[rows], "f4"),
        "customdata": [],
        "text": None,
        "hoverinfo": "none",
    }
    if hover:
        text = hover.get("text")
        fields.update(hover, hoverinfo="all", text=None if text is None else np.asarray(text).tolist())
    return fields


def zoom_patch(
    xy: np.ndarray,
    marker: dict,
    opacity: float | np.ndarray,
    content: Lod,
    hover: Callable[[np.ndarray, int], dict],
) -> Patch:
    """The Patch a zoom sends: each colour bin's trace holds its states of ``content.rows`` (as
    ``state_fields``), the image and the note follow the view. ``hover(rows, bin)``: the hover fields."""
    patch = Patch()
    bins, palette = projection.state_bins(marker)
    n_traces = projection.state_trace_count(len(palette))
    groups = cloud.split_by_bin(bins, content.rows, n_traces)
    for b, (slot, members) in enumerate(zip(projection.state_slots(n_traces), groups, strict=True)):
        fields = state_fields(xy, members, opacity, hover(members, b) if len(members) else None)
        patch["data"][slot]["marker"]["opacity"] = fields.pop("opacity")
        for name, value in fields.items():
            patch["data"][slot][name] = value
    for name, value in image_fields(content.image).items():
        patch["layout"]["images"][0][name] = value
    patch["layout"]["annotations"][0] = content.note
    return patch
