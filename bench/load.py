"""Load test: 20 simulated users against gunicorn on 127.0.0.1; prints one JSON object.

Each user loops over a mix of page loads (index HTML, layout and the
pages-router callback), trainer steps (``update_trainer`` with its own
session id) and analytics selections (``draw_selection``, every linked view, on a random sequence
of IMDB or Reuters) through ``/_dash-update-component``, exactly as the
browser sends them.  For each worker count it starts ``gunicorn -w N
app:server`` on a free port, warms the workers up (untimed: TF import, model
build, dataset load), runs for ``--seconds`` (default 15) and reports requests
per second, p50/p95 latency, errors, and each worker's resident memory after
the run (both datasets and a trainer model loaded).  Bounded: the runs take
about ``--budget`` seconds (default 115), after a one-time dataset
preparation that is cached.

    python bench/load.py                      # 1 and 4 workers, 20 users, quick profile
    python bench/load.py --workers 4 --seconds 20
    python bench/load.py --url http://127.0.0.1:8050 --users 20   # an already running server
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("imdb", "reuters")
MIX = (("page", 0.3), ("trainer", 0.35), ("analytics", 0.35))
REQUEST_TIMEOUT_S = 20.0


# ---------------------------------------------------------------- a minimal Dash client


class DashClient:
    """One user's keep-alive HTTP connection speaking Dash's callback protocol."""

    def __init__(
        self,
        base: str,
        deps: list[dict] | None = None,
        user: str | None = None,
        timeout: float = 120,
        cookies: dict[str, str] | None = None,
    ) -> None:
        # Cookies are the browser's identity (the signed session): share the dict to be the same user
        # on a new connection.
        self.cookies = cookies if cookies is not None else {}
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.headers = {"Authorization": "Basic " + base64.b64encode(user.encode()).decode()} if user else {}
        self.conn: http.client.HTTPConnection | None = None
        self.timeout = timeout
        self.deps = deps if deps is not None else json.loads(self.get("/_dash-dependencies")[1])

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request (reconnecting once if the server closed the connection)."""
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, self.prefix + path, body=body, headers=headers)
                response = self.conn.getresponse()
                for cookie in response.headers.get_all("Set-Cookie") or []:
                    name, _, value = cookie.split(";")[0].partition("=")
                    self.cookies[name.strip()] = value.strip()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def call(self, output_has: str, values: dict[str, Any], triggered: list[str]) -> tuple[int, dict | None]:
        """Fire the callback whose output names ``output_has``; inputs/states from ``values`` ("id.prop")."""
        status, body = self.request(
            "POST", "/_dash-update-component", callback_body(self.deps, output_has, values, triggered)
        )
        return status, (json.loads(body) if status == 200 else None)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _outputs(spec: str) -> list[dict[str, str]]:
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    outputs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop.split("@")[0]})
    return outputs


def _entry(dep: dict, values: dict[str, Any]) -> dict | list:
    component, prop = dep["id"], dep["property"]
    if component.startswith("{"):  # a pattern-matching (ALL) input: no such components rendered
        return []
    return {"id": component, "property": prop, "value": values.get(f"{component}.{prop}")}


def callback_body(deps: list[dict], output_has: str, values: dict[str, Any], triggered: list[str]) -> bytes:
    """The JSON body the renderer would POST for that callback (the first whose output names
    ``output_has`` and, when there are several, that has an input in ``triggered``)."""
    matches = [d for d in deps if output_has in d["output"]]
    fired = [d for d in matches if {f"{i['id']}.{i['property']}" for i in d["inputs"]} & set(triggered)]
    matches = fired or matches
    if not matches:
        raise LookupError(f"no callback with output {output_has!r}")
    dep = matches[0]
    body = {
        "output": dep["output"],
        "outputs": (lambda o: o if len(o) > 1 or dep["output"].startswith("..") else o[0])(
            _outputs(dep["output"])
        ),
        "inputs": [_entry(d, values) for d in dep["inputs"]],
        "state": [_entry(d, values) for d in dep["state"]],
        "changedPropIds": triggered,
    }
    return json.dumps(body).encode()


