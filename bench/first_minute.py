"""The first minute: from starting the server on an empty cache to every figure drawn on /analytics.

    python bench/first_minute.py [--datasets imdb reuters] [--timeout 600] [--port 0] [--no-browser]
    python bench/first_minute.py --server-cmd "CMD" --base-url http://127.0.0.1:8050 [--cache-dir DIR]
    python bench/first_minute.py --base-url http://127.0.0.1:8050      # a server already started

By default starts ``python app.py`` (warm-up on, for the datasets measured) on a fresh ``RNNX_CACHE_DIR``; as soon
as ``/healthz`` answers, one headless Chromium per dataset opens ``/analytics?dataset=…`` (the page
shows its "Preparing…" state and draws by itself when the preparation ends) and the bench records
the seconds until every figure is drawn (``bench.scale_browser.all_drawn``). Should a page not draw
within ``--reload-grace`` seconds of its dataset being prepared (or of ``--reload-after`` when no
cache folder is watched), it is reloaded every 20 s and the reloads are counted: that is a
product bug. With a cache folder (``--cache-dir``; always for ``python app.py``) it also polls
``model.prepare.is_prepared(dataset, "pca")`` and reads the warm-up's report (seconds per dataset,
where the classifier came from). ``--server-cmd`` times any command (``bench/container_first_minute.sh``
runs the Docker image with it). Prints one JSON object. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port  # noqa: E402

GOAL_S = 60
RELOAD_EVERY_S = 20.0  # a reload must leave the page time to draw, or it cuts every draw short
PAGE_JS = """return [
  ((document.querySelector('#analytics-alert .alert-heading') || document.getElementById('analytics-alert')
    || {}).textContent || '').trim().slice(0, 80),
  ((document.querySelector('#analytics-progress-wrap:not([style*="none"]) #analytics-progress') || {})
    .textContent || '').trim().slice(0, 80)];"""


# What is still on its way when a page is reloaded: components Dash marks loading, callbacks pending.
LOADING_JS = """return {
  loading: Array.from(document.querySelectorAll('[data-dash-is-loading="true"]')).map(e => e.id).slice(0, 8),
  pending: ((window.store && window.store.getState().pendingCallbacks) || []).length};"""


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Page(threading.Thread):
    """One headless Chromium on ``/analytics?dataset=…``: seconds (from ``start``) until all is drawn."""

    def __init__(self, base: str, dataset: str, start: float, timeout: float) -> None:
        super().__init__(daemon=True)
        self.url, self.t0, self.timeout = f"{base}/analytics?dataset={dataset}", start, timeout
        self.reload_from: float | None = None  # set by the main thread: reload when not drawn by then
        self.result: dict = {"drawn": None, "reloads": 0}
        self.stop = threading.Event()

    def elapsed(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    def note(self, shown: list[str]) -> None:
        """Keep each new alert heading (with when it appeared) and the latest progress label."""
        heading, bar = shown
        headings = self.result.setdefault("alerts", [])
        if heading and (not headings or headings[-1][1] != heading) and len(headings) < 8:
            headings.append([self.elapsed(), heading])
        if bar:
            self.result["last_progress"] = [self.elapsed(), bar]

    def run(self) -> None:
        from bench.scale_browser import DRAWN_JS, all_drawn
        from tests.support.browser import console_errors, make_driver

        driver = None
        try:
            driver = make_driver()
            self.result["opened"] = self.elapsed()
            driver.get(self.url)
            last_reload = 0.0
            while not self.stop.is_set() and time.monotonic() - self.t0 < self.timeout:
                state = driver.execute_script(DRAWN_JS)
                if all_drawn(state):
                    self.result["drawn"] = self.elapsed()
                    self.result["projection"] = (
                        "density image" if state["images"] else f"{state['points']} points"
                    )
                    break
                self.note(driver.execute_script(PAGE_JS))
                now = time.monotonic()
                if (
                    self.reload_from is not None
                    and now > self.reload_from
                    and now - last_reload > RELOAD_EVERY_S
                ):
                    if not self.result["reloads"]:
                        loading = driver.execute_script(LOADING_JS)
                        self.result["before_first_reload"] = {**state, "loading": loading}
                    driver.refresh()
                    self.result["reloads"] += 1
                    last_reload = now
                time.sleep(0.25)
            self.result["console_errors"] = console_errors(driver)[:5]
        except Exception as error:  # noqa: BLE001 - reported in the JSON, not a crash of the bench
            self.result["error"] = f"{type(error).__name__}: {str(error)[:300]}"
        finally:
            if driver is not None:
                driver.quit()


def start_server(args: argparse.Namespace, port: int, cache_dir: str | None, log) -> subprocess.Popen | None:
    """``python app.py`` on ``cache_dir``, ``--server-cmd`` through the shell, or None (already running)."""
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    if args.server_cmd:
        command: list[str] | str = args.server_cmd
    elif args.base_url:
        return None
    else:
        command = [sys.executable, "app.py"]
        env.update({"RNNX_CACHE_DIR": cache_dir or "", "RNNX_WARMUP_DATASETS": ",".join(args.datasets)})
        for name in ("RNNX_WARMUP", "RNNX_DEMO_MODE", "RNNX_AUTO_PREPARE", "RNNX_PROFILE"):
            env.pop(name, None)
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        shell=isinstance(command, str),
        start_new_session=True,
        stdout=log,
        stderr=log,
    )


def stop_server(proc: subprocess.Popen | None, grace: float = 40.0) -> None:
    """End the server's whole process group: SIGTERM, then SIGKILL what is left after ``grace`` s."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)
    proc.wait(timeout=5)


