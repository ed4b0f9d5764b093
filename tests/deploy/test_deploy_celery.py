"""Scale-out: Debian's redis-server and a real Celery worker run the analytics preparation.

The page's background callback (``run_preparation``) goes through Dash's
CeleryManager to a ``celery -A app:celery_app worker``; its progress comes back
through Redis to the browser's progress bar.  Skipped when redis-server is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.deploy import RedisServer, prepare_in_browser, wait_until
from tests.support.servers import ROOT, free_port, start_server, stop_server

pytestmark = [
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="redis-server is not installed (apt redis-server)"
    ),
    pytest.mark.browser,
]


@pytest.fixture()
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1 (no persistence)."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture()
def celery_stack(redis_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Celery worker and a 2-worker gunicorn, both on ``redis_url``; yields (base URL, worker log)."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "RNNX_CACHE_DIR": str(tmp_path / "cache"),
        "RNNX_PROFILE": "quick",
        "RNNX_AUTO_PREPARE": "1",  # the first visit prepares without a click
    }
    for name in ("RNNX_AUTH_USERS", "RNNX_AUTH_FILE", "RNNX_DEMO_MODE", "RNNX_BASE_PATH"):
        env.pop(name, None)
    log_path = tmp_path / "celery.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--loglevel=INFO",
             "--concurrency=1", "-n", f"rnnx-test-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    try:
        wait_until(
            lambda: "ready." in log_path.read_text() or worker.poll() is not None, 90, "the Celery worker"
        )
        assert worker.poll() is None, log_path.read_text()[-2000:]
        web = start_server([sys.executable, "-m", "gunicorn", "-w", "2", "app:server"], env, port)
        try:
            yield f"http://127.0.0.1:{port}", log_path
        finally:
            stop_server(web)
    finally:
        stop_server(worker)


def test_preparation_runs_on_the_celery_worker_with_progress_in_the_page(
    celery_stack: tuple[str, Path], browser
) -> None:
    base, worker_log = celery_stack
    with urllib.request.urlopen(base + "/healthz") as response:
        assert json.loads(response.read())["background"] == "celery"
    prepare_in_browser(browser, base, by_itself=True)
    log = worker_log.read_text()
    assert "succeeded" in log, log[-2000:]
