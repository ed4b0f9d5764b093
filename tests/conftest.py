"""Shared fixtures: data and cache folders, a real app server, a headless Chromium."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.browser import make_driver
from tests.support.servers import SHARED_DATA, free_port, start_server, stop_server

# Shared fixtures that live outside this file (tests/support/).
pytest_plugins = ["tests.support.analytics_page"]


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RNNX_WARMUP", "0")  # servers started by tests never warm up in the background
# nor prepare a default analysis on a first visit, unless a test asks for it (RNNX_AUTO_PREPARE=1)
os.environ.setdefault("RNNX_AUTO_PREPARE", "0")
if "RNNX_DATA_DIR" not in os.environ and SHARED_DATA.exists():
    os.environ["RNNX_DATA_DIR"] = str(SHARED_DATA)


# Under ``-n 2 --dist loadgroup`` (the README's whole-suite command) the browser and deploy tiers run
# one after another on one worker (their servers, Chromium and Redis would fight over two cores),
# while the other worker takes the unit and services tests.
SERIAL_TIERS = frozenset({"browser", "deploy"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # a module that starts no server or browser (``PARALLEL_OK = True``) may run beside them
        if item.path.parent.name in SERIAL_TIERS and not getattr(item.module, "PARALLEL_OK", False):
            item.add_marker(pytest.mark.xdist_group("servers"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the real app in headless Chromium")
    config.addinivalue_line("markers", "slow: minutes long; skip with -m 'not slow'")
    config.addinivalue_line(
        "markers",
        "heavy: seconds long (trains, fits UMAP, runs the CLI); the fast tier skips it with -m 'not heavy'",
    )


@pytest.fixture(scope="session", autouse=True)
def test_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session gets its own cache unless RNNX_TEST_CACHE_DIR names one to reuse."""
    reuse = os.environ.get("RNNX_TEST_CACHE_DIR")
    path = Path(reuse) if reuse else tmp_path_factory.mktemp("cache")
    os.environ["RNNX_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def app_server(test_cache_dir: Path) -> str:
    """``python app.py`` on a free port with the test cache; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "RNNX_CACHE_DIR": str(test_cache_dir)}
    proc = start_server([sys.executable, "app.py"], env, port)
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


@pytest.fixture(autouse=True)
def _dash_context_per_test():
    """Undo whatever callback context a test set (tests that call callbacks set Dash's context
    variable by hand), so a later test never runs inside an earlier test's half-made context."""
    from dash._callback_context import context_value

    token = context_value.set(context_value.get())
    yield
    context_value.reset(token)


@pytest.fixture()
def browser():
    driver = make_driver()
    yield driver
    driver.quit()