def prepare_body(deps: list[dict], dataset: str, method: str = "pca") -> dict:
    """The body of a click on the analytics page's Prepare button (a background callback)."""
    values = {
        "analytics-prepare.n_clicks": 1,
        "analytics-dataset.value": dataset,
        "analytics-projection-method.value": method,
    }
    return json.loads(callback_body(deps, "analytics-prepared", values, ["analytics-prepare.n_clicks"]))


def end_id(page_html: str | bytes) -> str:
    """The page-load token in a page's ``_dash-config`` that the renderer echoes on every callback
    (Dash binds background-job handles to it)."""
    text = page_html.decode() if isinstance(page_html, bytes) else page_html
    match = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', text, re.S)
    if not match:
        raise LookupError("no _dash-config in the page")
    return json.loads(match.group(1))["end_id"]


# ---------------------------------------------------------------- the simulated user


def page_load(client: DashClient, path: str) -> list[int]:
    """What a browser fetches to show a page (assets are static and cached by the browser)."""
    statuses = [client.get(path)[0], client.get("/_dash-layout")[0]]
    status, _ = client.call(
        "_pages_content.children",
        {"_pages_location.pathname": path, "_pages_location.search": ""},
        ["_pages_location.pathname"],
    )
    return [*statuses, status]


@dataclass
class TrainerTab:
    """A trainer page as the browser holds it: the server-issued tab id, a page-view id, Step clicks."""

    tab: str
    view: str = field(default_factory=lambda: uuid.uuid4().hex)
    clicks: int = 0


def open_trainer(client: DashClient) -> TrainerTab:
    """Ask the server for a tab id, as the page does on load (the client must hold the session cookie)."""
    if not client.cookies:
        client.get("/trainer")
    status, body = client.call("trainer-session.data", {}, ["trainer-result.id"])
    if status != 200 or not body:
        raise ValueError(f"no trainer tab (status {status})")
    return TrainerTab(body["response"]["trainer-session"]["data"])


def trainer_values(tab: TrainerTab) -> dict[str, Any]:
    return {
        "trainer-session.data": tab.tab,
        "trainer-view.data": tab.view,
        "step-button.n_clicks": tab.clicks or None,
        "trainer-input-select.value": "sine",
        "cell-type.value": "lstm",
        "trainer-request.data": 0,
        "learning-rate.value": None,
        "batch-size.value": 25,
        "noise.value": 0.0,
        "trainer-fast.value": False,
    }


def trainer_step(client: DashClient, tab: TrainerTab, first: bool = False) -> tuple[int, dict | None]:
    """Open the session (first) or train it one epoch, as the Step button does."""
    if not first:
        tab.clicks += 1
    trigger = "trainer-session.data" if first else "step-button.n_clicks"
    return client.call("trainer-result.data", trainer_values(tab), [trigger])


def analytics_values(dataset: str, seq: int | None) -> dict[str, Any]:
    return {
        "analytics-selection.data": None if seq is None else {"dataset": dataset, "seq": seq, "step": None},
        "analytics-label-rules.value": ["jump"],
        "distance-threshold.value": 0.4,
        "analytics-ep-threshold.value": 0.3,
        "analytics-trajectory-color.value": "ep",
        "analytics-dataset.value": dataset,
        "analytics-projection-method.value": "pca",
        "analytics-fade.value": "none",
        "analytics-final-only.value": False,
        "analytics-jump-auto.value": True,
        "saliency-mode.value": "ep",
        "analytics-color-mode.value": "ep",
        "neighbors-k.value": 10,
        "neighbors-other.value": [],
        "unit-span.value": [0, 0],
        "unit-threshold.value": 0.3,
        "unit-state.value": "hidden",
        "unit-sort.value": "selected",
        "analytics-compare-source.value": "selected",
        "analytics-compare-tabs.active_tab": "checkpoints",
        "analytics-compare-seen.data": False,
    }


