"""Trainer timings: server seconds per epoch (train + autoregressive prediction) and per step callback.

Usage: ``python bench/trainer.py [--epochs 10]``; prints one JSON object.
Runs in a temporary cache folder unless ``RNNX_CACHE_DIR`` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RNNX_CACHE_DIR", tempfile.mkdtemp(prefix="rnnx-bench-"))


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(samples), 4),
        "min_s": round(min(samples), 4),
        "n": len(samples),
    }


def bench_epochs(layers: int, epochs: int) -> dict:
    """Median seconds of ``train_epoch`` (data, prediction, validation, training) after warm-up."""
    from model import trainer

    started = time.perf_counter()
    state = trainer.new_state(f"bench-{layers}", trainer.Settings(layers=layers))
    first_build = time.perf_counter() - started
    state = trainer.train_epoch(state)  # traces the training step
    samples = []
    for _ in range(epochs):
        t = time.perf_counter()
        state = trainer.train_epoch(state)
        samples.append(time.perf_counter() - t)
    return {"layers": layers, "first_build_s": round(first_build, 3), **_stats(samples)}


def bench_step_callback(epochs: int) -> dict:
    """Median seconds of the page's step handler: load from cache, train, save, build the figures."""
    import app  # noqa: F401  (registers the pages)
    from components.cards import trainer_session
    from services.trainer import TrainerService
    from serving import sessions

    trainer = TrainerService(sessions.session_store())
    sid = "bench-callback"
    args = ("sine", "lstm", None, 25, 0.0)
    trainer.handle("trainer-session", sid, *args)
    trainer.handle("step-button", sid, *args)
    samples = []
    for _ in range(epochs):
        t = time.perf_counter()
        state, notice, animate = trainer.handle("step-button", sid, *args)
        trainer_session.views(state, notice, animate)
        samples.append(time.perf_counter() - t)
    return _stats(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    t = time.perf_counter()
    import tensorflow  # noqa: F401

    result = {
        "tensorflow_import_s": round(time.perf_counter() - t, 2),
        "epoch": [bench_epochs(n, args.epochs) for n in (1, 3, 7)],
        "step_callback_default": bench_step_callback(args.epochs),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
