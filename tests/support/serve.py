"""Serve the real app over a stand-in data pipeline, as ``python app.py`` serves the real one.

    RNNX_TEST_PIPELINE=tests.support.synthetic python -m tests.support.serve
    RNNX_TEST_PIPELINE=... celery -A tests.support.serve:celery_app worker

The pipeline reaches ``app.create_app`` through ``services.registry``: it is installed before
the app module is imported (importing it builds the app). ``RNNX_TEST_PIPELINE`` is read by
this test launcher only; the app itself never swaps its pipeline from the environment.
"""

from __future__ import annotations

import os

import pytest

from services import registry

PIPELINE_ENV = "RNNX_TEST_PIPELINE"


def use_pipeline(monkeypatch: pytest.MonkeyPatch, pipeline: str) -> None:
    """In this test process, back the services with ``pipeline`` (undone after the test).

    The app is imported first, so the stand-in is never what ``create_app`` installs for good.
    """
    import app  # noqa: F401

    monkeypatch.setattr(registry, "current", lambda: registry.Services(pipeline=pipeline))


if os.environ.get(PIPELINE_ENV):
    registry.install(registry.Services(pipeline=os.environ[PIPELINE_ENV]))
    import app

    celery_app = app.celery_app
    server = app.server  # gunicorn tests.support.serve:server

    if __name__ == "__main__":
        app.main()
