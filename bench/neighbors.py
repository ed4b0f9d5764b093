"""Benchmark of the nearest-neighbours view; prints one JSON object.

For each size (default: IMDB 96,842 states x 100 units and Reuters 163,236 x 20, today's prepared
sizes, with clustered synthetic states of that shape; ``--real`` uses the prepared datasets of
``RNNX_CACHE_DIR`` where present): the exact index's build time, the query time (k=10, median and
p95 over ``--queries`` random states, with the state itself or its whole sequence left out), and the
card's whole answer (service query, table, ring trace and their JSON) as the callback computes it.
``--scale`` adds larger sizes for the exact scan; ``--approx`` builds the pynndescent index at
the given sizes in a fresh process (numba's compilation included, as a new worker would pay it).

    RNNX_DATA_DIR=... python bench/neighbors.py [--queries 200] [--scale 1000000x100,2000000x100]
                                                [--approx 96842x100] [--real]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_SIZES = {"imdb": (96_842, 100, 1000), "reuters": (163_236, 20, 2300)}
BENCH_MODULE = "rnnx_bench_neighbors_data"


def clustered_states(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Hidden-state-like data: tanh of noisy cluster centres, float32."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(64, d)).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 1 << 18):
        stop = min(n, start + (1 << 18))
        noise = rng.normal(scale=0.5, size=(stop - start, d)).astype(np.float32)
        out[start:stop] = np.tanh(centers[rng.integers(0, 64, stop - start)] + noise)
    return out


def synthetic_analysis(name: str, n_states: int, n_seq: int, n_classes: int, seed: int = 0):
    """An Analysis of ``n_states`` states over ``n_seq`` sequences (words and EP made up)."""
    from model.artifacts import Analysis

    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n_states), size=n_seq - 1, replace=False))
    offsets = np.concatenate([[0], cuts, [n_states]]).astype(np.int64)
    vocab = np.array([f"w{i}" for i in range(5000)])
    words = [vocab[rng.integers(0, 5000, int(n))].tolist() for n in np.diff(offsets)]
    ep = rng.dirichlet(np.ones(n_classes), size=n_states).astype(np.float32)
    names = ["negative", "positive"] if n_classes == 2 else [f"class{i}" for i in range(n_classes)]
    return Analysis(
        dataset=name,
        class_names=names,
        texts=[" ".join(w) for w in words],
        words=words,
        labels=np.zeros(n_seq, int),
        predicted=np.zeros(n_seq, int),
        confidence=np.ones(n_seq),
        offsets=offsets,
        ep=ep,
        distance=np.ones(n_states, np.float32),
    )


def _stats(values: list[float]) -> dict:
    arr = np.asarray(values) * 1000
    return {"median_ms": round(float(np.median(arr)), 3), "p95_ms": round(float(np.percentile(arr, 95)), 3)}


def bench_index(hidden: np.ndarray, analysis, queries: int) -> dict:
    """Build and query times of the exact index."""
    from model import neighbors as core

    start = time.perf_counter()
    index = core.ExactIndex(hidden)
    build = time.perf_counter() - start
    rng = np.random.default_rng(1)
    rows = rng.integers(0, len(hidden), queries)
    own, other = [], []
    seqs = np.searchsorted(analysis.offsets, rows, side="right") - 1 if analysis is not None else rows
    for row, seq in zip(rows, seqs, strict=True):
        t = time.perf_counter()
        index.query(hidden[row], 10, slice(row, row + 1))
        own.append(time.perf_counter() - t)
        if analysis is not None:
            t = time.perf_counter()
            index.query(hidden[row], 10, analysis.rows(int(seq)))
            other.append(time.perf_counter() - t)
    out = {"states": len(hidden), "units": hidden.shape[1], "build_s": round(build, 4), "query": _stats(own)}
    if other:
        out["query_other_sequences"] = _stats(other)
    return out


def bench_answer(dataset: str, analysis, xy: np.ndarray, queries: int) -> dict:
    """The card's answer as the callback computes it: query, table, ring trace, JSON."""
    from plotly.io.json import to_json_plotly

    from components import analytics_neighbors as view
    from services import neighbors as service

    rng = np.random.default_rng(2)
    times, first = [], None
    for i in range(queries):
        seq = int(rng.integers(0, analysis.n_sequences))
        t = time.perf_counter()
        found = service.neighbors_of(dataset, analysis, seq, None, 10, bool(i % 2))
        payload = [
            view.neighbor_table(found, analysis).to_plotly_json(),
            view.ring_trace(xy, found, analysis.words),
        ]
        to_json_plotly(payload)
        elapsed = time.perf_counter() - t
        if first is None:
            first = elapsed  # includes loading the states and building the index in this process
        else:
            times.append(elapsed)
    return {"first_s": round(first, 4), **_stats(times)}


