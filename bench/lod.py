"""Benchmark of the projection's level of detail; prints one JSON object.

For a cloud of ``--states`` random clustered points (default 2.4 million, binary EP) and, with
``--real``, the prepared whole IMDB test split of ``RNNX_CACHE_DIR`` when present: the density PNG of
the whole cloud (render time, median of ``--repeat``, and bytes), then a zoom on a region holding about
the point budget (``RNNX_POINT_BUDGET``, default 150,000): rows-in-view time and the size of the Patch
the zoom callback sends (state traces with hover data, image, note) as Dash serialises it.

    RNNX_DATA_DIR=... python bench/lod.py [--states 2400000] [--repeat 3] [--real]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components import analytics_density as density_view  # noqa: E402
from components import analytics_projection as projection  # noqa: E402
from components import analytics_view as view  # noqa: E402
from services import cloud  # noqa: E402


def _median_seconds(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def _zoom_for_budget(xy: np.ndarray, budget: int) -> cloud.View:
    """A square view around the densest spot whose padded range holds about ``budget`` states."""
    centre = np.median(xy, axis=0).astype(float)
    lo, hi = 1.0, float(np.ptp(xy, axis=0).max())
    for _ in range(40):
        half = (lo + hi) / 2
        v = (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)
        if len(cloud.rows_in_view(xy, cloud.padded(v))) > budget:
            hi = half
        else:
            lo = half
    return (centre[0] - lo, centre[0] + lo, centre[1] - lo, centre[1] + lo)


def measure(xy: np.ndarray, ep: np.ndarray, seq: np.ndarray, step: np.ndarray, repeat: int) -> dict:
    """Density of the whole cloud, then one zoom to about the budget, as the callbacks compute them."""
    from dash._utils import to_json

    names = ["negative", "positive"]
    marker = projection.base_colors(ep, np.zeros(len(xy), dtype=int), names, "ep")
    full = cloud.extent(xy)
    source = density_view.color_source(marker)
    seconds, (uri, grid) = _median_seconds(lambda: cloud.density_image(None, xy, full, **source), repeat)
    result = {
        "states": len(xy),
        "density_seconds": round(seconds, 3),
        "density_png_bytes": len(uri) * 3 // 4,
        "density_pixels": [grid.width, grid.height],
    }
    budget = cloud.budget()
    zoom = _zoom_for_budget(xy, budget)
    seconds, rows = _median_seconds(lambda: cloud.rows_in_view(xy, cloud.padded(zoom)), repeat)
    hover = {"seq": seq, "step": step, "ep": ep, "names": names, "mode": "ep"}

    def patch_of_zoom() -> str:
        content = density_view.lod_content(xy, marker, projection.DEFAULT_OPACITY, zoom, None)
        patch = density_view.zoom_patch(
            xy,
            marker,
            projection.DEFAULT_OPACITY,
            content,
            lambda members, b: view.hover_fields(hover, marker, members, b),
        )
        return to_json(patch)

    patch_seconds, body = _median_seconds(patch_of_zoom, repeat)
    result.update(
        {
            "budget": budget,
            "zoom_view_share_of_width": round(float(zoom[1] - zoom[0]) / (full[1] - full[0]), 4),
            "rows_in_view": len(rows),
            "rows_in_view_seconds": round(seconds, 4),
            "zoom_patch_seconds": round(patch_seconds, 3),
            "zoom_patch_bytes": len(body),
            "zoom_patch_bytes_per_state": round(len(body) / max(len(rows), 1), 1),
        }
    )
    return result


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``n`` states in a few Gaussian clusters over the view span, sequences of about 100 steps."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(8_000, 57_000, size=(12, 2))
    which = rng.integers(0, len(centres), size=n)
    xy = (centres[which] + rng.normal(0, 4_000, size=(n, 2))).clip(0, 65_535).astype(np.float32)
    p = rng.random(n).astype(np.float32)
    seq = np.arange(n) // 100
    return xy, np.stack([1 - p, p], axis=1), seq, np.arange(n) % 100


def real() -> tuple[np.ndarray, ...] | None:
    """The prepared whole IMDB test split, if this cache holds it."""
    from model import prepare
    from services.analysis import to_view_coordinates

    for dataset, n in (("imdb~all", None), ("imdb", 25_000)):
        try:
            analysis = prepare.load_analysis(dataset, n)
            raw = prepare.load_projection(dataset, "pca", n)
        except Exception:  # noqa: BLE001 - an id this version does not know
            continue
        if analysis is not None and raw is not None:
            xy = to_view_coordinates(raw)
            return xy, np.asarray(analysis.ep), analysis.sequence_of_state(), analysis.step_of_state()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2_400_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real", action="store_true")
    args = parser.parse_args()
    out = {"synthetic": measure(*synthetic(args.states), args.repeat)}
    if args.real:
        found = real()
        out["real_imdb_all"] = measure(*found, args.repeat) if found else "not prepared in RNNX_CACHE_DIR"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
