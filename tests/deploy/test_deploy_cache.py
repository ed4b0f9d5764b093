"""The shared disk cache under faults: a process killed mid-computation, a full size limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import ROOT

SLOW_MEMOIZE = """
import os, sys, time, pathlib
from model import cache
marker, key, lock_seconds, nbytes = pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
def compute():
    marker.write_text(str(os.getpid()))
    time.sleep(float(sys.argv[5]))
    return os.urandom(nbytes)
cache.memoize(key, compute, lock_seconds=lock_seconds)
"""

FILL = """
import os, sys
from model import cache
prefix, count, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Writing and reading must never raise; a fresh entry may already be evicted by another
# writer's cull (the limit holds ~20 entries for 3 writers), so reads are counted, not required.
readable = 0
for i in range(count):
    cache.put(f"{prefix}:{i:04d}", os.urandom(nbytes))
    readable += cache.get(f"{prefix}:{i:04d}") is not None
print("ok", readable)
"""


def run_python(code: str, *args: object, env: dict[str, str], **popen: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env, **popen)


@pytest.fixture()
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's own cache folder, for this process and its children."""
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    return dict(os.environ)


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the computing process ended early"
        assert time.monotonic() < deadline, "the computing process never started computing"
        time.sleep(0.05)


def test_killed_mid_computation_leaves_no_entry_and_next_call_recomputes(
    cache_env: dict[str, str], tmp_path: Path
) -> None:
    from model import cache

    key = cache.make_key("deploy-test-slow", n=1)
    marker = tmp_path / "computing"
    proc = run_python(SLOW_MEMOIZE, marker, key, 2, 1_000_000, 60, env=cache_env)
    wait_for_file(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert cache.get(key) is None
    value, was_cached = cache.memoize(key, lambda: b"recomputed", lock_seconds=2)
    assert (value, was_cached) == (b"recomputed", False)
    assert cache.memoize(key, lambda: b"never", lock_seconds=2) == (b"recomputed", True)


def test_killed_while_writing_never_leaves_a_partial_value(cache_env: dict[str, str], tmp_path: Path) -> None:
    """SIGKILL at moments around the write of a large value: the entry is all there or absent."""
    from model import cache

    nbytes = 8_000_000
    for attempt, delay in enumerate((0.0, 0.02, 0.05, 0.1, 0.2)):
        key = cache.make_key("deploy-test-write", attempt=attempt)
        marker = tmp_path / f"computing-{attempt}"
        proc = run_python(SLOW_MEMOIZE, marker, key, 1, nbytes, 0, env=cache_env)
        wait_for_file(marker, proc)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        value = cache.get(key)
        assert value is None or len(value) == nbytes
        again, _ = cache.memoize(key, lambda: b"y" * nbytes, lock_seconds=1)
        assert len(again) == nbytes
    assert cache.get_cache().check() is not None  # the SQLite index stays readable


def test_size_limit_evicts_old_entries_under_concurrent_writers(
    cache_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from model import cache

    limit_bytes = 4 * 1024**2
    monkeypatch.setenv("RNNX_CACHE_LIMIT_GB", str(limit_bytes / 1024**3))
    env = {**cache_env, "RNNX_CACHE_LIMIT_GB": str(limit_bytes / 1024**3)}
    cache.put("deploy-test:oldest", os.urandom(200_000))
    writers = [
        run_python(FILL, f"w{i}", 40, 200_000, env=env, stderr=subprocess.PIPE, text=True) for i in range(3)
    ]
    outcomes = [(proc.wait(timeout=120), proc.stderr.read()[-1500:]) for proc in writers]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    store = cache.get_cache()
    assert store.size_limit == limit_bytes
    assert store.volume() < 2 * limit_bytes, (
        f"eviction should keep the cache near its limit: {store.volume()}"
    )
    assert cache.get("deploy-test:oldest") is None, "the oldest entry should have been evicted"
    recent = sum(cache.get(f"w{i}:0039") is not None for i in range(3))
    assert recent >= 1, "recent entries should survive"
    cache.put("deploy-test:after", b"still works")
    assert cache.get("deploy-test:after") == b"still works"


LOCKED_MEMOIZE = """
import sys
from model import cache
value, was_cached = cache.memoize(sys.argv[1], lambda: b"after the kill")
print(value.decode(), was_cached)
"""


def test_lock_of_a_killed_process_does_not_block_the_next_caller(
    cache_env: dict[str, str], tmp_path: Path
) -> None:
    from model import cache

    key = cache.make_key("deploy-test-default-lock", n=1)
    marker = tmp_path / "computing"
    proc = run_python(SLOW_MEMOIZE, marker, key, 3600, 1000, 60, env=cache_env)
    wait_for_file(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    try:
        out = subprocess.run(
            [sys.executable, "-c", LOCKED_MEMOIZE, key], cwd=ROOT, env=cache_env, capture_output=True, text=True,
            timeout=15,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("the next caller is still waiting for the dead process's lock")
    assert out.stdout.split() == ["after", "the", "kill", "False"]
