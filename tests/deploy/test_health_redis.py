"""Honest health and Redis outages, with real processes on loopback and no mocks.

A throw-away ``redis-server`` (no persistence) is stopped and started again on its port while
``python app.py`` (and, for the background job, a real Celery worker) keep running:

* ``/readyz`` reports every dependency: 200 ``ready`` with Redis up and the archives present,
  503 naming ``redis`` while it is down (``/healthz`` stays 200), 200 again once it is back;
  read-only demo caches and missing dataset archives are reported by name.
* A background callback started while Redis is down answers 200 with the readable message in
  the app-level alert, never a 500.
* A running job's polls during a Redis restart answer "still running" (with a notice), the job
  keeps running on the worker, and its result reaches the page once Redis is back.

This module doubles as the stand-in data pipeline (served through ``tests/support/serve.py``) whose preparation
waits for the test to release it, so the outage falls inside the job.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench import load
from tests.support.deploy import RedisServer, wait_until
from tests.support.servers import ROOT, free_port, start_server, stop_server
from tests.support.synthetic import (  # noqa: F401  the stand-in pipeline's public names
    DATASETS,
    PROJECTIONS,
    PrepareError,
    load_analysis,
    load_projection,
)

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (apt redis-server)"
)

GATE_ENV = "RNNX_TEST_PREPARE_GATE"
ARCHIVES = ("aclImdb_v1.tar.gz", "reuters21578.tar.gz")
CLEARED = ("RNNX_AUTH_USERS", "RNNX_AUTH_FILE", "RNNX_DEMO_MODE", "RNNX_BASE_PATH")


# ---------------------------------------------------------------- the stand-in pipeline (worker side)


def run_prepare_subprocess(
    dataset: str, projection: str, n_sequences: int | None, on_progress: Callable[[float, str], None]
) -> dict:
    """Report progress until the test creates ``release`` in the gate folder, then succeed."""
    gate = Path(os.environ[GATE_ENV])
    (gate / "started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 180
    step = 0
    while not (gate / "release").exists():
        if time.monotonic() > deadline:
            raise PrepareError("the test never released the preparation")
        step += 1
        on_progress(min(0.9, 0.05 + step / 400), "waiting for the test")
        time.sleep(0.2)
    (gate / "finished").write_text(str(os.getpid()))
    return {"n_sequences": 40, "n_hidden_states": 960, "seconds": {"total": 1.0}}


# ---------------------------------------------------------------- processes


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache"), "RNNX_STATE_DIR": str(tmp_path / "state")}
    for name in (*CLEARED, "REDIS_URL", "RNNX_SESSION_REDIS_URL"):
        env.pop(name, None)
    env["RNNX_WARMUP"] = "0"  # no background training in these servers
    env.update(extra)
    return env


@dataclass
class App:
    """One browser session: it keeps the server's session cookie (a job answers only its own session)."""

    base: str
    proc: subprocess.Popen
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def get(self, path: str) -> tuple[int, Any]:
        """Status and parsed JSON (or raw bytes) of a GET."""
        return _send(urllib.request.Request(self.base + path), self.jar)

    def post(self, path: str, body: dict) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        return _send(request, self.jar)


