"""The trainer page in real headless Chromium: step, loss chart, add a layer, keyboard shortcuts, play;
a layer clicked before the network is ready, the notice as a toast, +/- presses on a busy server."""

from __future__ import annotations

import pytest

from tests.support.browser import console_errors, held, hold, install_hold, posts, release

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


UPDATE = "trainer-play-label.children"  # the output string of update_trainer (the one server action)
BUILD_S = 180  # generous: building a network on a busy two-core machine takes up to tens of seconds
CLICKED = '"type":"trainer-layer"}.n_clicks'  # a request a click on a layer makes (if it makes one)
LAYER = '#network-diagram [id*="trainer-layer"][id*="\\"index\\":{}"]'
TRAINED_JS = """
const gd = document.querySelector('#prediction-graph .js-plotly-plot');
return !!(gd && gd.data && gd.data.some(t => t.y && t.y.length > 0));
"""
TOP_JS = "return document.getElementById('network-diagram').getBoundingClientRect().top;"


def _open_untoured(browser, url: str) -> None:
    browser.get(url + "/healthz")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")
    install_hold(browser)
    browser.get(url + "/trainer")


def _click(browser, element) -> None:
    """A real mouse click (the pointer moves there first)."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(element).pause(0.05).click().perform()


def _notice_shown(browser) -> bool:
    from selenium.webdriver.common.by import By

    return any(e.is_displayed() for e in browser.find_elements(By.ID, "trainer-notice"))


def _layers(browser) -> int:
    from selenium.webdriver.common.by import By

    return len(browser.find_elements(By.CSS_SELECTOR, "#network-diagram .trainer-layer"))


def test_a_layer_clicked_while_preparing_opens_once_ready_and_the_notice_moves_nothing(
    app_server: str, browser
) -> None:
    from selenium.webdriver.common.by import By

    _open_untoured(browser, app_server)
    # a busy server: the network's first request waits, and so would a request the click makes, so
    # the network's answer (the diagram drawn again) comes first, as when the page is slow to start
    hold(browser, UPDATE)
    hold(browser, CLICKED)
    _wait(browser, lambda b: held(b, UPDATE) >= 1)
    assert "Preparing the network" in _text(browser, "prediction-graph")
    _click(browser, browser.find_element(By.CSS_SELECTOR, LAYER.format(1)))
    # the click is remembered and said: the view opens once the network is there
    _wait(browser, lambda b: "once the network is ready" in _text(b, "cell-waiting"))
    assert not browser.find_element(By.ID, "cell-view").is_displayed()
    release(browser, UPDATE)
    _wait(browser, lambda b: b.execute_script(TRAINED_JS), timeout=BUILD_S)
    release(browser)
    _wait(browser, lambda b: b.find_element(By.ID, "cell-view").is_displayed(), timeout=BUILD_S)
    _wait(browser, lambda b: "layer 2 of 3" in b.find_element(By.ID, "cell-diagram").text)
    assert _text(browser, "cell-waiting") == ""

    # the reset notice floats over the page: nothing below it moves
    _click(browser, browser.find_element(By.ID, "cell-back"))
    _wait(browser, lambda b: not b.find_element(By.ID, "cell-view").is_displayed())
    _wait(browser, lambda b: not _notice_shown(b))  # measured without a notice
    top = browser.execute_script(TOP_JS)
    _click(browser, browser.find_element(By.ID, "reset-button"))
    _wait(browser, lambda b: "reset" in _text(b, "trainer-notice"))
    assert browser.find_element(By.ID, "trainer-notice").is_displayed()
    assert browser.execute_script(TOP_JS) == top
    assert console_errors(browser) == []


def test_layer_presses_show_at_once_and_reach_a_busy_server_whole(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    _open_untoured(browser, app_server)
    _wait(browser, lambda b: b.execute_script(TRAINED_JS))
    _wait(browser, lambda b: _text(b, "trainer-layer-count").startswith("3 layers"))
    hold(browser, UPDATE)  # a busy server: nothing it is sent comes back until released
    before = posts(browser, UPDATE)
    add = browser.find_element(By.ID, "add-layer")
    for shown in (4, 5, 6):
        _click(browser, add)
        _wait(browser, lambda b, n=shown: _text(b, "trainer-layer-count").startswith(f"{n} layers"))
    browser.find_element(By.TAG_NAME, "body").send_keys("-")  # the keyboard's − counts too
    _wait(browser, lambda b: _text(b, "trainer-layer-count").startswith("5 layers"))
    assert _layers(browser) == 3  # shown in the page, not built yet
    assert posts(browser, UPDATE) - before == 1  # one request on its way; the other presses wait for it
    release(browser)
    _wait(browser, lambda b: _layers(b) == 5, timeout=2 * BUILD_S)
    diagram = browser.find_element(By.ID, "network-diagram")
    _wait(browser, lambda b: "pending" not in (diagram.get_attribute("class") or ""))
    assert _text(browser, "trainer-layer-count").startswith("5 layers")
    assert posts(browser, UPDATE) - before == 2  # the presses made meanwhile went as one
    assert console_errors(browser) == []
