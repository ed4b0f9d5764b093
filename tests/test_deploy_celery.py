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
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, start_server, stop_server

pytestmark = [
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="redis-server is not installed (apt redis-server)"
    ),
    pytest.mark.browser,
]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def prepare_in_browser(browser, base: str, dataset: str = "reuters", by_itself: bool = False) -> set[str]:
    """Open /analytics (which prepares by itself, or click Prepare), watch the progress bar until done;
    returns the labels seen. ``by_itself``: the server has RNNX_AUTO_PREPARE on, and no click is made."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base}/analytics?dataset={dataset}")
    # A first visit to a default dataset starts preparing by itself; otherwise click Prepare.
    WebDriverWait(browser, 60).until(
        lambda d: (
            d.find_element(By.ID, "analytics-progress-wrap").is_displayed()
            or ec.element_to_be_clickable((By.ID, "analytics-prepare"))(d)
        )
    )
    if by_itself:
        WebDriverWait(browser, 30).until(
            lambda d: d.find_element(By.ID, "analytics-progress-wrap").is_displayed()
        )
    elif not browser.find_element(By.ID, "analytics-progress-wrap").is_displayed():
        browser.find_element(By.ID, "analytics-prepare").click()
    labels: set[str] = set()

    def finished() -> bool:
        label = browser.execute_script(
            "const p = document.getElementById('analytics-progress'); return p ? p.innerText : '';"
        )
        if label and "%" in label:
            labels.add(label.strip())
        alert = browser.execute_script(
            "const a = document.getElementById('analytics-alert'); return a ? a.innerText : '';"
        )
        return "Prepared" in (alert or "")

    wait_until(finished, 240, "the preparation to finish", interval=0.1)
    assert labels, "no progress reached the page"
    assert any(not label.startswith("100%") for label in labels), labels
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "const p = document.getElementById('analytics-prepare'); return p && p.style.display === 'none';"
        )
    )
    return labels


@pytest.fixture()
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1 (no persistence)."""
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def pings() -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    try:
        wait_until(pings, 20, "redis-server")
        yield url
    finally:
        stop_server(proc)


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
