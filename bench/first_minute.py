"""The first minute: from ``python app.py`` on an empty cache to the default analyses being ready.

    python bench/first_minute.py [--datasets imdb reuters] [--timeout 600] [--port 0]

Starts ``python app.py`` (warm-up on, its default) with a fresh ``RNNX_CACHE_DIR`` and
polls, from this process, ``model.prepare.is_prepared(dataset, "pca")`` for the page's
default analysis of each dataset (the default number of sequences). Prints one JSON
object: seconds from the start to ``/healthz`` answering and to each dataset being
ready, plus the warm-up's own report (seconds per dataset and where the classifier
came from: the shipped pretrained files, the cache, or training). A benchmark, not a
test; the browser part (every figure drawn on /analytics) is measured separately.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def measure(datasets: list[str], timeout: float, port: int, cache_dir: str) -> dict:
    os.environ["RNNX_CACHE_DIR"] = cache_dir  # before model.* reads it
    os.environ.pop("RNNX_PROFILE", None)
    from model import prepare
    from serving import warmup

    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "RNNX_WARMUP_DATASETS": ",".join(datasets)}
    for name in ("RNNX_WARMUP", "RNNX_DEMO_MODE"):
        env.pop(name, None)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds: dict[str, float | None] = {"healthz": None, **{name: None for name in datasets}}
    try:
        while time.monotonic() - start < timeout and None in seconds.values():
            elapsed = round(time.monotonic() - start, 1)
            if seconds["healthz"] is None and answers(f"http://127.0.0.1:{port}/healthz"):
                seconds["healthz"] = elapsed
            for name in datasets:
                if seconds[name] is None and prepare.is_prepared(name, "pca"):
                    seconds[name] = elapsed
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        status = warmup.status() or {}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
    return {
        "seconds_from_start": seconds,
        "goal_seconds": 60,
        "within_goal": all(v is not None and v <= 60 for v in seconds.values()),
        "warmup": status.get("done", {}),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["imdb", "reuters"])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnnx-first-minute-") as cache_dir:
        report = measure(args.datasets, args.timeout, args.port or free_port(), cache_dir)
        # The warm-up stops with the server; give it a moment to let go of the cache folder.
        time.sleep(2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
