"""Cold and warm ``prepare`` per stage for both datasets; prints one JSON object.

    python bench/prepare.py [--datasets imdb reuters] [--projection pca]

Cold runs use a fresh cache directory; warm runs repeat them on the same one.
Peak memory is the largest resident set of the prepare processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(dataset: str, projection: str, cache_dir: str) -> dict:
    env = {**os.environ, "RNNX_CACHE_DIR": cache_dir, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "model.prepare", "--dataset", dataset, "--projection", projection, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["wall_seconds"] = round(time.perf_counter() - start, 2)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["imdb", "reuters"])
    parser.add_argument("--projection", default="pca")
    args = parser.parse_args()
    report = {"projection": args.projection, "cpu_count": os.cpu_count(), "datasets": {}}
    for dataset in args.datasets:
        with tempfile.TemporaryDirectory(prefix="rnnx-bench-") as cache_dir:
            cold = run(dataset, args.projection, cache_dir)
            warm = run(dataset, args.projection, cache_dir)
        report["datasets"][dataset] = {
            "test_accuracy": cold["test_accuracy"],
            "n_sequences": cold["n_sequences"],
            "n_hidden_states": cold["n_hidden_states"],
            "cold_seconds": cold["seconds"],
            "cold_wall_seconds": cold["wall_seconds"],
            "warm_seconds": warm["seconds"],
            "warm_wall_seconds": warm["wall_seconds"],
            "warm_cached": warm["cached"],
        }
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