def server_errors(log_path: Path) -> list[str]:
    """The server log's lines that look like errors (tracebacks, ERROR, CRITICAL), at most ten."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    marks = ("Traceback", "ERROR", "CRITICAL", "Error:", "[error]")
    return [line[:200] for line in text.splitlines() if any(mark in line for mark in marks)][:10]


class CacheWatch(threading.Thread):
    """``is_prepared`` and the warm-up's report for a cache folder, read by a child process in demo mode
    (the cache read-only: nothing of root's lands in a folder a container's user writes). Records the
    seconds (from ``start``) at which each dataset became prepared."""

    def __init__(self, cache_dir: str, datasets: list[str], start: float) -> None:
        super().__init__(daemon=True)
        argv = [sys.executable, str(Path(__file__)), "--watch", cache_dir, "--datasets", *datasets]
        env = {**os.environ, "RNNX_CACHE_DIR": cache_dir, "RNNX_DEMO_MODE": "1"}
        env.pop("RNNX_PROFILE", None)
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
        self.t0 = start
        self.prepared: dict[str, float | None] = {name: None for name in datasets}
        self.report: dict = {}

    def run(self) -> None:
        for line in self.proc.stdout or ():
            event = json.loads(line)
            if "prepared" in event:
                self.prepared[event["prepared"]] = round(time.monotonic() - self.t0, 1)
            else:
                self.report = event["warmup"]

    def wait_for_report(self, seconds: float = 5.0) -> dict:
        """The warm-up's report once it lists every dataset (it writes that just after the cache)."""
        deadline = time.monotonic() + seconds
        while not set(self.prepared) <= set(self.report) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.proc.terminate()
        self.proc.wait(timeout=10)
        return self.report


def watch(datasets: list[str]) -> None:
    """``--watch``: a JSON line when a dataset becomes prepared or the warm-up's report changes; forever."""
    from model import prepare
    from serving import warmup

    seen: set[str] = set()
    done = None
    while True:
        for name in datasets:
            if name not in seen and prepare.is_prepared(name, "pca"):
                seen.add(name)
                print(json.dumps({"prepared": name}), flush=True)
        report = (warmup.status() or {}).get("done", {})
        if report != done:
            done = report
            print(json.dumps({"warmup": report}), flush=True)
        time.sleep(0.5)