def analytics_select(client: DashClient, dataset: str, seq: int) -> tuple[int, dict | None]:
    """Select sequence ``seq`` of ``dataset``: the one request that draws every view of a selection
    (``components/cards/analytics_selection.draw_selection``: sequence, neighbours, units, scores)."""
    return client.call("unit-hub-drawn.data", analytics_values(dataset, seq), ["analytics-selection.data"])


@dataclass
class Tally:
    """Latencies and errors of all users (appended under a lock)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k, _ in MIX})
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


def user_loop(
    base: str, deps: list[dict], until: float, tally: Tally, seed: int, n_seq: int, user: str | None
) -> None:
    """One simulated user: opens its trainer session, then a weighted random mix of actions until ``until``."""
    rng = random.Random(seed)
    client = DashClient(base, deps, user, timeout=REQUEST_TIMEOUT_S)
    sid = open_trainer(client)
    kinds, weights = zip(*MIX, strict=True)
    first = True
    while time.monotonic() < until:
        kind = "trainer" if first else rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        error = None
        try:
            if kind == "page":
                statuses = page_load(client, rng.choice(["/", "/trainer", "/analytics"]))
                bad = [s for s in statuses if s not in (200, 204)]
                error = f"status {bad}" if bad else None
            elif kind == "trainer":
                status, _ = trainer_step(client, sid, first=first)
                error = None if status in (200, 204) else f"status {status}"
            else:
                status, _ = analytics_select(client, rng.choice(DATASETS), rng.randrange(n_seq))
                error = None if status in (200, 204) else f"status {status}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = repr(exc)[:200]
            client.close()
        first = False
        tally.record(kind, time.perf_counter() - started, error)
    client.close()


def warm_up(base: str, deps: list[dict], workers: int, deadline: float, user: str | None) -> int:
    """Load TensorFlow, a trainer model and both datasets in every worker; returns how many were warmed.

    A worker is identified by the pid ``/healthz`` reports on a keep-alive
    connection; connections that land on an already warm worker are dropped
    and opened again until each worker has been warmed or ``deadline`` passes.
    """
    warmed: set[int] = set()
    lock = threading.Lock()

    def one(i: int) -> None:
        while time.monotonic() < deadline:
            with lock:
                if len(warmed) >= workers:
                    return
            client = DashClient(base, deps, user, timeout=max(1.0, deadline - time.monotonic()))
            try:
                pid = json.loads(client.get("/healthz")[1])["pid"]
                with lock:
                    claimed = pid not in warmed
                    warmed.add(pid)
                if claimed:
                    sid = open_trainer(client)
                    trainer_step(client, sid, first=True)
                    trainer_step(client, sid)
                    for dataset in DATASETS:
                        analytics_select(client, dataset, i)
            except (OSError, http.client.HTTPException, ValueError):
                pass
            finally:
                client.close()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    return len(warmed)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_load(
    base: str, users: int, seconds: float, n_seq: int = 100, user: str | None = None
) -> dict[str, Any]:
    """Drive ``users`` concurrent users for ``seconds``; summary of throughput, latency and errors."""
    deps = DashClient(base, user=user).deps
    tally = Tally()
    started = time.monotonic()
    until = started + seconds
    threads = [
        threading.Thread(target=user_loop, args=(base, deps, until, tally, i, n_seq, user), daemon=True)
        for i in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:  # requests in flight at the end may finish, within their timeout
        thread.join(timeout=max(0.1, until + REQUEST_TIMEOUT_S - time.monotonic()))
    elapsed = time.monotonic() - started
    every = [x for values in tally.latencies.values() for x in values]
    ms = lambda x: round(1000 * x, 1)  # noqa: E731
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "rps": round(len(every) / elapsed, 2),
        "p50_ms": ms(percentile(every, 0.5)),
        "p95_ms": ms(percentile(every, 0.95)),
        "by_kind": {
            kind: {"n": len(v), "p50_ms": ms(percentile(v, 0.5)), "p95_ms": ms(percentile(v, 0.95))}
            for kind, v in tally.latencies.items()
        },
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
    }


# ---------------------------------------------------------------- servers and memory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(workers: int, env: dict[str, str], threads: int = 4) -> tuple[subprocess.Popen, str]:
    """``gunicorn -w N app:server`` on a free loopback port; waits for /healthz."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "app:server"]
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                if DashClient(base, deps=[]).get("/healthz")[0] == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError("gunicorn did not start")


