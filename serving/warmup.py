"""Warm-up: prepare the default datasets in the background so the first visitor does not wait.

``start()`` launches ``python -m serving.warmup imdb reuters`` as a detached,
low-priority process; that process holds an exclusive lock file in the cache
folder, so several web processes (or machines sharing the folder) starting at
once run one warm-up.  Each dataset is prepared by a fresh
``python -m model.prepare`` subprocess: TensorFlow never loads in a web process.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from model import config

ROOT = Path(__file__).resolve().parents[1]
LOCK_NAME = "warmup.lock"
log = logging.getLogger("rnnx.warmup")


def commands(datasets: Sequence[str]) -> list[list[str]]:
    """One ``model.prepare`` command line per dataset."""
    return [[sys.executable, "-m", "model.prepare", "--dataset", name, "--json"] for name in datasets]


def start(datasets: Sequence[str]) -> subprocess.Popen | None:
    """Launch the warm-up runner in its own session; returns it, or None when there is nothing to do."""
    if not datasets:
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "serving.warmup", *datasets], cwd=ROOT, start_new_session=True
    )


def run(datasets: Sequence[str], runner: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> int:
    """Prepare each dataset in turn unless another warm-up holds the lock; returns the failures."""
    if importlib.util.find_spec("model.prepare") is None:
        log.warning("warm-up skipped: model.prepare is not available")
        return 0
    lock_dir = config.cache_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / LOCK_NAME, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("warm-up already running elsewhere")
            return 0
        failures = 0
        for argv in commands(datasets):
            log.info("warm-up: %s", " ".join(argv[1:]))
            result = runner(argv, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
            if result.returncode != 0:
                failures += 1
                log.warning("warm-up step failed (exit %s): %s", result.returncode, " ".join(argv[1:]))
        return failures


def main(argv: list[str]) -> int:
    """Entry point of the detached runner (low priority, never fails the server)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.nice(10)
    run(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
