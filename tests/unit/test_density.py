"""Density images of large clouds (model.density): bincount against a plain loop, the PNG, the colours."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest

from components import analytics_colors as colors
from components import analytics_density as density_view
from components import analytics_projection as projection
from model import density


def _reference_sums(xy: np.ndarray, grid: density.Grid, weights: np.ndarray) -> np.ndarray:
    """Per pixel, the summed weights of its points, one point at a time."""
    sums = np.zeros((grid.height, grid.width))
    for (x, y), w in zip(xy.tolist(), weights.tolist(), strict=True):
        col = math.floor((x - grid.x0) / (grid.x1 - grid.x0) * grid.width)
        row = math.floor((grid.y1 - y) / (grid.y1 - grid.y0) * grid.height)
        col = grid.width - 1 if col == grid.width and x <= grid.x1 else col
        row = grid.height - 1 if row == grid.height and y >= grid.y0 else row
        if 0 <= col < grid.width and 0 <= row < grid.height:
            sums[row, col] += w
    return sums


def _decode_png(png: bytes) -> np.ndarray:
    """The RGBA pixels of an unfiltered 8-bit RGBA PNG, read back with zlib and struct."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        tag, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + data) & 0xFFFFFFFF
        chunks[tag] = chunks.get(tag, b"") + data
        pos += 12 + length
    width, height, depth, kind, _c, _f, _i = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, kind) == (8, 6) and b"IEND" in chunks
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(height, width * 4 + 1)
    assert (raw[:, 0] == 0).all()  # no row filter
    return raw[:, 1:].reshape(height, width, 4)


def test_grid_has_square_pixels_and_the_longer_side_gets_the_size():
    grid = density.grid_for((0, 200, 10, 60), size=100)
    assert (grid.width, grid.height) == (100, 25)
    assert (grid.x1 - grid.x0) / grid.width == pytest.approx((grid.y1 - grid.y0) / grid.height)
    assert grid.y1 == 60 and grid.x0 == 0
    with pytest.raises(ValueError):
        density.grid_for((1, 1, 0, 0))


def test_bincount_sums_equal_a_plain_loop():
    rng = np.random.default_rng(3)
    xy = rng.uniform(-5, 105, size=(2_000, 2)).astype(np.float32)
    xy[:4] = [[0, 0], [100, 100], [100, 0], [0, 100]]  # the grid's corners and edges
    weights = rng.uniform(0.1, 1, size=len(xy))
    grid = density.grid_for((0, 100, 0, 100), size=37)
    got = density.bin_sums(density.pixel_index(xy, grid), grid.n_pixels, weights).reshape(grid.height, -1)
    np.testing.assert_allclose(got, _reference_sums(xy, grid, weights))
    counts = density.bin_sums(density.pixel_index(xy, grid), grid.n_pixels)
    assert counts.sum() == int(((xy >= 0) & (xy <= 100)).all(axis=1).sum())


def test_png_decodes_back_to_the_same_pixels():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(7, 11, 4), dtype=np.uint8)
    assert np.array_equal(_decode_png(density.encode_png(rgba)), rgba)
    uri = density.data_uri(density.encode_png(rgba))
    assert uri.startswith("data:image/png;base64,")


def test_pixel_colour_is_the_mean_ep_colour_and_alpha_grows_with_the_count():
    lut = density_view.color_source({"colorscale": colors.EP_COLORSCALE, "color": np.zeros(1)})["lut"]
    grid = density.grid_for((0, 10, 0, 10), size=10)
    xy = np.array([[0.5, 9.5], [0.6, 9.4], [0.4, 9.6], [5.5, 5.5]])  # three in the top-left pixel, one alone
    ep = np.array([0.1, 0.3, 0.8, 1.0])
    rgba = density.render(xy, grid, values=ep, lut=lut)
    mean = ep[:3].mean()
    assert rgba[0, 0, :3].tolist() == lut[int(np.rint(mean * 255))].tolist()
    expected = colors.ep_hex(np.array([np.rint(mean * 255) / 255]))[0]
    r, g, b = (int(v) for v in rgba[0, 0, :3])
    assert f"#{r:02x}{g:02x}{b:02x}" == expected
    assert rgba[0, 0, 3] == 255  # the densest pixel is opaque
    assert rgba[4, 5, 3] == round(density.MIN_ALPHA * 255)  # one state: visible, fainter
    assert rgba[9, 9, 3] == 0 and rgba[:, :, 3].astype(bool).sum() == 2  # empty pixels: transparent


def test_class_mix_is_the_count_weighted_blend_of_class_colours():
    marker = projection.base_colors(np.eye(3)[[0, 0, 0, 2]], np.array([0, 0, 0, 2]), ["a", "b", "c"], "ep")
    source = density_view.color_source(marker)
    palette = source["palette"].astype(float)
    grid = density.grid_for((0, 4, 0, 4), size=4)
    xy = np.array([[1.5, 1.5]] * 4)
    rgba = density.render(xy, grid, **source)
    blend = (3 * palette[0] + palette[2]) / 4
    assert rgba[2, 1, :3].tolist() == np.rint(blend).astype(int).tolist()


def test_faded_states_weigh_less():
    grid = density.grid_for((0, 2, 0, 2), size=2)
    xy = np.array([[0.5, 1.5], [0.5, 1.5], [1.5, 0.5]])
    codes = np.array([0, 1, 0])
    palette = np.array([[255, 0, 0], [0, 0, 255]])
    rgba = density.render(xy, grid, codes=codes, palette=palette, weights=np.array([1.0, 0.25, 0.25]))
    assert rgba[0, 0, :3].tolist() == [204, 0, 51]  # red weighs four times blue
    assert rgba[1, 1, 3] == round(0.25 * density.MIN_ALPHA * 255)  # a faded state alone: fainter


def test_points_outside_the_grid_or_not_finite_are_left_out_in_float32_as_in_float64():
    grid = density.grid_for((0, 10, 0, 10), size=10)
    xy = np.array([[0.5, 9.5], [-3, 5], [12, 5], [5, -0.001], [np.nan, 5], [10, 0], [5, 1e30]], np.float32)
    assert density.pixel_index(xy, grid).tolist() == [0, -1, -1, -1, -1, 99, -1]
    rgba = density.render(xy, grid, codes=np.zeros(len(xy), int), palette=np.array([[255, 0, 0]]))
    assert rgba[:, :, 3].astype(bool).sum() == 2 and rgba[0, 0, 0] == rgba[9, 9, 0] == 255
    points = np.random.default_rng(5).uniform(-2, 12, size=(5_000, 2)).astype(np.float32)
    wide = density.grid_for((0, 10, 0, 7), size=23)
    assert np.array_equal(
        density.pixel_index(points, wide), density.pixel_index(points.astype(np.float64), wide)
    )