def _send(request: urllib.request.Request, jar: http.cookiejar.CookieJar | None = None) -> tuple[int, Any]:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar or http.cookiejar.CookieJar())
    )
    try:
        with opener.open(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


@contextmanager
def app_server(env: dict[str, str]) -> Iterator[App]:
    """``python app.py`` on a free loopback port with ``env``."""
    port = free_port()
    # A stand-in pipeline is served through app.create_app by the test launcher.
    command = ["-m", "tests.support.serve"] if env.get("RNNX_TEST_PIPELINE") else ["app.py"]
    proc = start_server([sys.executable, *command], {**env, "HOST": "127.0.0.1", "PORT": str(port)}, port)
    try:
        yield App(f"http://127.0.0.1:{port}", proc)
    finally:
        stop_server(proc)


@contextmanager
def celery_worker(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """A real ``celery -A app:celery_app worker`` (as tests/test_deploy_celery.py starts one)."""
    celery_target = "tests.support.serve:celery_app" if env.get("RNNX_TEST_PIPELINE") else "app:celery_app"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", celery_target, "worker", "--loglevel=INFO",
             "--concurrency=1", "-n", f"rnnx-health-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(lambda: "ready." in log_path.read_text() or worker.poll() is not None, 90, "the worker")
        assert worker.poll() is None, log_path.read_text()[-2000:]
        yield worker
    finally:
        stop_server(worker)


# ---------------------------------------------------------------- the callback protocol


def dependencies(app: App) -> list[dict]:
    status, deps = app.get("/_dash-dependencies")
    assert status == 200
    return deps


def prepare_request(deps: list[dict], dataset: str = "reuters") -> dict:
    """The body the renderer POSTs when the analytics Prepare button is clicked."""
    dep = next(d for d in deps if "analytics-prepared" in d["output"] and d.get("background"))
    assert dep, "the Prepare button's callback should be a background callback"
    return load.prepare_body(deps, dataset)


def end_id(app: App) -> str:
    """The page-load token the renderer echoes on every callback request (binds job handles)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(app.jar))
    with opener.open(app.base + "/analytics", timeout=60) as response:
        return load.end_id(response.read())


def alert_text(reply: Any) -> str:
    """The app-level alert's text in a callback reply's side update ('' when it is not opened)."""
    if not isinstance(reply, dict):
        return ""
    update = (reply.get("sideUpdate") or {}).get("app-error") or {}
    return str(update.get("children", "")) if update.get("is_open") else ""


def readyz(app: App) -> tuple[int, dict]:
    status, body = app.get("/readyz")
    assert isinstance(body, dict), body
    return status, body


# ---------------------------------------------------------------- tests


def test_readyz_reports_every_dependency_and_redis_outages(redis_server: RedisServer, tmp_path: Path) -> None:
    env = base_env(tmp_path, REDIS_URL=redis_server.url, RNNX_PROFILE="quick")
    with app_server(env) as app:
        status, body = readyz(app)
        assert status == 200, body
        assert body["status"] == "ready"
        checks = body["checks"]
        assert set(checks) >= {"redis", "results_cache", "state_dir", "disk", "datasets"}
        assert all(check["ok"] for check in checks.values()), checks
        assert checks["redis"]["maxmemory_policy"] == "noeviction"
        assert {a["file"] for a in checks["datasets"]["archives"].values()} == set(ARCHIVES)
        text = json.dumps(body)
        for secret in (str(tmp_path), os.environ.get("RNNX_DATA_DIR", "/nonexistent"), redis_server.url):
            assert secret not in text, f"{secret!r} leaked into /readyz"

        redis_server.stop()
        status, body = readyz(app)
        assert status == 503 and body["status"] == "not ready"
        assert body["failing"] == ["redis"]
        assert not body["checks"]["redis"]["ok"] and "unreachable" in body["checks"]["redis"]["message"]
        assert redis_server.url not in json.dumps(body) and str(redis_server.port) not in json.dumps(body)
        status, health = app.get("/healthz")
        assert status == 200 and health["status"] == "ok"

        # A background callback started now: a readable alert, no 500.
        status, reply = app.post(
            f"/_dash-update-component?endId={end_id(app)}", prepare_request(dependencies(app))
        )
        assert status in (200, 204), (status, reply)
        assert "cannot reach Redis" in alert_text(reply), reply
        assert reply["response"] == {}

        redis_server.start()
        status, body = readyz(app)
        assert status == 200, body
        assert body["status"] == "ready"


def test_demo_mode_serves_a_read_only_cache(tmp_path: Path) -> None:
    import diskcache

    cache_dir = tmp_path / "cache"
    with diskcache.Cache(str(cache_dir)) as prepared:
        prepared.set("dataset:probe", {"prepared": True})
    for path in [cache_dir, *cache_dir.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = sorted(str(p) for p in cache_dir.rglob("*"))
    try:
        env = base_env(tmp_path, RNNX_DEMO_MODE="1")
        with app_server(env) as app:
            status, body = readyz(app)
            assert status == 200, body
            cache_check = body["checks"]["results_cache"]
            assert cache_check["ok"] and cache_check["message"].startswith("read-only (demo)")
            assert cache_check["entries"] == 1
            assert "redis" not in body["checks"]
            assert "cache" not in body["checks"]["disk"]["free_mb"], "a read-only volume's space is not ours"
            assert readyz(app)[0] == 200
        assert sorted(str(p) for p in cache_dir.rglob("*")) == before, "something was written into the cache"
    finally:
        for path in [cache_dir, *cache_dir.rglob("*")]:
            path.chmod(stat.S_IRWXU if path.is_dir() else 0o644)


def test_missing_dataset_archives_are_named(tmp_path: Path) -> None:
    env = base_env(tmp_path, RNNX_DATA_DIR=str(tmp_path / "no-data-here"), RNNX_OFFLINE="1")
    with app_server(env) as app:
        status, body = readyz(app)
        assert status == 503 and body["failing"] == ["datasets"], body
        message = body["checks"]["datasets"]["message"]
        for archive in ARCHIVES:
            assert archive in message
        assert "no-data-here" not in json.dumps(body)
        assert app.get("/healthz")[0] == 200


def test_a_running_job_survives_a_redis_restart(redis_server: RedisServer, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    env = base_env(
        tmp_path,
        REDIS_URL=redis_server.url,
        RNNX_TEST_PIPELINE="tests.deploy.test_health_redis",
        **{GATE_ENV: str(gate)},
    )
    with celery_worker(env, tmp_path / "worker.log") as worker, app_server(env) as app:
        url = f"/_dash-update-component?endId={end_id(app)}"
        body = prepare_request(dependencies(app))
        status, handles = app.post(url, body)
        assert status == 200 and {"cacheKey", "job"} <= set(handles), handles
        poll_url = f"{url}&cacheKey={handles['cacheKey']}&job={handles['job']}"
        poll_body = {**body, "inputs": [{**i, "value": None} for i in body["inputs"]]}

        def poll() -> dict:
            status, reply = app.post(poll_url, poll_body)
            assert status == 200, (status, reply)
            assert isinstance(reply, dict), reply
            return reply

        def progressed() -> bool:
            reply = poll()
            assert "response" not in reply, f"the job ended early: {reply}"
            return (gate / "started").exists() and "progress" in reply

        wait_until(progressed, 90, "the job to start and report progress", interval=0.5)

        redis_server.stop()
        notices = []
        for _ in range(6):  # polls while Redis is down: "still running", with a notice
            reply = poll()
            assert "response" not in reply, reply
            notices.append(alert_text(reply))
            time.sleep(0.5)
        assert any("lost its connection to Redis" in n for n in notices), notices
        assert worker.poll() is None, "the worker died with Redis"

        redis_server.start()
        (gate / "release").write_text("go")
        closed = []

        def finished() -> dict | None:
            reply = poll()
            update = (reply.get("sideUpdate") or {}).get("app-error")
            if update is not None and update.get("is_open") is False:
                closed.append(True)
            return reply if "response" in reply else None

        reply = wait_until(finished, 120, "the job's result after the restart", interval=0.5)
        assert (gate / "finished").exists()
        prepared = reply["response"]["analytics-prepared"]["data"]
        assert isinstance(prepared, (int, float)) and prepared > 0
        assert "Prepared 40 sequences" in json.dumps(reply["response"]["analytics-alert"])
        assert closed, "the outage notice was not closed once Redis was back"
        assert worker.poll() is None
        status, ready = readyz(app)
        assert status == 200, ready


@pytest.mark.browser
def test_the_page_shows_the_outage_in_the_app_alert(
    redis_server: RedisServer, tmp_path: Path, browser
) -> None:
    """In Chromium: Prepare with Redis down opens the app-level alert; the button is usable again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.support.browser import console_errors

    env = base_env(tmp_path, REDIS_URL=redis_server.url)
    with app_server(env) as app:
        # t-SNE: an unprepared projection that waits for a click (PCA of a default set starts by itself)
        browser.get(f"{app.base}/analytics?dataset=reuters&method=tsne")
        button = WebDriverWait(browser, 60).until(ec.element_to_be_clickable((By.ID, "analytics-prepare")))
        assert not browser.find_elements(By.ID, "app-error"), "the alert is closed (not rendered) at first"
        redis_server.stop()
        button.click()
        WebDriverWait(browser, 60).until(
            lambda d: any("cannot reach Redis" in e.text for e in d.find_elements(By.ID, "app-error"))
        )
        WebDriverWait(browser, 30).until(
            lambda d: d.find_element(By.ID, "analytics-prepare").get_attribute("disabled") is None
        )
        assert console_errors(browser) == []