def _install_module(datasets: dict) -> None:
    """A stand-in pipeline module serving ``datasets`` (name -> (analysis, hidden)) to the service."""
    from services import registry

    module = types.ModuleType(BENCH_MODULE)
    module.DATASETS = {k: {"label": k} for k in datasets}
    module.PROJECTIONS = ("pca",)
    module.load_analysis = lambda name, n=None: datasets[name][0]
    module.load_projection = lambda name, method, n=None: None
    module.load_states = lambda name, n=None: {"hidden": datasets[name][1], "cell": None}
    sys.modules[BENCH_MODULE] = module
    registry.install(registry.Services(pipeline=BENCH_MODULE))


def approx_build(n: int, d: int) -> dict:
    """The pynndescent index at ``n`` x ``d`` in a fresh process: import, build (JIT included), query."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
t0 = time.perf_counter()
from model import neighbors as core
import pynndescent  # noqa: F401
t1 = time.perf_counter()
from bench.neighbors import clustered_states
x = clustered_states({n}, {d})
t2 = time.perf_counter()
index = core.ApproxIndex(x)
t3 = time.perf_counter()
exact = core.ExactIndex(x)
hits, times = 0, []
for row in range(0, {n}, max(1, {n} // 100)):
    t = time.perf_counter()
    got = index.query(x[row], 10, slice(row, row + 1))
    times.append(time.perf_counter() - t)
    hits += len(set(got.rows.tolist()) & set(exact.query(x[row], 10, slice(row, row + 1)).rows.tolist()))
print(json.dumps({{"states": {n}, "units": {d}, "import_s": round(t1 - t0, 2), "build_s": round(t3 - t2, 2),
    "query_median_ms": round(sorted(times)[len(times) // 2] * 1000, 3), "recall_at_10": round(hits / (10 * len(times)), 4)}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"states": n, "units": d, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in part.lower().split("x")) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--scale", default="", help="extra sizes NxD for the exact scan, comma-separated")
    parser.add_argument("--approx", default="", help="sizes NxD to build the pynndescent index at")
    parser.add_argument("--real", action="store_true", help="use the prepared datasets where present")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    result: dict = {"cpus": os.cpu_count(), "datasets": {}, "scale": [], "approx": []}
    served = {}
    for name, (n, d, n_seq) in DEFAULT_SIZES.items():
        analysis, hidden, source = None, None, "synthetic"
        if args.real:
            from model import prepare

            states, analysis = prepare.load_states(name), prepare.load_analysis(name)
            if states is not None and analysis is not None:
                hidden, source = np.asarray(states["hidden"]), "prepared"
        if hidden is None:
            analysis = synthetic_analysis(name, n, n_seq, 2 if name == "imdb" else 5)
            hidden = clustered_states(n, d)
        served[name] = (analysis, hidden)
        result["datasets"][name] = {"source": source, "index": bench_index(hidden, analysis, args.queries)}
    _install_module(served)
    for name, (analysis, hidden) in served.items():
        xy = np.random.default_rng(3).random((len(hidden), 2)).astype(np.float32) * 65535
        result["datasets"][name]["answer"] = bench_answer(name, analysis, xy, min(args.queries, 100))
    for n, d in _sizes(args.scale):
        result["scale"].append(bench_index(clustered_states(n, d), None, min(args.queries, 50)))
    for n, d in _sizes(args.approx):
        result["approx"].append(approx_build(n, d))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
