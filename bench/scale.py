"""The whole IMDB test split (issue 12): cold prepare, then load time and memory per size; prints JSON.

    python bench/scale.py [--cache-dir DIR] [--sizes 1000 5000 10000 all] [--umap] [--reuters]

1. Cold ``python -m model.prepare --dataset imdb --sequences all --projection pca`` in a fresh
   cache (the shipped pretrained classifier; trained if it does not apply), with the child's
   peak resident memory (``wait4`` rusage).
2. Each size of ``--sizes`` is prepared (a prefix of the whole split: copied, not re-extracted),
   then loaded in a fresh process: ``load_analysis`` + ``load_states`` + ``load_projection``,
   timed, then every projected point and EP read once (what drawing the page touches); resident
   memory (RSS, and USS/PSS: memory-mapped pages are shared between processes) after each.
3. ``--umap``: the UMAP projection of the whole split (states cached: the projection stage alone).
4. ``--reuters``: Reuters' whole test split too, and one process holding both full datasets.

Benchmarks, not tests: numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOAD_CHILD = r"""
import json, os, pickle, sys, time
import numpy as np
import psutil

def memory():
    info = psutil.Process().memory_full_info()
    return {"rss_mb": round(info.rss / 2**20, 1), "uss_mb": round(info.uss / 2**20, 1),
            "pss_mb": round(info.pss / 2**20, 1)}

from model import prepare, storage  # imports before the clock: the app has them loaded
base = memory()
report = {"import_memory": base, "datasets": {}}
for dataset, n in json.loads(sys.argv[1]):
    n = None if n is None else int(n)
    start = time.perf_counter()
    analysis = prepare.load_analysis(dataset, n)
    t_analysis = time.perf_counter() - start
    states = prepare.load_states(dataset, n)
    points = prepare.load_projection(dataset, "pca", n)
    seconds = time.perf_counter() - start
    loaded = memory()
    start = time.perf_counter()
    touched = float(np.asarray(points, np.float64).sum() + np.asarray(analysis.ep, np.float64).sum())
    touched += float(np.max(analysis.distance, initial=0))
    touch_seconds = time.perf_counter() - start
    key = prepare._keys(dataset, n)["analysis"]
    start = time.perf_counter()
    with open(storage.folder(key) / "meta.pkl", "rb") as handle:
        meta = pickle.load(handle)
    meta_file = time.perf_counter() - start
    import diskcache, tempfile
    with tempfile.TemporaryDirectory() as folder:
        probe = diskcache.Cache(folder)
        probe.set("meta", meta)
        probe.close()
        probe = diskcache.Cache(folder)
        start = time.perf_counter()
        probe.get("meta")
        meta_diskcache = time.perf_counter() - start
        probe.close()
    report["datasets"][f"{dataset}:{n}"] = {
        "n_sequences": analysis.n_sequences,
        "n_states": analysis.n_states,
        "hidden_dtype": str(states["hidden"].dtype),
        "load_seconds": round(seconds, 3),
        "load_analysis_seconds": round(t_analysis, 3),
        "memory_after_load": loaded,
        "read_points_and_ep_seconds": round(touch_seconds, 3),
        "memory_after_reading": memory(),
        "metadata_load_seconds": {"file": round(meta_file, 3), "diskcache": round(meta_diskcache, 3)},
    }
print(json.dumps(report))
"""


def _env(cache_dir: str) -> dict:
    return {**os.environ, "RNNX_CACHE_DIR": cache_dir, "TF_CPP_MIN_LOG_LEVEL": "3", "RNNX_PROFILE": "full"}


def prepare(cache_dir: str, dataset: str, sequences: str, method: str = "pca") -> dict:
    """One ``python -m model.prepare`` child: its JSON summary, wall time and peak memory."""
    command = [sys.executable, "-m", "model.prepare", "--dataset", dataset, "--sequences", sequences]
    command += ["--projection", method, "--json"]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, cwd=ROOT, env=_env(cache_dir), stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"prepare {dataset} {sequences} {method} failed:\n{stderr[-3000:]}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "n_sequences": summary["n_sequences"],
        "n_hidden_states": summary["n_hidden_states"],
        "seconds": summary["seconds"],
        "wall_seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),  # compare with wall: a busy machine
        "classifier_source": summary.get("classifier_source"),
        "cached": summary["cached"],
        "copied_from_larger_set": summary.get("copied_from_larger_set", False),
        "test_accuracy": summary["test_accuracy"],
    }


def load(cache_dir: str, entries: list[tuple[str, int]]) -> dict:
    """Load the prepared ``(dataset, n_sequences)`` sets in one fresh process; its report."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_CHILD, json.dumps(entries)],
        cwd=ROOT,
        env=_env(cache_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache-dir", help="reuse this cache (default: a fresh temporary one)")
    parser.add_argument("--sizes", nargs="+", default=["1000", "5000", "10000", "all"])
    parser.add_argument("--umap", action="store_true", help="also the UMAP projection of the whole split")
    parser.add_argument(
        "--reuters", action="store_true", help="also Reuters' whole split, both loaded at once"
    )
    args = parser.parse_args()
    own = None if args.cache_dir else tempfile.TemporaryDirectory(prefix="rnnx-scale-")
    cache_dir = args.cache_dir or own.name
    report: dict = {"cpu_count": os.cpu_count(), "load_average": os.getloadavg(), "cache_dir": cache_dir}
    try:
        report["cold_prepare_imdb_all_pca"] = prepare(cache_dir, "imdb", "all")
        print(json.dumps(report), file=sys.stderr, flush=True)
        report["sizes"] = {}
        for size in args.sizes:
            prepared = prepare(cache_dir, "imdb", size)
            loaded = load(cache_dir, [("imdb", prepared["n_sequences"])])
            report["sizes"][size] = {"prepare": prepared, **next(iter(loaded["datasets"].values()))}
            report["sizes"][size]["import_memory"] = loaded["import_memory"]
            print(json.dumps(report["sizes"][size]), file=sys.stderr, flush=True)
        if args.reuters:
            reuters = report["reuters_all_pca"] = prepare(cache_dir, "reuters", "all")
            imdb_all = report["cold_prepare_imdb_all_pca"]["n_sequences"]
            both = [("imdb", imdb_all), ("reuters", reuters["n_sequences"])]
            report["both_full_loaded"] = load(cache_dir, both)
        if args.umap:
            report["imdb_all_umap"] = prepare(cache_dir, "imdb", "all", "umap")
        report["cache_mb"] = round(
            sum(p.stat().st_size for p in Path(cache_dir).rglob("*") if p.is_file()) / 2**20
        )
    finally:
        report["load_average_end"] = os.getloadavg()
        print(json.dumps(report))
        if own:
            own.cleanup()


if __name__ == "__main__":
    main()
