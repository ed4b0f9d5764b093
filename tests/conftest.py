"""Shared fixtures: data and cache folders, a real app server, a headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# Shared fixtures that live outside this file (tests/support/).
pytest_plugins = ["tests.support.analytics_page"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RNNX_WARMUP", "0")  # servers started by tests never warm up in the background
# nor prepare a default analysis on a first visit, unless a test asks for it (RNNX_AUTO_PREPARE=1)
os.environ.setdefault("RNNX_AUTO_PREPARE", "0")
if "RNNX_DATA_DIR" not in os.environ and SHARED_DATA.exists():
    os.environ["RNNX_DATA_DIR"] = str(SHARED_DATA)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the real app in headless Chromium")
    config.addinivalue_line("markers", "slow: minutes long; skip with -m 'not slow'")


@pytest.fixture(scope="session", autouse=True)
def test_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session gets its own cache unless RNNX_TEST_CACHE_DIR names one to reuse."""
    reuse = os.environ.get("RNNX_TEST_CACHE_DIR")
    path = Path(reuse) if reuse else tmp_path_factory.mktemp("cache")
    os.environ["RNNX_CACHE_DIR"] = str(path)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_server(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """Start a server process on 127.0.0.1:port and wait for /healthz."""
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
    except RuntimeError:
        proc.kill()
        raise
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def app_server(test_cache_dir: Path) -> str:
    """``python app.py`` on a free port with the test cache; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "RNNX_CACHE_DIR": str(test_cache_dir)}
    proc = start_server([sys.executable, "app.py"], env, port)
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


def make_driver(width: int = 1400, height: int = 1000):
    """A headless Debian Chromium driven by Selenium, with console logs captured."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        "--enable-unsafe-swiftshader",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


@pytest.fixture()
def browser():
    driver = make_driver()
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    """Severe console messages, ignoring the favicon."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]
