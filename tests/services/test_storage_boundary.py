"""Storage split by purpose, and demo mode on a read-only cache, against the real server.

A flood of sessions (and of junk session ids) must never evict prepared results; a demo
server must serve what is cached and write nothing at all into the cache folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dash_client import DashClient, text_of
from tests.support.servers import ROOT, free_port, start_server, stop_server
from tests.support.uploads import post_file


def _server(cache_dir: Path, **extra: str):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "RNNX_CACHE_DIR": str(cache_dir), **extra}
    return f"http://127.0.0.1:{port}", start_server([sys.executable, "app.py"], env, port)


def _results_entry(cache_dir: Path) -> str:
    """A stand-in prepared result written through the results cache, as model.prepare does."""
    code = (
        "from model import cache; key = cache.make_key('classifier', probe=1); "
        "cache.put(key, b'x' * 200_000); print(key)"
    )
    env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def _has(cache_dir: Path, key: str) -> bool:
    code = f"from model import cache; print(cache.contains({key!r}))"
    env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip() == "True"


@pytest.mark.heavy
def test_a_session_flood_never_evicts_prepared_results(tmp_path):
    cache_dir = tmp_path / "cache"
    key = _results_entry(cache_dir)
    url, proc = _server(cache_dir, RNNX_SESSION_LIMIT_MB="1")
    try:
        junk = "f" * 1_000_000
        for i in range(40):
            client = DashClient(url, page="/trainer")
            status, reply = client.post(
                "epoch-counter.children", {"trainer-session.data": junk}, "trainer-session.data"
            )
            assert status == 200 and "Page session id" in text_of(reply)
            csv = f"text,label\n{'word ' * 4000}{i},1\nother,0\n".encode()
            client.get("/analytics")
            status, _ = post_file(client, "csv", csv, "a.csv")
            assert status == 200
        assert DashClient(url).get("/healthz")[0] == 200
    finally:
        stop_server(proc)
    assert _has(cache_dir, key), "a flood of sessions evicted a prepared result"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.slow
def test_demo_mode_serves_a_read_only_cache_and_writes_nothing(tmp_path):
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir), "RNNX_PROFILE": "quick"}
    command = [sys.executable, "-m", "model.prepare", "--dataset", "reuters", "--json"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    before = _snapshot(cache_dir)
    demo = {"RNNX_DEMO_MODE": "1", "RNNX_PROFILE": "quick", "RNNX_STATE_DIR": str(tmp_path / "state")}
    url, proc = _server(cache_dir, **demo)
    try:
        client = DashClient(url)
        assert client.get("/trainer")[0] == 200
        status, reply = client.post(
            "analytics-model-bar.children",
            {"analytics-dataset.value": "reuters", "analytics-projection-method.value": "pca"},
            "analytics-dataset.value",
        )
        assert status == 200 and "earn" in text_of(reply)  # the prepared analysis, read from the cache
        status, reply = post_file(client, "csv", b"a,b\n1,2\n", "a.csv")
        assert status == 403 and "switched off" in text_of(reply)
    finally:
        stop_server(proc)
    cli = subprocess.run(command, cwd=ROOT, env={**env, **demo}, capture_output=True, text=True)
    assert cli.returncode == 0 and json.loads(cli.stdout.splitlines()[-1])["cached"] is True
    assert _snapshot(cache_dir) == before, "demo mode wrote into the cache folder"
