"""Headless Chromium for the browser tests: a driver, the app, waits that say what the page shows."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.servers import free_port, start_server


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


def console_errors(driver) -> list[str]:
    """Severe console messages, ignoring the favicon."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]


def start_app(env_extra: dict[str, str], cache_dir: Path, pipeline: str | None = None):
    """``python app.py`` on a free port with its own cache; ``pipeline`` serves a stand-in data pipeline
    through ``app.create_app`` (``tests/support/serve.py``)."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "RNNX_CACHE_DIR": str(cache_dir),
        **env_extra,
    }
    if pipeline:
        env["RNNX_TEST_PIPELINE"] = pipeline
    command = [sys.executable, "-m", "tests.support.serve"] if pipeline else [sys.executable, "app.py"]
    proc = start_server(command, env, port)
    return proc, f"http://127.0.0.1:{port}"


def wait(driver, condition, timeout: float = 60):
    """Wait for ``condition``; on a timeout, the message lists the alerts the page shows."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(condition)
    except TimeoutException as error:
        shown = [e.text[:300] for e in css(driver, ".alert") if e.text]
        raise TimeoutException(f"{driver.current_url}; alerts shown: {shown}") from error


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def trajectory(driver) -> list:
    return driver.execute_script(
        """var gd = document.querySelector('#projection-graph .js-plotly-plot');
        if (!gd || !gd.data) { return null; }
        var t = gd.data.find(function (t) { return t.uid === 'traj-points'; });
        return t ? {x: t.x, text: t.text} : null;"""
    )


def labelled(driver) -> list[str]:
    traj = trajectory(driver) or {"text": []}
    return [w for w in (traj.get("text") or []) if w]


def skip_tour(driver, url: str) -> None:
    """Mark the guided tour as seen so its popover does not cover the page."""
    origin = "/".join(url.split("/")[:3])
    driver.get(f"{origin}/healthz")
    driver.execute_script("localStorage.setItem('rnnx-tour-done-analytics', '1');")
