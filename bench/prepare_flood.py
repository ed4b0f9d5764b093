"""Ten sessions click Prepare on ten analysis variants at once; prints one JSON object.

Starts ``gunicorn -w 2 --threads 4 app:server`` with an empty cache (``RNNX_PROFILE=quick`` by
default, so each preparation takes seconds, not minutes), then ten browser sessions each post the
Prepare button's background callback for a different variant (dataset x projection x cell type),
and poll it as the renderer does. Every 0.25 s it samples the server's process tree: how many
processes run a preparation (``model.prepare``), their summed resident memory, the load average.
Reports the peak process count and memory, when each job answered and when the last one did.

    python bench/prepare_flood.py                  # RNNX_MAX_JOBS default (cores // 2)
    python bench/prepare_flood.py --max-jobs 2 --profile full
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import DashClient, end_id, prepare_body, start_gunicorn, stop  # noqa: E402

VARIANTS = [
    (dataset, method)
    for method in ("pca", "umap", "tsne")
    for dataset in ("imdb", "reuters", "imdb@gru", "reuters@gru")
][:10]


def one_session(base: str, dataset: str, method: str, start: float, out: dict) -> None:
    client = DashClient(base)
    body = json.dumps(prepare_body(client.deps, dataset, method)).encode()
    path = f"/_dash-update-component?endId={end_id(client.get('/analytics')[1])}"
    _status, reply = client.request("POST", path, body)
    handles = json.loads(reply)
    poll = f"{path}&cacheKey={handles['cacheKey']}&job={handles['job']}"
    labels, errors = set(), []
    while time.time() - start < 3600:
        status, raw = client.request("POST", poll, body)
        try:
            reply = json.loads(raw) if raw else {}
        except ValueError:
            errors.append(f"{status}: {raw[:160]!r}")
            if len(errors) > 5:
                out[f"{dataset}/{method}"] = {"answered_s": None, "ok": False, "errors": errors}
                return
            time.sleep(0.5)
            continue
        if "progress" in reply:
            labels.add(str(reply["progress"])[:120])
        if "response" in reply:
            text = json.dumps(reply["response"])
            out[f"{dataset}/{method}"] = {
                "answered_s": round(time.time() - start, 1),
                "ok": "Prepared" in text,
                "saw_queued": any("queued, position" in label for label in labels),
                "poll_errors": errors,
            }
            return
        time.sleep(0.5)


def sample(master: int, stop_at: threading.Event, peaks: dict) -> None:
    while not stop_at.is_set():
        try:
            family = psutil.Process(master).children(recursive=True)
        except psutil.Error:
            break
        preparing, rss = 0, 0
        for proc in family:
            try:
                if "model.prepare" in " ".join(proc.cmdline()):
                    preparing += 1
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        peaks["prepare_processes"] = max(peaks.get("prepare_processes", 0), preparing)
        peaks["server_rss_mib"] = max(peaks.get("server_rss_mib", 0), round(rss / 2**20))
        peaks["load_1min"] = max(peaks.get("load_1min", 0.0), os.getloadavg()[0])
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-jobs", type=int, default=None, help="RNNX_MAX_JOBS (default: the server's)")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    args = parser.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="rnnx-flood-")
    env = {**os.environ, "RNNX_CACHE_DIR": cache, "RNNX_PROFILE": args.profile, "RNNX_WARMUP": "0"}
    env.update({"RNNX_AUTO_PREPARE": "0", "RNNX_WORKER_WARM": "0"})
    if args.max_jobs:
        env["RNNX_MAX_JOBS"] = str(args.max_jobs)
    proc, base = start_gunicorn(2, env, threads=4)
    peaks: dict = {}
    done = threading.Event()
    sampler = threading.Thread(target=sample, args=(proc.pid, done, peaks), daemon=True)
    sampler.start()
    start = time.time()
    results: dict = {}
    threads = [threading.Thread(target=one_session, args=(base, d, m, start, results)) for d, m in VARIANTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    stop(proc)
    print(
        json.dumps(
            {
                "bench": "prepare_flood",
                "sessions": len(VARIANTS),
                "profile": args.profile,
                "max_jobs": args.max_jobs or max(1, (os.cpu_count() or 2) // 2),
                "peak_prepare_processes": peaks.get("prepare_processes"),
                "peak_server_rss_mib": peaks.get("server_rss_mib"),
                "peak_load_1min": round(peaks.get("load_1min", 0.0), 1),
                "last_answered_s": max((r["answered_s"] or 0 for r in results.values()), default=None),
                "all_ok": all(r["ok"] for r in results.values()) and len(results) == len(VARIANTS),
                "jobs": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
