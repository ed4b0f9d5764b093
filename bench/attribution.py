"""Bench attributions and counterfactuals on the prepared IMDB analysis; prints one JSON object.

- integrated gradients per sequence (100 words, LSTM 100 units, 48 steps): the first call in a
  process (TensorFlow import, model build, graph trace), then cold calls (computed) and warm calls
  (read back from the disk cache), median and p95;
- counterfactual search per sequence (numpy forward passes), guided by EP change and by
  attributions: time, how often it flips, how many edits.

    RNNX_CACHE_DIR=... RNNX_DATA_DIR=... python bench/attribution.py [--sequences 20]

Prepares IMDB first when the cache does not hold it (pretrained classifier: no training).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _stats(ms: list[float]) -> dict:
    return {
        "median_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "calls": len(ms),
    }


def _timed(work) -> tuple[object, float]:
    start = time.perf_counter()
    value = work()
    return value, (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="imdb")
    parser.add_argument("--sequences", type=int, default=20)
    args = parser.parse_args()
    if "RNNX_CACHE_DIR" not in os.environ:
        os.environ["RNNX_CACHE_DIR"] = tempfile.mkdtemp(prefix="rnnx-bench-attr-")
    from model import attribution, prepare
    from services import analysis as analysis_service
    from services import attribution as service

    dataset = args.dataset
    prepared_s = None
    if not prepare.is_prepared(dataset, "pca"):
        _out, ms = _timed(lambda: prepare.prepare(dataset, "pca"))
        prepared_s = round(ms / 1000, 1)
    analysis, _dmax, _xy = analysis_service.load(dataset, "pca")
    rng = np.random.default_rng(0)
    picks = [int(k) for k in rng.choice(analysis.n_sequences, size=args.sequences, replace=False)]
    _first, first_ms = _timed(lambda: attribution.attribute_text(dataset, analysis.texts[picks[0]]))
    cold, warm, gaps = [], [], []
    for k in picks:
        found, ms = _timed(lambda k=k: attribution.attribute_text(dataset, analysis.texts[k]))
        cold.append(ms)
        gaps.append(abs(found.gap))
        service.attribution_of(dataset, k, analysis.texts[k])  # stored
        _again, ms = _timed(lambda k=k: service.attribution_of(dataset, k, analysis.texts[k]))
        warm.append(ms)
    counterfactuals = {}
    for guide in ("epchange", "attribution"):
        times, flips, edits = [], 0, []
        service.counterfactual(dataset, {"dataset": dataset, "seq": picks[0], "step": None}, guide)  # warm-up
        for k in picks:
            selection = {"dataset": dataset, "seq": k, "step": None}
            (found, _used, _note), ms = _timed(
                lambda s=selection, g=guide: service.counterfactual(dataset, s, g)
            )
            times.append(ms)
            flips += int(found.flipped)
            edits.append(len(found.edits))
        counterfactuals[guide] = {
            **_stats(times),
            "flipped": f"{flips}/{len(picks)}",
            "mean_edits": round(float(np.mean(edits)), 2),
        }
    words = [len(analysis.words[k]) for k in picks]
    print(
        json.dumps(
            {
                "dataset": dataset,
                "prepared_s": prepared_s,
                "sequences": len(picks),
                "mean_words": round(float(np.mean(words)), 1),
                "ig_steps": attribution.DEFAULT_STEPS,
                "ig_first_call_ms": round(first_ms, 1),
                "ig_cold": _stats(cold),
                "ig_warm_cached": _stats(warm),
                "ig_max_completeness_gap": float(f"{max(gaps):.2e}"),
                "counterfactual": counterfactuals,
                "cpus": os.cpu_count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
