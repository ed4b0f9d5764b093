"""Which points lie inside a drawn outline (a lasso polygon or a box), vectorised over millions of points.

Pure numpy. The polygon test is the even-odd rule with the half-open convention
``min(y0, y1) <= py < max(y0, y1)`` for an edge to count, so a horizontal edge never counts
and a vertex shared by two edges is counted once. Points are first cut to the polygon's
bounding box, then sorted by ``y`` once: each edge touches only the contiguous run of points
in its own ``y`` band (a slice, found by binary search on 16-bit keys of a linear-time radix
sort), so the cost is one pass per edge over the few points level with it, not over all points.
"""

from __future__ import annotations

import numpy as np


def in_box(x: np.ndarray, y: np.ndarray, xs: tuple[float, float], ys: tuple[float, float]) -> np.ndarray:
    """Mask of the points inside the closed box ``xs`` × ``ys`` (either order of each pair)."""
    x0, x1 = sorted(float(v) for v in xs)
    y0, y1 = sorted(float(v) for v in ys)
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def in_polygon(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Mask of the points ``(x, y)`` inside the polygon ``(px, py)`` (even-odd rule; closed implicitly)."""
    x = np.asarray(x)
    y = np.asarray(y)
    px = np.asarray(px, dtype=np.float64)
    py = np.asarray(py, dtype=np.float64)
    inside = np.zeros(x.shape, dtype=bool)
    if len(px) < 3 or not x.size:
        return inside
    near = np.flatnonzero(in_box(x, y, (px.min(), px.max()), (py.min(), py.max())))
    if not len(near):
        return inside
    cx, cy = x[near], y[near]
    bins = _y_bins(float(py.min()), float(py.max()))
    keys = bins(cy)
    order = np.argsort(keys, kind="stable")  # a radix sort on 16-bit keys: linear time
    keys, sx, sy = keys[order], cx[order], cy[order]
    flips = np.zeros(len(order), dtype=bool)
    ex1, ey1 = np.roll(px, -1), np.roll(py, -1)
    lo_y, hi_y = np.minimum(py, ey1), np.maximum(py, ey1)
    starts = np.searchsorted(keys, bins(lo_y), side="left")
    stops = np.searchsorted(keys, bins(hi_y), side="right")
    for i in np.flatnonzero((stops > starts) & (hi_y > lo_y)).tolist():
        a, b = starts[i], stops[i]
        ry = sy[a:b].astype(np.float64)
        slope = (ex1[i] - px[i]) / (ey1[i] - py[i])
        crossing = px[i] + (ry - py[i]) * slope
        flips[a:b] ^= (ry >= lo_y[i]) & (ry < hi_y[i]) & (sx[a:b] < crossing)
    inside[near[order[flips]]] = True
    return inside


def _y_bins(lo: float, hi: float):
    """A monotonic map of ``y`` in ``[lo, hi]`` to 65,536 bins (coarse keys for a radix sort)."""
    scale = 65535.0 / (hi - lo) if hi > lo else 0.0

    def bins(values: np.ndarray) -> np.ndarray:
        scaled = (np.asarray(values, dtype=np.float64) - lo) * scale
        return np.clip(np.floor(scaled), 0, 65535).astype(np.uint16)

    return bins


def in_polygon_reference(x: list[float], y: list[float], px: list[float], py: list[float]) -> list[bool]:
    """The same rule point by point in plain Python (the tests' reference)."""
    n = len(px)
    found = []
    for qx, qy in zip(x, y, strict=True):
        inside = False
        for i in range(n if n >= 3 else 0):
            x0, y0, x1, y1 = px[i], py[i], px[(i + 1) % n], py[(i + 1) % n]
            if min(y0, y1) <= qy < max(y0, y1) and qx < x0 + (qy - y0) * ((x1 - x0) / (y1 - y0)):
                inside = not inside
        found.append(inside)
    return found