def measure(args: argparse.Namespace, port: int, cache_dir: str | None, log_path: Path) -> dict:
    """Start (or find) the server, open the pages at /healthz, and time each dataset until drawn."""
    base = (args.base_url or f"http://127.0.0.1:{port}").rstrip("/")
    start = time.monotonic()
    with log_path.open("wb") as log:
        proc = start_server(args, port, cache_dir, log)
    cache = CacheWatch(cache_dir, args.datasets, start) if cache_dir else None
    if cache is not None:
        cache.start()
    healthz: float | None = None
    pages: dict[str, Page] = {}
    report: dict = {}
    try:
        while time.monotonic() - start < args.timeout:
            elapsed = round(time.monotonic() - start, 1)
            if healthz is None and answers(f"{base}/healthz"):
                healthz = elapsed
                if not args.no_browser:
                    pages = {name: Page(base, name, start, args.timeout) for name in args.datasets}
                    for page in pages.values():
                        page.start()
            for name, page in pages.items():
                if page.reload_from is not None:
                    continue
                if cache is not None and cache.prepared[name] is not None:
                    page.reload_from = time.monotonic() + args.reload_grace
                elif cache is None and elapsed > args.reload_after:
                    page.reload_from = time.monotonic()
            pages_done = healthz is not None and all(not page.is_alive() for page in pages.values())
            if pages_done and (cache is None or None not in cache.prepared.values()):
                break
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.5)
        report = cache.wait_for_report() if cache is not None else {}
    finally:
        for page in pages.values():
            page.stop.set()
            page.join(timeout=30)
        if cache is not None and cache.proc.poll() is None:
            cache.proc.kill()
        stop_server(proc)
    drawn = {name: pages[name].result.get("drawn") if name in pages else None for name in args.datasets}
    return {
        "server": "already running" if proc is None else (args.server_cmd or "python app.py"),
        "seconds_from": "bench start" if proc is None else "server start",
        "healthz": healthz,
        "drawn": drawn,
        "prepared": cache.prepared if cache is not None else None,
        "goal_seconds": GOAL_S,
        "within_goal": all(v is not None and v <= GOAL_S for v in drawn.values()) if pages else None,
        "needed_reload": [name for name, page in pages.items() if page.result["reloads"]],
        "pages": {name: page.result for name, page in pages.items()},
        "warmup": report,
        "server_exit_code": None if proc is None else proc.returncode,
        "server_errors": server_errors(log_path),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["imdb", "reuters"])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--port", type=int, default=0, help="for python app.py / --server-cmd (env PORT)")
    parser.add_argument("--server-cmd", help="shell command starting the server (timed from its start)")
    parser.add_argument("--base-url", help="where the server answers; alone: a server already running")
    parser.add_argument("--cache-dir", help="the server's cache folder, to poll is_prepared (not app.py's)")
    parser.add_argument("--server-log", help="server stdout/stderr (default: a temporary file)")
    parser.add_argument("--no-browser", action="store_true", help="only /healthz and is_prepared")
    parser.add_argument("--reload-grace", type=float, default=30, help="s after prepared before reloading")
    parser.add_argument(
        "--reload-after", type=float, default=240, help="s before reloading, no cache watched"
    )
    parser.add_argument("--watch", metavar="CACHE_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.watch:
        watch(args.datasets)
        return
    port = args.port or free_port()
    with tempfile.TemporaryDirectory(prefix="rnnx-first-minute-") as tmp:
        log_path = Path(args.server_log or Path(tmp) / "server.log")
        external = bool(args.server_cmd or args.base_url)
        cache_dir = args.cache_dir if external else str(Path(tmp) / "cache")
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
        report = measure(args, port, cache_dir, log_path)
        # The warm-up stops with the server; give it a moment to let go of the cache folder.
        time.sleep(0 if external else 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
