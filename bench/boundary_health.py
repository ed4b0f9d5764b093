"""Does ``/healthz`` stay fast while crafted trainer requests hit the server? Prints one JSON object.

Starts ``gunicorn app:server`` with ``WEB_CONCURRENCY=2`` (gunicorn.conf.py: 2 workers, gthread)
on a free loopback port, opens a trainer page as a browser would (the signed session cookie
from ``GET /trainer``, a tab id from the page's ``init_session`` callback), then fires
crafted ``update_trainer`` requests from ``--posts`` (20) threads at once, each a Step click with
``learning-rate.value = 100000000`` (a log10 slider value the browser never sends); every thread
posts again as soon as it has an answer, until ``--probes`` (50) ``/healthz`` requests, one every
``--gap`` s, have measured liveness latency under that load. The same probes are taken idle
first for comparison. Reports p50/p95/max of both,
the crafted requests' statuses and latencies, one sample reply, and ``/readyz`` afterwards.

    python bench/boundary_health.py
    python bench/boundary_health.py --posts 40 --probes 100
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import DashClient, free_port, percentile, stop  # noqa: E402

CRAFTED_LR = 100000000


def start_gunicorn(env: dict[str, str], log_path: Path) -> tuple[Any, str]:
    """``gunicorn app:server`` with gunicorn.conf.py (WEB_CONCURRENCY from ``env``); waits for /healthz."""
    import subprocess

    port = free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if DashClient(base, deps=[], timeout=2).get("/healthz")[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gunicorn did not start; see {log_path}")


def browser_cookie(base: str) -> str:
    """The signed session cookie a browser gets with ``GET /trainer``."""
    client = DashClient(base, deps=[])
    client.conn = http.client.HTTPConnection(client.host, client.port, timeout=60)
    client.conn.request("GET", "/trainer")
    response = client.conn.getresponse()
    response.read()
    client.close()
    cookies = [
        value.split(";", 1)[0] for name, value in response.getheaders() if name.lower() == "set-cookie"
    ]
    if not cookies:
        raise RuntimeError("GET /trainer set no cookie")
    return "; ".join(cookies)


def names(specs: list[dict]) -> set[str]:
    return {f"{s['id']}.{s['property']}" for s in specs}


def find_callback(deps: list[dict], needs: set[str], output_has: str) -> dict:
    """The dependency entry whose inputs and states include ``needs`` and whose output names ``output_has``."""
    for dep in deps:
        if output_has in dep["output"] and needs <= names(dep["inputs"]) | names(dep["state"]):
            return dep
    raise LookupError(f"no callback with {sorted(needs)} and output {output_has!r}")


def body_for(dep: dict, values: dict[str, Any], triggered: str) -> bytes:
    """The JSON the renderer POSTs for ``dep`` with ``values`` ("id.prop" -> value)."""
    spec = dep["output"]
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    outputs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop.split("@")[0]})

    def entry(d: dict) -> dict | list:
        if d["id"].startswith("{"):  # pattern-matching input: none rendered
            return []
        return {"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}

    body = {
        "output": spec,
        "outputs": outputs if spec.startswith("..") else outputs[0],
        "inputs": [entry(d) for d in dep["inputs"]],
        "state": [entry(d) for d in dep["state"]],
        "changedPropIds": [triggered],
    }
    return json.dumps(body).encode()


def tab_id(client: DashClient, deps: list[dict]) -> str:
    """A tab id issued by the trainer page's init callback (or a made-up one if that has changed)."""
    try:
        dep = find_callback(deps, {"trainer-session.data"}, "trainer-session.data")
        status, raw = client.request(
            "POST",
            "/_dash-update-component",
            body_for(
                dep,
                {"trainer-result.id": "trainer-result"},
                f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}",
            ),
        )
        tab = json.loads(raw)["response"]["trainer-session"]["data"] if status == 200 else None
        if isinstance(tab, str):
            return tab
    except (LookupError, KeyError, ValueError):
        pass
    return os.urandom(16).hex()


def summary(seconds: list[float]) -> dict[str, float]:
    ms = lambda x: round(1000 * x, 1)  # noqa: E731
    return {
        "n": len(seconds),
        "p50_ms": ms(percentile(seconds, 0.5)),
        "p95_ms": ms(percentile(seconds, 0.95)),
        "max_ms": ms(max(seconds)) if seconds else float("nan"),
    }


