"""Benchmark of one density image of a large cloud (``services.cloud.density_image``); prints one JSON object.

For the prepared whole IMDB test split of ``RNNX_CACHE_DIR`` (``imdb~all``, 2.4 million states, PCA)
when present, and always for a synthetic cloud of ``--states`` points (default 2.4 million, twelve
Gaussian clusters, random EP: a worst case for the PNG): the time of one render as the zoom callback
pays it (pixels, counts, colours, PNG, data URI; nothing cached), p50 and p95 over ``--repeat``, and
how much of it is the PNG. Views: the whole cloud, and a zoom on its centre a quarter as wide (still
above the point budget, so drawn as density). Colours: mean EP (binary), and the class mix
(``actual``). ``png_part``: the PNG and data URI alone.

    RNNX_CACHE_DIR=... RNNX_DATA_DIR=... python bench/density.py [--states 2400000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _times(fn, repeat: int) -> list[float]:
    fn()  # warm: first-touch of the memory map, imports
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _stats(times: list[float]) -> dict:
    arr = np.asarray(times) * 1000
    return {"p50_ms": round(float(np.median(arr)), 1), "p95_ms": round(float(np.percentile(arr, 95)), 1)}


def measure(xy: np.ndarray, ep: np.ndarray, repeat: int) -> dict:
    """Per-render times of the whole cloud and of a zoom, coloured by EP and by class mix."""
    from components import analytics_density as density_view
    from components import analytics_projection as projection
    from model import density
    from services import cloud

    names = ["negative", "positive"]
    labels = (ep[:, 1] > 0.5).astype(np.int64)  # stand-in class labels for the class mix
    full = cloud.extent(xy)
    cx, cy = (full[0] + full[1]) / 2, (full[2] + full[3]) / 2
    w, h = (full[1] - full[0]) / 8, (full[3] - full[2]) / 8
    views = {"whole": full, "zoom_quarter": (cx - w, cx + w, cy - h, cy + h)}
    out: dict = {"states": len(xy), "dtype": str(xy.dtype)}
    for mode in ("ep", "actual"):
        marker = projection.base_colors(ep, labels, names, mode)
        for name, view in views.items():
            grid = density.grid_for(view)
            rgba = density.render(xy, grid, **density_view.color_source(marker))

            def render(view=view, marker=marker) -> None:
                cloud.density_image(None, xy, view, **density_view.color_source(marker))

            total = _times(render, repeat)
            png = _times(lambda rgba=rgba: density.data_uri(density.encode_png(rgba)), repeat)
            out[f"{mode}_{name}"] = {
                "render": _stats(total),
                "png_part": _stats(png),
                "pixels": [grid.width, grid.height],
                "png_bytes": len(density.encode_png(rgba)),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2_400_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench.lod import real, synthetic

    found = real()
    out = {"cpus": os.cpu_count()}
    out["real_imdb_all"] = measure(found[0], np.asarray(found[1]), args.repeat) if found else "not prepared"
    xy, ep, _seq, _step = synthetic(args.states)
    out["synthetic"] = measure(xy, ep, args.repeat)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
