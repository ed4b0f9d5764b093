"""Helpers of the deployment tests: waiting on a condition, a preparation watched in the browser."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.servers import free_port, stop_server


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def prepare_in_browser(browser, base: str, dataset: str = "reuters", by_itself: bool = False) -> set[str]:
    """Open /analytics (which prepares by itself, or click Prepare), watch the progress bar until done;
    returns the labels seen. ``by_itself``: the server has RNNX_AUTO_PREPARE on, and no click is made."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base}/analytics?dataset={dataset}")
    # A first visit to a default dataset starts preparing by itself; otherwise click Prepare.
    WebDriverWait(browser, 60).until(
        lambda d: (
            d.find_element(By.ID, "analytics-progress-wrap").is_displayed()
            or ec.element_to_be_clickable((By.ID, "analytics-prepare"))(d)
        )
    )
    if by_itself:
        WebDriverWait(browser, 30).until(
            lambda d: d.find_element(By.ID, "analytics-progress-wrap").is_displayed()
        )
    elif not browser.find_element(By.ID, "analytics-progress-wrap").is_displayed():
        browser.find_element(By.ID, "analytics-prepare").click()
    labels: set[str] = set()

    def finished() -> bool:
        label = browser.execute_script(
            "const p = document.getElementById('analytics-progress-text'); return p ? p.innerText : '';"
        )
        if label and "%" in label:
            labels.add(label.strip())
        alert = browser.execute_script(
            "const a = document.getElementById('analytics-alert'); return a ? a.innerText : '';"
        )
        return "Prepared" in (alert or "")

    wait_until(finished, 240, "the preparation to finish", interval=0.1)
    assert labels, "no progress reached the page"
    assert any(not label.startswith("100%") for label in labels), labels
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "const p = document.getElementById('analytics-prepare'); return p && p.style.display === 'none';"
        )
    )
    return labels


def maps_mention_tensorflow(pid: int) -> bool:
    """Whether the process has any TensorFlow library mapped."""
    return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()


class RedisServer:
    """``redis-server`` on a fixed loopback port that the test can stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def pings(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.exceptions.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.folder)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_until(self.pings, 20, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc)
            self.proc = None
        wait_until(lambda: not self.pings(), 10, "redis-server to stop")