def probe_healthz(base: str, probes: int, gap: float, out: list[float], errors: list[str]) -> None:
    """``probes`` GET /healthz, each on a fresh connection (spread over the workers)."""
    for _ in range(probes):
        started = time.perf_counter()
        try:
            status, _ = DashClient(base, deps=[], timeout=30).get("/healthz")
            if status != 200:
                errors.append(f"status {status}")
        except OSError as error:
            errors.append(repr(error)[:120])
        out.append(time.perf_counter() - started)
        time.sleep(gap)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between /healthz probes")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rnnx-boundary-health-"))
    env = {
        **os.environ,
        "WEB_CONCURRENCY": "2",
        "RNNX_CACHE_DIR": str(work / "cache"),
        "RNNX_PROFILE": "quick",
    }
    for name in (
        "REDIS_URL",
        "RNNX_AUTH_USERS",
        "RNNX_AUTH_FILE",
        "RNNX_DEMO_MODE",
        "RNNX_BASE_PATH",
        "RNNX_WARMUP",
    ):
        env.pop(name, None)
    if "RNNX_DATA_DIR" not in env and (ROOT.parent / "shared" / "data").exists():
        env["RNNX_DATA_DIR"] = str(ROOT.parent / "shared" / "data")
    proc, base = start_gunicorn(env, work / "gunicorn.log")
    report: dict[str, Any] = {
        "workers": 2,
        "threads_per_worker": int(env.get("RNNX_THREADS", "4")),
        "cpus": os.cpu_count(),
    }
    try:
        cookie = browser_cookie(base)
        setup = DashClient(base, deps=[])
        setup.headers["Cookie"] = cookie
        deps = json.loads(setup.get("/_dash-dependencies")[1])
        tab = tab_id(setup, deps)
        setup.close()
        update = find_callback(
            deps, {"trainer-session.data", "step-button.n_clicks", "learning-rate.value"}, "trainer"
        )
        values = {
            "trainer-session.data": tab,
            "trainer-input-select.value": "sine",
            "cell-type.value": "lstm",
            "step-button.n_clicks": 1,
            "learning-rate.value": CRAFTED_LR,
            "batch-size.value": 25,
            "noise.value": 0.0,
            "trainer-fast.value": False,
        }
        crafted = body_for(update, values, "step-button.n_clicks")

        idle: list[float] = []
        idle_errors: list[str] = []
        probe_healthz(base, args.probes, args.gap, idle, idle_errors)

        results: list[tuple[int | str, float, bytes]] = []
        lock = threading.Lock()
        go = threading.Event()

        probing_done = threading.Event()

        def fire() -> None:
            """Post the crafted request, again and again until the probes are done (at least once)."""
            client = DashClient(base, deps=[], timeout=120)
            client.headers["Cookie"] = cookie
            go.wait()
            while True:
                started = time.perf_counter()
                try:
                    status, raw = client.request("POST", "/_dash-update-component", crafted)
                except (OSError, http.client.HTTPException) as error:
                    status, raw = repr(error)[:80], b""
                    client.close()
                with lock:
                    results.append((status, time.perf_counter() - started, raw))
                if probing_done.is_set():
                    break
            client.close()

        posters = [threading.Thread(target=fire, daemon=True) for _ in range(args.posts)]
        for thread in posters:
            thread.start()
        loaded: list[float] = []
        loaded_errors: list[str] = []
        prober = threading.Thread(
            target=probe_healthz, args=(base, args.probes, args.gap, loaded, loaded_errors)
        )
        started = time.perf_counter()
        go.set()
        prober.start()
        prober.join(timeout=300)
        probing_done.set()
        for thread in posters:
            thread.join(timeout=180)
        load_s = time.perf_counter() - started

        sample = next((raw for status, _, raw in results if status == 200 and raw), b"")
        try:
            notice = (
                json.loads(sample)["response"].get("trainer-notice", {}).get("children") if sample else None
            )
        except (ValueError, AttributeError):
            notice = None
        readyz_status, readyz_raw = DashClient(base, deps=[], timeout=30).get("/readyz")
        report.update(
            {
                "crafted": {
                    "callback": "update_trainer",
                    "learning_rate_value": CRAFTED_LR,
                    "threads": args.posts,
                    "posts": len(results),
                    "statuses": dict(Counter(str(status) for status, _, _ in results)),
                    **summary([seconds for _, seconds, _ in results]),
                    "notice_sample": notice,
                },
                "healthz_idle": {**summary(idle), "errors": len(idle_errors)},
                "healthz_under_load": {
                    **summary(loaded),
                    "errors": len(loaded_errors),
                    "error_samples": loaded_errors[:3],
                },
                "load_seconds": round(load_s, 2),
                "readyz_after": {"status": readyz_status, "body": json.loads(readyz_raw).get("status")},
            }
        )
    finally:
        stop(proc)
    print(json.dumps(report))
    return 0 if not report.get("healthz_under_load", {}).get("errors", 1) else 1


if __name__ == "__main__":
    raise SystemExit(main())
