"""Real gunicorn servers on 127.0.0.1: workers, basic auth, demo mode, URL prefix, no TF in the master."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.support.deploy import maps_mention_tensorflow
from tests.support.servers import ROOT, free_port, start_server, stop_server

PAGES = ("/", "/trainer", "/analytics")


@contextmanager
def gunicorn(tmp_path: Path, workers: int = 1, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``gunicorn -w N app:server`` on a free loopback port with its own cache; yields (base URL, master)."""
    port = free_port()
    full_env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RNNX_CACHE_DIR": str(tmp_path / "cache"),
    }
    for name in (
        "RNNX_AUTH_USERS",
        "RNNX_AUTH_FILE",
        "RNNX_DEMO_MODE",
        "RNNX_BASE_PATH",
        "REDIS_URL",
        "RNNX_WARMUP",
    ):
        full_env.pop(name, None)
    full_env.update(env)
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", "2", "app:server"]
    proc = start_server(command, full_env, port)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_server(proc)


def fetch(url: str, data: bytes | None = None, user: str | None = None) -> tuple[int, bytes]:
    """Status and body of one request (JSON POST when ``data`` is given), following no redirects."""
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if user is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def router_call(pathname: str) -> bytes:
    """The body of the pages router callback for ``pathname`` (a real Dash callback)."""
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    return json.dumps(body).encode()


def dash_config(html: bytes) -> dict:
    """The ``_dash-config`` JSON the index page hands to the renderer."""
    match = re.search(rb'<script id="_dash-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no _dash-config in the page"
    return json.loads(match.group(1))


def test_four_workers_serve_pages_and_callbacks_without_tensorflow(tmp_path: Path) -> None:
    with gunicorn(tmp_path, workers=4) as (base, master):
        children = psutil.Process(master.pid).children()
        workers = [
            p
            for p in children
            if "gunicorn" in " ".join(p.cmdline()) or "app:server" in " ".join(p.cmdline())
        ]
        assert len(workers) == 4

        def one(i: int) -> tuple[int, int, int]:
            page = PAGES[i % len(PAGES)]
            status_page, _ = fetch(base + page)
            status_cb, body = fetch(base + "/_dash-update-component", router_call(page))
            status_health, health = fetch(base + "/healthz")
            assert json.loads(body)["response"]["_pages_content"]["children"] is not None
            return status_page, status_cb, json.loads(health)["pid"] if status_health == 200 else -1

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(96)))
        assert {(page, cb) for page, cb, _ in results} == {(200, 200)}
        pids = {pid for _, _, pid in results}
        assert pids <= {w.pid for w in workers}
        assert len(pids) >= 2, "requests should spread over several workers"
        assert not maps_mention_tensorflow(master.pid), "TensorFlow loaded in the gunicorn master"
        for worker in workers:
            assert not maps_mention_tensorflow(worker.pid), "TensorFlow loaded at import time in a worker"


def test_basic_auth_guards_every_page_asset_and_callback(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("bob:builder\n")
    with gunicorn(tmp_path, RNNX_AUTH_USERS="alice:wonder land", RNNX_AUTH_FILE=str(users)) as (base, _):
        guarded = [*PAGES, "/_dash-layout", "/_dash-dependencies", "/assets/app.css", "/_reload-hash"]
        for path in guarded:
            assert fetch(base + path)[0] == 401, path
            assert fetch(base + path, user="alice:wrong")[0] == 401, path
        for user in (None, "alice:nope", "eve:builder"):
            assert fetch(base + "/_dash-update-component", router_call("/trainer"), user=user)[0] == 401
        for user in ("alice:wonder land", "bob:builder"):
            for path in (*PAGES, "/_dash-layout", "/_dash-dependencies", "/assets/app.css"):
                assert fetch(base + path, user=user)[0] == 200, (path, user)
            assert fetch(base + "/_dash-update-component", router_call("/trainer"), user=user)[0] == 200
        status, body = fetch(base + "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"


def test_demo_mode_is_announced_and_read_only(tmp_path: Path) -> None:
    with gunicorn(tmp_path, RNNX_DEMO_MODE="1") as (base, _):
        status, body = fetch(base + "/healthz")
        assert status == 200 and json.loads(body)["demo_mode"] is True
        status, layout = fetch(base + "/_dash-layout")
        assert status == 200 and b"read-only" in layout


@pytest.mark.parametrize("strips", ["0", "1"])
def test_served_under_a_path_prefix(tmp_path: Path, strips: str) -> None:
    with gunicorn(tmp_path, RNNX_BASE_PATH="/team/rnn", RNNX_PROXY_STRIPS_PREFIX=strips) as (base, _):
        routes = "/" if strips == "1" else "/team/rnn/"
        status, html = fetch(base + routes)
        assert status == 200
        assert dash_config(html)["requests_pathname_prefix"] == "/team/rnn/"
        assert fetch(base + routes + "_dash-layout")[0] == 200
        assert fetch(base + routes + "trainer")[0] == 200
        assert fetch(base + routes + "_dash-update-component", router_call("/team/rnn/trainer"))[0] == 200
        assert fetch(base + "/healthz")[0] == 200
        if strips == "0":
            assert fetch(base + "/_dash-layout")[0] == 404


def test_warmup_starts_once_in_the_background_and_never_blocks_serving(tmp_path: Path) -> None:
    """RNNX_WARMUP=1: gunicorn's master launches one warm-up runner; the server answers meanwhile."""
    import time

    with gunicorn(tmp_path, workers=2, RNNX_WARMUP="1", RNNX_WARMUP_DATASETS="no-such-dataset") as (
        base,
        master,
    ):
        assert fetch(base + "/healthz")[0] == 200
        lock = tmp_path / "cache" / "warmup.lock"
        deadline = time.monotonic() + 60
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lock.exists(), "the warm-up runner never started"
        runners = [
            p
            for p in psutil.Process(master.pid).children(recursive=True)
            if "serving.warmup" in " ".join(p.cmdline())
        ]
        assert len(runners) <= 1
        assert fetch(base + "/")[0] == 200


def test_concurrent_first_requests_to_a_fresh_worker_all_see_every_callback(tmp_path: Path) -> None:
    """Dash finishes its setup on the first request and flags it done too early; the app does it at start."""
    import socket
    import time

    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "RNNX_CACHE_DIR": str(tmp_path / "cache")}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "1",
        "--threads",
        "16",
        "-b",
        f"127.0.0.1:{port}",
        "app:server",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the port only: no request may reach the worker before the burst
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        time.sleep(1.0)  # the worker has imported the app and is accepting

        def dependencies(_: int) -> int:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_dash-dependencies", timeout=60
            ) as response:
                return len(json.loads(response.read()))

        with ThreadPoolExecutor(16) as pool:
            counts = list(pool.map(dependencies, range(16)))
        assert len(set(counts)) == 1 and counts[0] > 40, counts
    finally:
        stop_server(proc)
