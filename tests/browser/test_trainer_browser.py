"""The trainer page in real headless Chromium: step, loss chart, add a layer, keyboard shortcuts, play."""

from __future__ import annotations

import pytest

from tests.support.browser import console_errors

pytestmark = pytest.mark.browser


def _wait(browser, condition, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


def _text(browser, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id).text


def test_trainer_step_loss_add_layer_and_play(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/healthz")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")  # no guided tour here
    browser.get(app_server + "/trainer")
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#prediction-graph .scatterlayer .trace"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#network-diagram .trainer-layer")) == 3
    assert _text(browser, "epoch-counter") == "0"

    # choose the sawtooth: training restarts on it, with a notice
    option = browser.find_element(By.XPATH, "//*[@id='trainer-input-select']//label[contains(., 'Sawtooth')]")
    option.click()
    _wait(browser, lambda b: "data changed" in _text(b, "trainer-notice"))

    title = "#prediction-graph .gtitle"
    for epoch in (1, 2, 3):
        browser.find_element(By.ID, "step-button").click()
        _wait(browser, lambda b, e=epoch: _text(b, "epoch-counter") == str(e))
        _wait(
            browser,
            lambda b, e=epoch: b.find_element(By.CSS_SELECTOR, title).text == f"Prediction after epoch {e}",
        )
    traces = "#loss-graph .scatterlayer .trace"
    _wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, f"{traces} .point")) == 6)
    first = browser.find_elements(By.CSS_SELECTOR, traces)[0]
    assert len(first.find_elements(By.CSS_SELECTOR, ".point")) == 3  # training loss: one point per epoch
    # the prediction curve is drawn past the input window
    assert browser.find_elements(By.CSS_SELECTOR, "#prediction-graph .scatterlayer .trace")

    # add a layer: four layers drawn, training reset
    browser.find_element(By.ID, "add-layer").click()
    _wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#network-diagram .trainer-layer")) == 4)
    _wait(browser, lambda b: _text(b, "epoch-counter") == "0")
    _wait(browser, lambda b: "layers changed" in _text(b, "trainer-notice"))

    # keyboard shortcuts: "-" removes the last layer, "+" adds one back, "r" resets (shown to the user)
    assert "R reset" in _text(browser, "trainer-shortcuts")
    layers = "#network-diagram .trainer-layer"
    browser.find_element(By.TAG_NAME, "body").send_keys("-")
    _wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, layers)) == 3)
    browser.find_element(By.TAG_NAME, "body").send_keys("+")
    _wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, layers)) == 4)
    browser.find_element(By.ID, "step-button").click()
    _wait(browser, lambda b: _text(b, "epoch-counter") == "1")
    browser.find_element(By.TAG_NAME, "body").send_keys("r")
    _wait(browser, lambda b: _text(b, "epoch-counter") == "0")

    # play: epochs advance with the phases animated in the network and the process pane
    browser.find_element(By.ID, "play-button").click()
    _wait(browser, lambda b: "phase-" in b.find_element(By.ID, "trainer-network-wrap").get_attribute("class"))
    _wait(browser, lambda b: int(_text(b, "epoch-counter")) >= 1)
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#trainer-process .trainer-phase.active"))
    browser.find_element(By.ID, "play-button").click()
    _wait(browser, lambda b: _text(b, "play-button").strip() == "Play")

    # clicking a layer selects it for the cell view (layer 2 → index 1)
    browser.find_elements(By.CSS_SELECTOR, "#network-diagram .trainer-layer")[1].click()
    assert console_errors(browser) == []


CAPTIONS_JS = """
return Array.from(document.querySelectorAll('#network-diagram .net-node')).map(node => {
  const c = node.getBoundingClientRect(), t = node.querySelector('.net-node-caption').getBoundingClientRect();
  const cx = c.left + c.width / 2, cy = c.top + c.height / 2, r = c.width / 2 - 2;  // inside the border
  const corners = [[t.left, t.top], [t.right, t.top], [t.left, t.bottom], [t.right, t.bottom]];
  return {text: node.innerText, inside: corners.every(([x, y]) => Math.hypot(x - cx, y - cy) <= r + 0.5)};
});
"""
ROWS_JS = """
const svg = document.querySelector('#prediction-graph .main-svg').getBoundingClientRect();
const ticks = Array.from(document.querySelectorAll('#prediction-graph .ytick text'));
const chars = document.querySelectorAll('#prediction-graph .scatterlayer .trace')[2].querySelectorAll('text');
return {ticks: ticks.map(t => [t.textContent, t.getBoundingClientRect().left - svg.left]),
        size: chars.length ? parseFloat(getComputedStyle(chars[0]).fontSize) : 0};
"""


def test_text_mode_rows_and_node_captions_fit(app_server: str, browser) -> None:
    """Lorem ipsum: "predicted" is named in full, its characters are large, captions stay in their circles."""
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/healthz")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")
    browser.get(app_server + "/trainer")
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#prediction-graph .scatterlayer .trace"))
    browser.find_element(By.XPATH, "//*[@id='trainer-input-select']//label[contains(., 'Lorem')]").click()
    _wait(browser, lambda b: "data changed" in _text(b, "trainer-notice"))
    _wait(browser, lambda b: "one-hot" in b.find_element(By.ID, "network-diagram").text)
    captions = browser.execute_script(CAPTIONS_JS)
    assert [c["text"].split() for c in captions] == [["x", "one-hot", "22"], ["ŷ", "softmax", "22"]]
    assert all(c["inside"] for c in captions), captions
    _wait(
        browser,
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#prediction-graph .scatterlayer .trace")) >= 3,
    )
    rows = browser.execute_script(ROWS_JS)
    assert sorted(name for name, _ in rows["ticks"]) == ["predicted", "text"]
    assert all(left >= 0 for _, left in rows["ticks"]), rows  # not cut at the figure's edge
    assert rows["size"] >= 24
    assert console_errors(browser) == []
