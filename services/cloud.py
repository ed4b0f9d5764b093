"""Level of detail for the projection's state cloud (no Dash): what a view holds, its density image, clicks.

A drawn set (all states, or each sequence's last) larger than ``model.config.point_budget()`` is sent
as a density image; a zoom that brings at most the budget into view gets those states as points.
Views are ``(x0, x1, y0, y1)`` in view coordinates (``services.analysis.VIEW_SPAN``). The browser's
zoom events (``relayoutData``) and the stored view are checked here before any arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np

from model import config, density, memo
from services import registry
from services.analysis import VIEW_SPAN
from services.validation import InvalidInput

View = tuple[float, float, float, float]  # x0, x1, y0, y1
VIEW_LIMIT = 16 * VIEW_SPAN  # no zoom or pan of a cloud in 0..65535 goes further out
PAD = 0.1  # points are sent for the view widened by this share each side (a small pan shows them)
MAX_EVENT_KEYS = 64
MAX_EVENT_CHARS = 200_000


def budget() -> int:
    """The most states drawn as points (``RNNX_POINT_BUDGET``)."""
    return config.point_budget()


def is_lod(n_drawn: int) -> bool:
    """Whether a drawn set of ``n_drawn`` states is shown at level of detail (above the budget)."""
    return n_drawn > budget()


# ---------------------------------------------------------------- geometry (pure numpy)


def extent(xy: np.ndarray, key: Hashable | None = None) -> View:
    """The cloud's bounding box (at least one unit wide and tall); kept in this process's cache under
    ``key`` (dataset, method, final only) when given: a pass over millions of states costs 0.1 s."""

    def compute() -> View:
        points = np.asarray(xy)
        if len(points) == 0:
            return (0.0, 1.0, 0.0, 1.0)
        lo, hi = points.min(axis=0).astype(float), points.max(axis=0).astype(float)
        hi = np.maximum(hi, lo + 1.0)
        return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))

    if key is None:
        return compute()
    return memo.remember("extent", (registry.current().pipeline, key, len(xy)), compute)


def padded(view: View, pad: float = PAD) -> View:
    """``view`` widened by ``pad`` of its width and height on each side."""
    x0, x1, y0, y1 = view
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    return (x0 - dx, x1 + dx, y0 - dy, y1 + dy)


def rows_in_view(xy: np.ndarray, view: View) -> np.ndarray:
    """Rows (ascending) of the points inside ``view``, edges included."""
    x0, x1, y0, y1 = view
    x, y = xy[:, 0], xy[:, 1]
    return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def split_by_bin(bins: np.ndarray, rows: np.ndarray, n_bins: int) -> list[np.ndarray]:
    """``rows`` grouped by their colour bin ``bins[row]``, ascending within each of ``n_bins`` bins."""
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    if len(rows) == 0:
        return [rows[:0]] * n_bins
    of_rows = np.asarray(bins)[rows]
    order = np.argsort(of_rows, kind="stable")
    return np.split(rows[order], np.cumsum(np.bincount(of_rows, minlength=n_bins))[:-1])[:n_bins]


def nearest_row(xy: np.ndarray, x: float, y: float) -> int | None:
    """The drawn state nearest to (x, y); the lowest row on a tie; None for an empty set."""
    if len(xy) == 0:
        return None
    dx = xy[:, 0].astype(np.float64) - x
    dy = xy[:, 1].astype(np.float64) - y
    return int(np.argmin(dx * dx + dy * dy))


# ---------------------------------------------------------------- the density image (cached)


def density_image(
    key: Hashable | None,
    xy: np.ndarray,
    view: View,
    *,
    values: np.ndarray | None = None,
    lut: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    palette: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    size: int = density.DEFAULT_SIZE,
) -> tuple[str, density.Grid]:
    """(PNG data URI, pixel grid) of the drawn states over ``view`` (see ``model.density.render``).

    ``key`` names the drawing (dataset, method, colour mode, final only, fade, view): it is kept in this
    process's cache under it; None renders without caching (zoomed views are rarely asked twice, and the
    cache also holds the analyses)."""
    grid = density.grid_for(view, size)

    def draw() -> str:
        rgba = density.render(xy, grid, values=values, lut=lut, codes=codes, palette=palette, weights=weights)
        return density.data_uri(density.encode_png(rgba))

    if key is None:
        return draw(), grid
    cache_key = (registry.current().pipeline, key, view_key(view), size)
    return memo.remember("density", cache_key, draw), grid


def view_key(view: View) -> tuple[float, ...]:
    """A view rounded to 1/100 unit, for cache keys."""
    return tuple(round(float(v), 2) for v in view)


# ---------------------------------------------------------------- browser values


def _coordinate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("A projection range must be numbers.")
    if not math.isfinite(value) or abs(value) > VIEW_LIMIT:
        raise InvalidInput(f"A projection range must be finite and within ±{VIEW_LIMIT:,.0f}.")
    return float(value)


def _pair(values: object) -> tuple[float, float]:
    if not isinstance(values, list | tuple) or len(values) != 2:
        raise InvalidInput("A projection range must be two numbers.")
    lo, hi = sorted(_coordinate(v) for v in values)
    if not hi > lo:
        raise InvalidInput("A projection range must not be empty.")
    return lo, hi


def _axis(event: dict, axis: str) -> tuple[float, float] | None:
    if f"{axis}.range" in event:
        return _pair(event[f"{axis}.range"])
    ends = (event.get(f"{axis}.range[0]"), event.get(f"{axis}.range[1]"))
    if ends[0] is None and ends[1] is None:
        return None
    if ends[0] is None or ends[1] is None:
        raise InvalidInput("A projection range needs both ends.")
    return _pair(list(ends))


def view_change(event: object) -> dict | str | None:
    """What a ``relayoutData`` event does to the view: ``"reset"`` (autorange), ``{"x", "y"}`` with
    the new (lo, hi) of each axis it sets (None where unchanged), or None (not a zoom or pan).

    InvalidInput for anything malformed, non-finite, out of bounds or too large."""
    if event is None:
        return None
    if not isinstance(event, dict) or len(event) > MAX_EVENT_KEYS or len(repr(event)) > MAX_EVENT_CHARS:
        raise InvalidInput("The projection's zoom event is malformed.")
    if event.get("xaxis.autorange") is True or event.get("yaxis.autorange") is True:
        return "reset"
    x, y = _axis(event, "xaxis"), _axis(event, "yaxis")
    return None if x is None and y is None else {"x": x, "y": y}


def stored_view(value: object) -> dict | None:
    """The ``projection-view`` store: None (the whole cloud) or ``{"key", "x": [lo, hi], "y": [lo, hi]}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"key", "x", "y"}:
        raise InvalidInput("The stored projection view is malformed.")
    key = value["key"]
    if not isinstance(key, str) or len(key) > 200:
        raise InvalidInput("The stored projection view is malformed.")
    return {"key": key, "x": list(_pair(value["x"])), "y": list(_pair(value["y"]))}


def apply_change(change: dict | str | None, current: View | None, full: View) -> View | None:
    """The view after ``change`` (from ``view_change``) of ``current`` (None: the whole cloud ``full``).

    None means the whole cloud."""
    if change == "reset":
        return None
    if not change:
        return current
    base = current or full
    x = change.get("x") or (base[0], base[1])
    y = change.get("y") or (base[2], base[3])
    return (x[0], x[1], y[0], y[1])
