"""Benchmark of the nearest-neighbours view on the stored states; prints one JSON object.

Over the prepared ``--dataset`` (default ``imdb~all``: 2.4 million IMDB states x 100 units) of
``RNNX_CACHE_DIR``, as the server reads them (float16, memory-mapped):

- ``index``: the IVF index (:mod:`model.neighbors_ivf`) built from the stored states (seconds, lists,
  bytes on disk); it is saved into the cache when the preparation has not stored one yet;
- ``ivf`` and ``exact``: per-query times (k=10, p50 and p95 over ``--queries`` random states, their
  own row left out, and with their whole sequence left out) of the index and of the exact scan
  (``--exact-queries`` of them above the exact limit: seconds each there; all of them below it);
- ``recall_at_10``: the share of the exact ten (a batched float32 scan re-ranked in float64, ties by
  row) that the index returns, and ``same_distances``: the share of queries whose ten distances equal
  the exact ones (a miss between states at the same distance is a tie, not an error);
- ``answer``: the card's whole answer through ``services.neighbors`` (query, table, ring trace, JSON).

    RNNX_CACHE_DIR=... RNNX_DATA_DIR=... python bench/neighbors.py [--dataset imdb~all] [--queries 200]
                                                                   [--exact-queries 5] [--skip-build]
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

K = 10


def _stats(values: list[float]) -> dict:
    arr = np.asarray(values) * 1000
    return {"p50_ms": round(float(np.median(arr)), 2), "p95_ms": round(float(np.percentile(arr, 95)), 2)}


def exact_answers(hidden: np.ndarray, rows: np.ndarray, excludes: list[slice], block: int = 1 << 18) -> list:
    """The exact ``K`` nearest of each query row: float32 scores of all states in blocks (the states
    cast once, in memory), the best 4K re-ranked in float64 by :func:`model.neighbors.finish`."""
    from model import neighbors as core

    n, keep = len(hidden), 4 * K
    queries = core.to_float32(hidden[rows])
    best_d = np.full((len(rows), 0), np.inf, np.float32)
    best_i = np.zeros((len(rows), 0), np.int64)
    for start in range(0, n, block):
        x = core.to_float32(hidden[start : start + block])
        d2 = np.einsum("ij,ij->i", x, x)[None, :] - 2.0 * (queries @ x.T)
        for j, cut in enumerate(excludes):
            lo, hi = max(cut.start, start), min(cut.stop, start + len(x))
            if lo < hi:
                d2[j, lo - start : hi - start] = np.inf
        part = np.argpartition(d2, keep - 1, axis=1)[:, :keep]
        best_d = np.concatenate([best_d, np.take_along_axis(d2, part, 1)], axis=1)
        best_i = np.concatenate([best_i, part + start], axis=1)
        part = np.argpartition(best_d, keep - 1, axis=1)[:, :keep]
        best_d, best_i = np.take_along_axis(best_d, part, 1), np.take_along_axis(best_i, part, 1)
    return [core.finish(hidden, queries[j], best_i[j], K) for j in range(len(rows))]


def timed_queries(index, hidden: np.ndarray, rows: np.ndarray, excludes: list[slice]) -> tuple[list, list]:
    found, times = [], []
    for row, cut in zip(rows, excludes, strict=True):
        vector = np.asarray(hidden[row], dtype=np.float32)
        start = time.perf_counter()
        found.append(index.query(vector, K, cut))
        times.append(time.perf_counter() - start)
    return found, times


def recall(found: list, exact: list) -> dict:
    hits = sum(len(set(f.rows.tolist()) & set(e.rows.tolist())) for f, e in zip(found, exact, strict=True))
    same = sum(np.allclose(f.distances, e.distances) for f, e in zip(found, exact, strict=True))
    return {"recall_at_10": round(hits / (K * len(exact)), 4), "same_distances": round(same / len(exact), 4)}


def build_index(dataset: str, hidden: np.ndarray, build: bool) -> tuple[dict, object]:
    """Build the IVF index from the stored states (timed; unless ``build`` is False and one is stored);
    store it if the cache has none yet."""
    from model import arrays, neighbors_ivf, prepare, storage

    key = prepare._keys(dataset, None)["neighbors"]
    stored_before = arrays.contains(key)
    start = time.perf_counter()
    built = neighbors_ivf.build(hidden) if build or not stored_before else None
    seconds = time.perf_counter() - start
    if not stored_before:
        storage.save_neighbor_index(key, built, {"params": neighbors_ivf.params(), "bench": True})
    index = prepare.load_neighbor_index(dataset)
    nbytes = sum(p.stat().st_size for p in arrays.folder_for(key).iterdir() if p.is_file())
    facts = {
        "build_s": round(seconds, 1) if built is not None else None,
        "lists": int(len(index.centroids)),
        "probe_rows": neighbors_ivf.PROBE_ROWS,
        "bytes_on_disk": nbytes,
        "stored_before_this_run": stored_before,
        "memory_mapped": isinstance(index.order, np.memmap),
    }
    return facts, index


def bench_answer(dataset: str, queries: int) -> dict:
    """The card's answer as the callback computes it: service query, table, ring trace, JSON."""
    from plotly.io.json import to_json_plotly

    from components import analytics_neighbors as view
    from services import analysis as analysis_service
    from services import neighbors as service

    analysis, _dmax, xy = analysis_service.load(dataset, "pca")
    rng = np.random.default_rng(2)
    times, first, kinds = [], None, set()
    for i in range(queries):
        seq = int(rng.integers(0, analysis.n_sequences))
        start = time.perf_counter()
        found = service.neighbors_of(dataset, analysis, seq, None, K, bool(i % 2))
        to_json_plotly(
            [
                view.neighbor_table(found, analysis).to_plotly_json(),
                view.ring_trace(xy, found, analysis.words),
            ]
        )
        elapsed = time.perf_counter() - start
        kinds.add(found.kind)
        if first is None:
            first = elapsed  # opens the states and the index in this process
        else:
            times.append(elapsed)
    return {"kind": sorted(kinds), "first_s": round(first, 4), **_stats(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="imdb~all")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--exact-queries", type=int, default=5)
    parser.add_argument("--skip-build", action="store_true", help="time no build when one is stored")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from model import neighbors as core
    from model import prepare

    states, analysis = prepare.load_states(args.dataset), prepare.load_analysis(args.dataset)
    if states is None or analysis is None:
        print(json.dumps({"dataset": args.dataset, "error": "not prepared in RNNX_CACHE_DIR"}))
        return
    hidden = states["hidden"]
    rng = np.random.default_rng(7)
    rows = rng.integers(0, len(hidden), args.queries)
    seqs = np.searchsorted(analysis.offsets, rows, side="right") - 1
    modes = {
        "own_row_left_out": [slice(int(r), int(r) + 1) for r in rows],
        "other_sequences_only": [analysis.rows(int(s)) for s in seqs],
    }
    result = {
        "dataset": args.dataset,
        "cpus": os.cpu_count(),
        "states": int(len(hidden)),
        "units": int(hidden.shape[1]),
        "dtype": str(hidden.dtype),
    }
    indexed = core.needs_index(*hidden.shape)  # else the service answers with the exact scan
    result["index"], index = (
        build_index(args.dataset, hidden, not args.skip_build) if indexed else ("below the exact limit", None)
    )
    result["ivf"], result["exact"] = {}, {}
    start = time.perf_counter()
    exact_index = core.ExactIndex(hidden)
    result["exact"]["open_s"] = round(time.perf_counter() - start, 2)
    for mode, excludes in modes.items():
        exact = exact_answers(hidden, rows, excludes)
        if index is not None:
            found, times = timed_queries(index, hidden, rows, excludes)
            result["ivf"][mode] = {**_stats(times), **recall(found, exact)}
        few = slice(0, args.exact_queries if indexed else len(rows))
        scanned, times = timed_queries(exact_index, hidden, rows[few], excludes[few])
        result["exact"][mode] = {**_stats(times), **recall(scanned, exact[few])}
    result["answer"] = bench_answer(args.dataset, min(args.queries, 100))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
