"""Is ``/healthz`` answered at once while slow clients and busy callbacks fill the server? Prints JSON.

For each worker class (by default gunicorn's stock ``gthread``, then ``serving.gworker.HealthWorker``
from gunicorn.conf.py) it starts ``gunicorn -w W --threads T app:server`` on a free loopback port
and takes ``--probes`` ``GET /healthz`` probes idle, then again under load:

* ``--slowloris`` N connections that send a partial request head, then one more header line every
  ``--trickle`` s (reconnecting whenever the server closes one, as an attacker would);
* ``--busy`` M threads posting a real Dash callback (the pages router for ``/trainer``) on
  kept-alive connections, each posting again as soon as it has an answer.

Every probe is a fresh connection with a 5 s timeout, like the image's ``HEALTHCHECK`` (whose
timeout is 4 s; probes slower than that are counted). ``/readyz`` is probed too. Reported: p50,
p99 and max of the probes, how many failed or took over 4 s, the busy requests' throughput,
statuses and p50, and how many slowloris connections the server closed.

    python bench/health_under_load.py
    python bench/health_under_load.py --workers 1 --threads 2 --slowloris 6 --busy 4
    python bench/health_under_load.py --classes serving.gworker.HealthWorker
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import free_port, percentile, stop  # noqa: E402

HEALTHCHECK_TIMEOUT_S = 4.0  # the Dockerfile's HEALTHCHECK --timeout is 5 s, its urllib timeout 4 s
PROBE_TIMEOUT_S = 5.0


def router_call(pathname: str) -> bytes:
    """The body of the pages router callback (a real Dash callback; the health test posts it too)."""
    prop = {"id": "_pages_location", "property": "pathname", "value": pathname}
    return json.dumps(
        {
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [
                {"id": "_pages_content", "property": "children"},
                {"id": "_pages_store", "property": "data"},
            ],
            "inputs": [prop, {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"],
            "state": [],
        }
    ).encode()


def start(worker_class: str, workers: int, threads: int, env: dict[str, str], log: Path) -> tuple[Any, int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        worker_class,
        "-w",
        str(workers),
        "--threads",
        str(threads),
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*command, "app:server"],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if probe(port, "/healthz")[0] == 200:
            return proc, port
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gunicorn did not start; see {log}")


def probe(port: int, path: str) -> tuple[int | None, float]:
    """(status or None, seconds) of one GET on a fresh connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", path)
        reply = conn.getresponse()
        reply.read()
        return reply.status, time.perf_counter() - started
    except OSError:
        return None, time.perf_counter() - started
    finally:
        conn.close()


def probes(port: int, path: str, n: int, gap: float) -> dict[str, Any]:
    results = []
    for _ in range(n):
        results.append(probe(port, path))
        time.sleep(gap)
    seconds = [s for _, s in results]
    ms = lambda x: round(1000 * x, 1)  # noqa: E731
    return {
        "n": n,
        "p50_ms": ms(percentile(seconds, 0.5)),
        "p99_ms": ms(percentile(seconds, 0.99)),
        "max_ms": ms(max(seconds)),
        "failed": sum(1 for status, _ in results if status not in (200, 503)),
        "over_4s": sum(1 for s in seconds if s > HEALTHCHECK_TIMEOUT_S),
        "statuses": dict(Counter(str(status) for status, _ in results)),
    }


def slowloris(port: int, n: int, trickle: float, done: threading.Event, closed: list[int]) -> None:
    """Keep ``n`` partial heads open until ``done``; count the ones the server closes."""

    def opened() -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
            return sock
        except OSError:
            return None

    socks = [opened() for _ in range(n)]
    while not done.wait(trickle):
        for i, sock in enumerate(socks):
            try:
                if sock is None:
                    raise OSError
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed.append(1)
                if sock is not None:
                    sock.close()
                socks[i] = opened()
    for sock in socks:
        if sock is not None:
            sock.close()


def busy(port: int, done: threading.Event, statuses: Counter, seconds: list[float]) -> None:
    body = router_call("/trainer")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not done.is_set():
        started = time.perf_counter()
        try:
            conn.request(
                "POST", "/_dash-update-component", body=body, headers={"Content-Type": "application/json"}
            )
            reply = conn.getresponse()
            reply.read()
            statuses[str(reply.status)] += 1
        except OSError as error:
            statuses[type(error).__name__] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        seconds.append(time.perf_counter() - started)
    conn.close()


def run(worker_class: str, args: argparse.Namespace, env: dict[str, str], work: Path) -> dict[str, Any]:
    proc, port = start(worker_class, args.workers, args.threads, env, work / f"{worker_class}.log")
    report: dict[str, Any] = {"worker_class": worker_class}
    try:
        for _ in range(2 * args.workers * args.threads):  # warm every worker's first requests
            probe(port, "/")
        report["idle_healthz"] = probes(port, "/healthz", args.probes, args.gap)
        done = threading.Event()
        closed: list[int] = []
        statuses: Counter = Counter()
        seconds: list[float] = []
        load = [threading.Thread(target=slowloris, args=(port, args.slowloris, args.trickle, done, closed))]
        load += [
            threading.Thread(target=busy, args=(port, done, statuses, seconds)) for _ in range(args.busy)
        ]
        started = time.monotonic()
        for thread in load:
            thread.daemon = True
            thread.start()
        time.sleep(args.settle)  # let the slow heads reach the worker threads
        report["loaded_healthz"] = probes(port, "/healthz", args.probes, args.gap)
        report["loaded_readyz"] = probes(port, "/readyz", max(3, args.probes // 10), args.gap)
        done.set()
        elapsed = time.monotonic() - started
        for thread in load:
            thread.join(timeout=65)
        report["load_seconds"] = round(elapsed, 1)
        report["busy_requests"] = {
            "n": len(seconds),
            "per_s": round(len(seconds) / elapsed, 1),
            "p50_ms": round(1000 * percentile(seconds, 0.5), 1),
            "statuses": dict(statuses),
        }
        report["slowloris_closed_by_server"] = len(closed)
    finally:
        stop(proc)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classes", default="gthread,serving.gworker.HealthWorker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--slowloris", type=int, default=12)
    parser.add_argument("--busy", type=int, default=8)
    parser.add_argument(
        "--trickle", type=float, default=2.0, help="seconds between a slow client's header lines"
    )
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between probes")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of load before the first probe")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rnnx-health-load-"))
    env = {**os.environ, "RNNX_CACHE_DIR": str(work / "cache"), "RNNX_WORKER_WARM": "0", "RNNX_WARMUP": "0"}
    for name in ("REDIS_URL", "RNNX_AUTH_USERS", "RNNX_AUTH_FILE", "RNNX_DEMO_MODE", "RNNX_BASE_PATH"):
        env.pop(name, None)
    if "RNNX_DATA_DIR" not in env and (ROOT.parent / "shared" / "data").exists():
        env["RNNX_DATA_DIR"] = str(ROOT.parent / "shared" / "data")
    result = {
        "workers": args.workers,
        "threads": args.threads,
        "slowloris": args.slowloris,
        "busy": args.busy,
        "header_timeout_s": float(env.get("RNNX_HEADER_TIMEOUT_S", "10")),
        "cpus": os.cpu_count(),
        "runs": [run(name.strip(), args, env, work) for name in args.classes.split(",") if name.strip()],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
