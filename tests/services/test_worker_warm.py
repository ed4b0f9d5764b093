"""Each gunicorn worker reads the prepared default analyses in the background when it starts."""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path

from model import memo

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_warms_the_prepared_defaults_and_skips_what_it_cannot(page, monkeypatch):
    from pages import analytics

    memo.forget()
    warmed = analytics.warm_worker(["imdb", "reuters~5000", "no such set", "upload-0123abcd", "reuters"])
    assert warmed == ["imdb", "reuters"]  # the synthetic pipeline offers no size and owns no upload
    assert memo.kinds().get("table") == 2  # the table columns a first visit would have built
    assert memo.kinds().get("analysis") == 2


def test_gunicorn_runs_it_in_a_thread_unless_switched_off(page, monkeypatch):
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)

    class Worker:
        pid = 1
        log = logging.getLogger("test-worker")

    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name))
    monkeypatch.setenv("RNNX_WORKER_WARM", "0")
    conf.post_worker_init(Worker())
    assert started == []
    monkeypatch.delenv("RNNX_WORKER_WARM")
    conf.post_worker_init(Worker())
    assert started == ["rnnx-worker-warm"]
