"""Without Redis: background preparation under gunicorn, forked from a worker that already runs TF.

DiskcacheManager forks a job process from the gunicorn worker.  After a trainer
step that worker has TensorFlow loaded; the job must still finish, because it
only starts ``python -m model.prepare`` as a fresh process and never uses TF
itself.  The gunicorn master never loads TensorFlow.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import psutil
import pytest

from bench.load import DashClient, open_trainer, trainer_step
from tests.support.deploy import maps_mention_tensorflow, prepare_in_browser
from tests.support.servers import free_port, start_server, stop_server

pytestmark = [pytest.mark.browser]


def test_preparation_job_forked_from_a_tensorflow_worker_finishes(tmp_path: Path, browser) -> None:
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache"), "RNNX_PROFILE": "quick"}
    for name in ("REDIS_URL", "RNNX_AUTH_USERS", "RNNX_AUTH_FILE", "RNNX_DEMO_MODE", "RNNX_BASE_PATH"):
        env.pop(name, None)
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    master = start_server(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "app:server"], env, port
    )
    try:
        base = f"http://127.0.0.1:{port}"
        client = DashClient(base)
        assert json.loads(client.get("/healthz")[1])["background"] == "diskcache"
        status, _ = trainer_step(client, open_trainer(client), first=True)
        assert status == 200
        (worker,) = psutil.Process(master.pid).children()
        assert maps_mention_tensorflow(worker.pid), "the trainer step should have loaded TF in the worker"
        prepare_in_browser(browser, base)
        assert not maps_mention_tensorflow(master.pid)
    finally:
        stop_server(master)
