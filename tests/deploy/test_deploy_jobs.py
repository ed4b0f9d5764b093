"""Under gunicorn, a forked job does not outlive the server (issue 19).

The stand-in pipeline of ``tests/services/test_session_jobs.py`` (a preparation that starts a
child process and waits) served by ``gunicorn -w 1``: killing the master and its worker with
``-9`` ends the job and the process it started, and the port serves again at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import psutil

from tests.services.test_session_jobs import HANG_ENV, Page, _alive
from tests.support.servers import free_port, start_server, stop_server

PIPELINE = "tests.services.test_session_jobs"


def _gunicorn(tmp_path: Path, port: int, **extra: str):
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache"), "RNNX_TEST_PIPELINE": PIPELINE}
    for name in ("REDIS_URL", "RNNX_AUTH_USERS", "RNNX_AUTH_FILE", "RNNX_DEMO_MODE", "RNNX_BASE_PATH"):
        env.pop(name, None)
    env.update(HOST="127.0.0.1", PORT=str(port), RNNX_WORKER_WARM="0", **extra)
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "tests.support.serve:server"]
    return start_server(command, env, port)


def _worker(master: psutil.Process) -> int:
    workers = [p for p in master.children() if "gunicorn" in " ".join(p.cmdline())]
    return workers[0].pid if workers else 0


def test_a_killed_master_ends_its_jobs_and_the_port_serves_again(tmp_path: Path) -> None:
    port = free_port()
    master = _gunicorn(tmp_path, port, **{HANG_ENV: str(tmp_path)})
    try:
        Page(f"http://127.0.0.1:{port}").start("imdb")
        deadline = time.time() + 30
        while not (tmp_path / "pids.json").exists() and time.time() < deadline:
            time.sleep(0.1)
        job, child = json.loads((tmp_path / "pids.json").read_text())
        worker = _worker(psutil.Process(master.pid))
        os.kill(master.pid, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)  # as a container stop or the OOM killer would take both
        master.wait()
        deadline = time.time() + 10
        while (_alive(job) or _alive(child)) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(job) and not _alive(child), "a job outlived the server"
        stop_server(_gunicorn(tmp_path, port))  # the port is free: a restart serves at once
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(master.pid, signal.SIGKILL)
