"""Density images of large point clouds, in pure numpy: counts per pixel, colours, a hand-made PNG.

A cloud too large to send as points is drawn as one image: each pixel's states are counted with
``np.bincount`` over integer pixel indices (weighted where states are faded), coloured by the mean
of a value through a colour table (binary EP) or by the count-weighted mix of class colours, and
made more opaque the more states it holds (log count, so single states stay visible). The opacity
is scaled to a high quantile of the counts, not the one densest pixel, and with class colours to that
of the pixels where the same class leads, so a sparse class reads as clearly as a dense one. Faded
states (weights below one) keep the shape of the cloud but scale its pixels' opacity by their mean
weight. The PNG is written with zlib and struct only.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

DEFAULT_SIZE = 600  # pixels along the longer side of the view
MIN_ALPHA = 0.8  # the opacity of a pixel holding one state (those at the reference count are opaque)
# The reference count: this quantile of the filled pixels' counts (per leading class with class colours)
# is opaque. The densest pixel holds hundreds of times the typical one; scaling to it left most pale.
DENSE_QUANTILE = 0.95
# zlib level of the PNG: level 1 writes a noisy 600 x 600 image about four times faster than level 6
# for about 5 % more bytes (bench/density.py); every zoom beyond the budget draws a new one.
PNG_LEVEL = 1


@dataclass(frozen=True)
class Grid:
    """A pixel grid over the data rectangle x0..x1 (left to right), y0..y1 (row 0 at y1, the top)."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: int
    height: int

    @property
    def n_pixels(self) -> int:
        return self.width * self.height


def grid_for(view: tuple[float, float, float, float], size: int = DEFAULT_SIZE) -> Grid:
    """Square pixels over ``view`` (x0, x1, y0, y1), ``size`` of them along its longer side.

    The grid ends at a whole pixel: it may reach a little past x1 and below y0."""
    x0, x1, y0, y1 = (float(v) for v in view)
    span = max(x1 - x0, y1 - y0)
    if not (math.isfinite(span) and span > 0):
        raise ValueError("A density view needs a finite, non-empty range.")
    step = span / size
    width = max(1, min(size, math.ceil((x1 - x0) / step - 1e-9)))
    height = max(1, min(size, math.ceil((y1 - y0) / step - 1e-9)))
    return Grid(x0, x0 + width * step, y1 - height * step, y1, width, height)


def framed_pixels(xy: np.ndarray, grid: Grid) -> np.ndarray:
    """Pixel of each point on ``grid`` framed by one pixel all round: row-major over ``(height + 2) x
    (width + 2)``, the grid's pixel (r, c) at (r + 1, c + 1); points outside land on the frame.

    Works in the points' own float type, in place (no mask, no temporaries beyond two coordinate
    arrays): float32 points cost about a dozen passes of 4 bytes a point."""
    xy = np.asarray(xy)
    if len(xy) == 0:
        return np.zeros(0, dtype=np.intp)
    width, height = grid.width, grid.height
    framed = (width + 2) * (height + 2)
    dtype = np.float32 if xy.dtype == np.float32 and framed < 2**24 else np.float64
    x, y = xy[:, 0], xy[:, 1]
    col = np.subtract(x, grid.x0, dtype=dtype)
    col *= width / (grid.x1 - grid.x0)
    row = np.subtract(grid.y1, y, dtype=dtype)
    row *= height / (grid.y1 - grid.y0)
    for frac, limit in ((col, width), (row, height)):
        np.floor(frac, out=frac)
        np.fmax(frac, -1, out=frac)  # NaN as well: onto the frame
        np.fmin(frac, limit, out=frac)
    # a point exactly on the right or bottom edge belongs to the last pixel
    edge = np.flatnonzero(col == width)
    col[edge[x[edge] <= grid.x1]] = width - 1
    edge = np.flatnonzero(row == height)
    row[edge[y[edge] >= grid.y0]] = height - 1
    row *= width + 2
    row += col
    row += width + 3
    return row.astype(np.intp)


def _inner(sums: np.ndarray, grid: Grid, per_pixel: int | None = None) -> np.ndarray:
    """The grid's own pixels of per-framed-pixel ``sums`` (their frame dropped), row-major: (n_pixels,),
    or (n_pixels, per_pixel) for ``per_pixel`` sums each."""
    framed = sums.reshape(grid.height + 2, grid.width + 2, per_pixel or 1)[1:-1, 1:-1]
    return framed.reshape(grid.n_pixels, per_pixel) if per_pixel else framed.reshape(-1)


def pixel_index(xy: np.ndarray, grid: Grid) -> np.ndarray:
    """Row-major pixel of each point (row 0 at the top), -1 for points outside the grid."""
    framed = framed_pixels(xy, grid)
    row, col = np.divmod(framed, grid.width + 2)
    inside = (row >= 1) & (row <= grid.height) & (col >= 1) & (col <= grid.width)
    return np.where(inside, (row - 1) * grid.width + col - 1, -1).astype(np.int64)


