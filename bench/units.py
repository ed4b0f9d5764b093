"""Benchmark of the hidden-units card; prints one JSON object.

Server time of its callbacks as Dash runs them (the callback plus serialising its response), median
and p95 over random selections of the prepared IMDB analysis (1,000 reviews, 96,842 states by
default): the heatmap (a new sequence: full figure; a new threshold: a Patch), the dataset-wide
match search (uncached: every call a new threshold), and the first load of the states. Without a
prepared IMDB in ``RNNX_CACHE_DIR`` it runs on random, slowly drifting states of the same shape (``"data": "synthetic"``).

    RNNX_CACHE_DIR=... RNNX_DATA_DIR=... python bench/units.py [--selections 30] [--states 96842]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYNTHETIC_MODULE = "bench_units_synthetic"


def _stats(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 2),
        "p95": round(float(np.percentile(np.asarray(values), 95)), 2),
    }


def _install_synthetic(n_states: int, units: int) -> None:
    """A stand-in pipeline module with IMDB-sized random states (reviews of 10-100 words)."""
    import types

    from model.artifacts import Analysis

    rng = np.random.default_rng(0)
    lengths = []
    while sum(lengths) < n_states:
        lengths.append(int(rng.integers(10, 101)))
    lengths[-1] -= sum(lengths) - n_states
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n_seq = len(lengths)
    words = [[f"w{int(i)}" for i in rng.integers(0, 500, size=n)] for n in lengths]
    # units that drift slowly along the text (as real ones do), stored as float16 like the cache
    from scipy.signal import lfilter

    drift = lfilter([0.3], [1.0, -0.9], rng.normal(0, 1, size=(n_states, units)), axis=0)
    hidden = np.tanh(drift).astype(np.float16)
    ep = rng.random((n_states, 1)).astype(np.float32)
    analysis = Analysis(
        dataset="imdb",
        class_names=["negative", "positive"],
        texts=[" ".join(w) for w in words],
        words=words,
        labels=rng.integers(0, 2, size=n_seq),
        predicted=rng.integers(0, 2, size=n_seq),
        confidence=rng.random(n_seq),
        offsets=offsets,
        ep=np.hstack([1 - ep, ep]),
        distance=rng.random(n_states).astype(np.float32),
    )
    module = types.ModuleType(SYNTHETIC_MODULE)
    module.DATASETS = {"imdb": {"label": "IMDB (synthetic states)"}}
    module.PROJECTIONS = ("pca",)
    module.load_analysis = lambda dataset, n=None: analysis if dataset == "imdb" else None
    module.load_projection = lambda dataset, method, n=None: None
    module.load_states = lambda dataset, n=None: {"hidden": hidden, "cell": (hidden * 2.5).astype(np.float16)}
    module.is_prepared = lambda dataset, method, n=None: False
    sys.modules[SYNTHETIC_MODULE] = module
    from services import registry

    registry.install(registry.Services(pipeline=SYNTHETIC_MODULE))


def _timed(func, **kwargs) -> tuple[float, int, object]:
    from plotly.io.json import to_json_plotly

    start = time.perf_counter()
    out = func(**kwargs)
    body = to_json_plotly({"response": out})
    return (time.perf_counter() - start) * 1000, len(body.encode()), out


def bench(selections: int) -> dict:
    from components.cards import analytics_units_card as card
    from services import units as service

    start = time.perf_counter()
    found = service.data("imdb")
    first_load_ms = (time.perf_counter() - start) * 1000
    if found is None:
        return {"error": "IMDB is not prepared"}
    analysis, states = found
    rng = np.random.default_rng(1)
    lengths = np.diff(analysis.offsets)
    picks = rng.choice(
        np.flatnonzero(lengths >= 3), size=min(selections, int((lengths >= 3).sum())), replace=False
    )
    draw_ms, draw_bytes, patch_ms, patch_bytes, search_ms, on_counts, totals = [], [], [], [], [], [], []
    first = states.defaults["hidden"]
    for i, k in enumerate(picks):
        k = int(k)
        selection = {"dataset": "imdb", "seq": k, "step": None}
        span = list(service.default_span(analysis, k, None))
        # around the first threshold the card offers, new every call (no cache hit)
        threshold = round(first * (0.8 + 0.4 * rng.random()), 3) + i * 1e-6
        args = {"selection": selection, "span": span, "threshold": threshold, "kind": "hidden"}
        ms, size, out = _timed(card.show_units, **args, sort="index", dataset="imdb", drawn=None)
        draw_ms.append(ms)
        draw_bytes.append(size)
        ms, size, _ = _timed(
            card.show_units,
            **{**args, "threshold": threshold * 0.9},
            sort="index",
            dataset="imdb",
            drawn=out["drawn"],
        )
        patch_ms.append(ms)
        patch_bytes.append(size)
        ms, _size, _ = _timed(card.find_unit_matches, **args, dataset="imdb")
        search_ms.append(ms)
        query = service.check_query(analysis, states, k, "hidden", tuple(span), threshold)
        on = service.on_units(analysis, states, query)
        on_counts.append(len(on))
        if len(on):
            totals.append(service.search("imdb", query, on).total)
    return {
        "n_sequences": analysis.n_sequences,
        "n_hidden_states": analysis.n_states,
        "units": states.n_units,
        "selections": len(picks),
        "states_first_load_ms": round(first_load_ms, 1),
        "heatmap_ms": _stats(draw_ms),
        "heatmap_bytes_median": int(statistics.median(draw_bytes)),
        "threshold_patch_ms": _stats(patch_ms),
        "threshold_patch_bytes_median": int(statistics.median(patch_bytes)),
        "search_ms": _stats(search_ms),
        "on_units_median": float(statistics.median(on_counts)),
        "matches_found_median": float(statistics.median(totals)) if totals else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=30)
    parser.add_argument("--states", type=int, default=96_842, help="size of the synthetic stand-in")
    parser.add_argument("--synthetic", action="store_true", help="random states even if IMDB is prepared")
    args = parser.parse_args()
    import dash

    dash.Dash(__name__, use_pages=False)  # the card's callbacks register against an app
    data = "imdb"
    if not args.synthetic:
        from model import prepare

        if prepare.load_states("imdb") is None:
            data = "synthetic"
    else:
        data = "synthetic"
    if data == "synthetic":
        _install_synthetic(args.states, 100)
    result = {"data": data, **bench(args.selections)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
