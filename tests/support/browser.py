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
        if (!t) { return null; }
        var steps = t.meta && t.meta.labelled;
        var words = (t.customdata || []).map(function (c) { return c[1]; });
        return {x: t.x, text: t.text, labelled: steps ? steps.map(function (s) { return words[s]; }) : null};"""
    )


def labelled(driver) -> list[str]:
    """The words the label rules picked (``meta.labelled``; a few may not fit on the projection)."""
    traj = trajectory(driver) or {"text": []}
    if traj.get("labelled") is not None:
        return list(traj["labelled"])
    return [w for w in (traj.get("text") or []) if w]


def skip_tour(driver, url: str) -> None:
    """Mark the guided tour as seen so its popover does not cover the page."""
    origin = "/".join(url.split("/")[:3])
    driver.get(f"{origin}/healthz")
    driver.execute_script("localStorage.setItem('rnnx-tour-done-analytics', '1');")


# A stand-in for a busy server: callback requests whose output or changed inputs name a given id wait in
# the page until released (installed before the page loads; the Dash renderer posts with window.fetch).
HOLD_SCRIPT = """
(function () {
  var original = window.fetch, hold = {match: [], held: [], posts: []};
  window.rnnxTestHold = hold;
  function names(entry, text) { return entry.output.indexOf(text) >= 0 || entry.changed.indexOf(text) >= 0; }
  hold.release = function (text) {
    hold.match = text ? hold.match.filter(function (m) { return m !== text; }) : [];
    var go = hold.held.filter(function (h) { return !text || names(h.entry, text); });
    hold.held = hold.held.filter(function (h) { return go.indexOf(h) < 0; });
    go.forEach(function (h) { h.send(); });
  };
  window.fetch = function (url, options) {
    var body = options && typeof options.body === "string" ? options.body : "";
    if (String(url).indexOf("_dash-update-component") < 0 || !body) { return original.apply(this, arguments); }
    var entry = {output: "", changed: ""};
    try {
      var parsed = JSON.parse(body);
      entry = {output: parsed.output || "", changed: (parsed.changedPropIds || []).join(" ")};
    } catch (e) { /* not JSON */ }
    hold.posts.push(entry);
    if (hold.match.some(function (m) { return names(entry, m); })) {
      var self = this, args = arguments;
      return new Promise(function (resolve, reject) {
        hold.held.push({entry: entry, send: function () { original.apply(self, args).then(resolve, reject); }});
      });
    }
    return original.apply(this, arguments);
  };
})();
"""


def install_hold(driver) -> None:
    """Let a test hold callback requests in the page (for every page loaded after this call)."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOLD_SCRIPT})


def hold(driver, name: str) -> None:
    """From now on, requests whose output or changed inputs name ``name`` wait until released."""
    driver.execute_script("window.rnnxTestHold.match.push(arguments[0]);", name)


def release(driver, name: str = "") -> None:
    """Send the held requests that name ``name`` (all without it) and hold those no more."""
    driver.execute_script("window.rnnxTestHold.release(arguments[0]);", name)


def held(driver, name: str = "") -> int:
    """How many requests (naming ``name``) wait."""
    return driver.execute_script(
        "return window.rnnxTestHold ? window.rnnxTestHold.held.filter(h => !arguments[0]"
        " || h.entry.output.indexOf(arguments[0]) >= 0 || h.entry.changed.indexOf(arguments[0]) >= 0).length : 0;",
        name,
    )


def posts(driver, output: str, changed: str = "") -> int:
    """How many callback requests the page made whose output names ``output`` (and whose changed
    inputs name ``changed``), held or not."""
    return driver.execute_script(
        "return window.rnnxTestHold.posts.filter(p => p.output.indexOf(arguments[0]) >= 0"
        " && p.changed.indexOf(arguments[1]) >= 0).length;",
        output,
        changed,
    )