def stop(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGINT)  # gunicorn's quick shutdown
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def worker_memory(master_pid: int) -> list[dict[str, float]]:
    """RSS and USS (MiB) of each gunicorn worker of ``master_pid``."""
    import psutil

    result = []
    for child in psutil.Process(master_pid).children():
        try:
            info = child.memory_full_info()
        except psutil.Error:
            continue
        result.append(
            {"pid": child.pid, "rss_mib": round(info.rss / 2**20), "uss_mib": round(info.uss / 2**20)}
        )
    return result


def prepare_datasets(env: dict[str, str], datasets: Callable[[], tuple[str, ...]] = lambda: DATASETS) -> None:
    """Fill the cache (quick profile unless RNNX_PROFILE says otherwise) before the servers start."""
    for dataset in datasets():
        subprocess.run(
            [sys.executable, "-m", "model.prepare", "--dataset", dataset, "--json"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15, help="measured seconds per worker count")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--url", help="measure this running server instead of starting gunicorn")
    parser.add_argument("--auth", help="user:password for a server with basic auth")
    parser.add_argument(
        "--budget", type=float, default=115, help="bound on the runs, seconds (after preparation)"
    )
    parser.add_argument("--sequences", type=int, default=100, help="sequences per prepared dataset")
    args = parser.parse_args(argv)
    started = time.monotonic()
    env = dict(os.environ)
    env.setdefault("RNNX_PROFILE", "quick")
    env.setdefault("RNNX_CACHE_DIR", str(Path(tempfile.gettempdir()) / "rnnx-bench-cache"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "RNNX_DATA_DIR" not in env and (ROOT.parent / "shared" / "data").exists():
        env["RNNX_DATA_DIR"] = str(ROOT.parent / "shared" / "data")
    report: dict[str, Any] = {"profile": env["RNNX_PROFILE"], "cpus": os.cpu_count(), "runs": []}
    if args.url:
        report["runs"].append(run_load(args.url, args.users, args.seconds, args.sequences, args.auth))
        print(json.dumps(report))
        return 0
    prepare_datasets(env)  # one-time (about a minute on 2 cores), cached afterwards
    report["prepare_s"] = round(time.monotonic() - started, 1)
    budget_started = time.monotonic()
    for i, workers in enumerate(args.workers):
        runs_left = len(args.workers) - i
        left = args.budget - (time.monotonic() - budget_started)
        seconds = min(args.seconds, max(5.0, left / runs_left - 30))
        proc, base = start_gunicorn(workers, env, args.threads)
        try:
            deps = DashClient(base).deps
            warm_until = time.monotonic() + max(5.0, left - runs_left * (seconds + 15) - 5)
            warmed = warm_up(base, deps, workers, warm_until, None)
            run = {
                "workers": workers,
                "threads": args.threads,
                "warmed_workers": warmed,
                **run_load(base, args.users, seconds, args.sequences),
            }
            memory = worker_memory(proc.pid)
            run["worker_memory"] = memory
            run["max_worker_rss_mib"] = max((m["rss_mib"] for m in memory), default=None)
            run["median_worker_uss_mib"] = statistics.median(m["uss_mib"] for m in memory) if memory else None
            report["runs"].append(run)
        finally:
            stop(proc)
    report["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report))
    return 0 if all(r.get("errors", 0) == 0 for r in report["runs"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