def bin_sums(pixels: np.ndarray, n_pixels: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Per pixel, the number (or the summed ``weights``) of the points in it; -1 pixels are left out."""
    keep = pixels >= 0
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[keep]
    return np.bincount(pixels[keep], weights=w, minlength=n_pixels).astype(np.float64)


def _framed_sums(framed: np.ndarray, grid: Grid, weights: np.ndarray | None = None) -> np.ndarray:
    size = (grid.width + 2) * (grid.height + 2)
    return _inner(np.bincount(framed, weights=weights, minlength=size), grid).astype(np.float64)


def render(
    xy: np.ndarray,
    grid: Grid,
    *,
    values: np.ndarray | None = None,
    lut: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    palette: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """The (height, width, 4) uint8 RGBA image of the points ``xy`` on ``grid``.

    Colour: with ``values`` in [0, 1] and ``lut`` (256, 3), the colour of each pixel's (weighted) mean
    value; with integer ``codes`` and ``palette`` (n, 3), the count-weighted mix of the class colours.
    Alpha grows with the log of the (weighted) count; empty pixels are transparent."""
    framed = framed_pixels(xy, grid)
    n = grid.n_pixels
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    mix = codes is not None and palette is not None and not (values is not None and lut is not None)
    raw = _framed_sums(framed, grid) if w is not None else None  # states per pixel, faded or not
    count = _framed_sums(framed, grid, w) if w is not None or not mix else None
    per_class = None
    if mix:  # per pixel and class; an unweighted count is their sum (whole numbers: exact)
        k = len(palette)
        framed *= k
        np.add(framed, np.clip(np.asarray(codes), 0, k - 1), out=framed, casting="unsafe")
        size = (grid.width + 2) * (grid.height + 2) * k
        per_class = _inner(np.bincount(framed, weights=w, minlength=size), grid, k)
        count = per_class.sum(axis=1, dtype=np.float64) if count is None else count
    raw = count if raw is None else raw
    filled = raw > 0
    safe = np.where(count > 0, count, 1.0)
    if values is not None and lut is not None:
        value = np.clip(np.asarray(values, dtype=np.float64), 0, 1)
        if w is not None:
            value *= w
        mean = _framed_sums(framed, grid, value) / safe
        rgb = np.asarray(lut, dtype=np.uint8)[np.rint(mean * (len(lut) - 1)).astype(np.int64)]
    elif mix:
        rgb = np.rint(per_class @ np.asarray(palette, dtype=np.float64) / safe[:, None]).astype(np.uint8)
    else:
        rgb = np.zeros((n, 3), dtype=np.uint8)
    leader = None if per_class is None else per_class.argmax(axis=1)
    alpha = opacity_of_counts(raw, reference_counts(raw, leader))
    if w is not None:  # faded states: the pixel's mean weight scales its opacity
        alpha = alpha * np.clip(count / np.where(filled, raw, 1.0), 0.0, 1.0)
    alpha = np.where(filled, alpha, 0.0)
    rgba = np.zeros((n, 4), dtype=np.uint8)
    rgba[:, :3] = np.where(filled[:, None], rgb, 0)
    rgba[:, 3] = np.rint(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
    return rgba.reshape(grid.height, grid.width, 4)


def reference_counts(count: np.ndarray, leader: np.ndarray | None = None) -> np.ndarray | float:
    """The count at which a pixel becomes opaque: ``DENSE_QUANTILE`` of the filled pixels' counts, or
    with ``leader`` (each pixel's leading class) that of the pixels the same class leads, per pixel.

    Per class it reads the quantile off one histogram of (class, whole count): a few milliseconds for
    a 600 x 600 image, where a quantile per class took tens."""
    filled = count > 0
    if not filled.any():
        return 1.0
    if leader is None:
        return float(np.quantile(count[filled], DENSE_QUANTILE))
    values = np.rint(count[filled]).astype(np.int64)
    lead = np.asarray(leader)[filled].astype(np.int64)
    width, k = int(values.max()) + 1, int(lead.max()) + 1
    if width * k > 4_000_000:  # an extreme pile in one pixel: sort per class instead
        per_leader = np.ones(k)
        for c in np.unique(lead):
            per_leader[c] = np.quantile(values[lead == c], DENSE_QUANTILE)
        return per_leader[leader]
    cdf = np.cumsum(np.bincount(lead * width + values, minlength=k * width).reshape(k, width), axis=1)
    reached = cdf >= DENSE_QUANTILE * cdf[:, -1:]
    per_leader = np.where(cdf[:, -1] > 0, reached.argmax(axis=1), 1).astype(np.float64)
    return per_leader[leader]


def opacity_of_counts(count: np.ndarray, reference: np.ndarray | float | None = None) -> np.ndarray:
    """Per pixel opacity from its count: ``MIN_ALPHA`` for one state, 1 from ``reference`` states up
    (default: the densest pixel), log-scaled between; below one (faded states only) proportionally fainter."""
    top = np.asarray(float(count.max(initial=0.0)) if reference is None else reference, dtype=np.float64)
    scale = np.log(np.maximum(top, 1.0))
    safe = np.where(scale > 0, scale, 1.0)
    grown = np.where(scale > 0, MIN_ALPHA + (1 - MIN_ALPHA) * np.log(np.maximum(count, 1.0)) / safe, 1.0)
    return np.where(count >= 1, np.minimum(grown, 1.0), MIN_ALPHA * count)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def encode_png(rgba: np.ndarray, level: int = PNG_LEVEL) -> bytes:
    """An 8-bit RGBA PNG of the (height, width, 4) uint8 image (no row filter, zlib ``level``)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width, _ = rgba.shape
    raw = np.zeros((height, width * 4 + 1), dtype=np.uint8)  # each row: filter byte 0, then pixels
    raw[:, 1:] = rgba.reshape(height, width * 4)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), level)),
            _chunk(b"IEND", b""),
        ]
    )


def data_uri(png: bytes) -> str:
    """The PNG as a ``data:`` URI for a figure's layout image."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
