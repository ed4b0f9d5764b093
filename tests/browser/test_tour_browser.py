"""In real Chromium: the tour starts on a first visit, walks every step, and stays away until restarted."""

from __future__ import annotations

import pytest

from components import tour
from tests.support.browser import console_errors, held, hold, install_hold, release

pytestmark = pytest.mark.browser

CURRENT_JS = "return window.rnnxTour ? window.rnnxTour.current() : null;"
SPOT_JS = """
const spot = document.getElementById('tour-spot');
return !!(spot && spot.style.display === 'block');
"""


TRAINED_JS = """
const gd = document.querySelector('#prediction-graph .js-plotly-plot');
return !!(gd && gd.data && gd.data.some(t => t.y && t.y.length > 0));
"""


def _wait(browser, condition, timeout: float = 60, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(condition, message)


def _popover_shown(browser) -> bool:
    return bool(
        browser.execute_script(
            "const p = document.getElementById('tour-popover'); return !!(p && getComputedStyle(p).display !== 'none' && p.getBoundingClientRect().width > 0);"
        )
    )


def test_trainer_tour_runs_once_and_restarts_from_the_navbar(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/")
    browser.execute_script("localStorage.clear()")
    browser.get(app_server + "/trainer")
    _wait(browser, _popover_shown)  # first visit: the tour starts by itself
    steps = tour.TRAINER_TOUR
    pointed = []
    for index, step in enumerate(steps):
        _wait(
            browser,
            lambda d, i=index: (d.execute_script(CURRENT_JS) or {}).get("index") == i,
            message=f"step {index}: {browser.execute_script(CURRENT_JS)}",
        )
        title = browser.find_element(By.ID, "tour-title").text
        assert title == step["title"]
        assert browser.find_element(By.ID, "tour-progress").text == f"{index + 1} / {len(steps)}"
        if step["target"]:
            # the highlight finds its element (cell steps wait for the cell view to open)
            found = _wait(
                browser, lambda d: d.execute_script(SPOT_JS), timeout=60, message=f"target of step {index}"
            )
            pointed.append(bool(found))
        if step["target"] == "cell-diagram":
            assert browser.find_element(By.ID, "cell-view").is_displayed()
        _click_when_settled(browser, "tour-next")
    assert all(pointed) and len(pointed) == sum(1 for s in steps if s["target"])
    _wait(browser, lambda d: not _popover_shown(d))
    assert browser.execute_script("return localStorage.getItem('rnnx-tour-done-trainer')") == "1"
    assert not browser.find_element(By.ID, "cell-view").is_displayed()  # the last step went back

    browser.refresh()  # remembered: no tour on reload
    _wait(browser, lambda d: d.find_elements(By.ID, "network-diagram"))
    _wait(
        browser,
        lambda d: d.execute_script("return window.rnnxTour && window.rnnxTour.watched()") == "/trainer",
    )
    assert not _popover_shown(browser)

    browser.find_element(By.ID, "tour-start").click()  # restart from the navbar
    _wait(browser, _popover_shown)
    assert browser.find_element(By.ID, "tour-title").text == steps[0]["title"]
    _click_when_settled(browser, "tour-skip")
    _wait(browser, lambda d: not _popover_shown(d))
    assert [e for e in console_errors(browser) if "tour" in e or "cellview" in e] == []


def test_waiting_step_advances_by_itself_when_epochs_pass(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/trainer")
    # the tour's script runs before the page is drawn: wait for the counter the step watches too
    _wait(
        browser,
        lambda d: d.execute_script("return !!window.rnnxTour") and d.find_elements(By.ID, "epoch-counter"),
    )
    wait_index = next(i for i, s in enumerate(tour.TRAINER_TOUR) if "wait" in s)
    browser.execute_script("window.rnnxTour.start('trainer')")
    for _ in range(wait_index):
        browser.execute_script("window.rnnxTour.next()")
    assert browser.execute_script(CURRENT_JS)["index"] == wait_index
    assert browser.find_element(By.ID, "tour-wait").is_displayed()
    epochs = tour.TRAINER_TOUR[wait_index]["wait"]["epochs"]
    counter = browser.find_element(By.ID, "epoch-counter")
    start = int(counter.text)
    # stand-in for training: the tour only watches the epoch counter's text
    browser.execute_script("arguments[0].textContent = String(arguments[1])", counter, start + epochs)
    _wait(browser, lambda d: d.execute_script(CURRENT_JS)["index"] == wait_index + 1, timeout=10)
    browser.execute_script("window.rnnxTour.finish()")


def test_analytics_page_has_its_own_shorter_tour(app_server: str, browser) -> None:
    browser.get(app_server + "/")
    browser.execute_script("localStorage.clear()")
    browser.get(app_server + "/analytics")
    _wait(browser, _popover_shown, timeout=90)
    current = browser.execute_script(CURRENT_JS)
    assert current["name"] == "analytics" and current["count"] == len(tour.ANALYTICS_TOUR)


STILL_JS = """
const el = document.getElementById(arguments[0]);
if (!el) { return false; }
const r = el.getBoundingClientRect(), key = [r.left, r.top, r.width, r.height].join(',');
const last = el.dataset.testRect;
el.dataset.testRect = key;
return last === key && r.width > 0;
"""


def _click_when_settled(browser, element_id: str, attempts: int = 20) -> None:
    """Click once the element has stopped moving (the popover slides) and is no longer covered."""
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By

    _wait(
        browser, lambda d: d.execute_script(STILL_JS, element_id), timeout=10, message=f"{element_id} moving"
    )
    for _ in range(attempts):
        try:
            browser.find_element(By.ID, element_id).click()
            return
        except ElementClickInterceptedException:
            _wait(browser, lambda d: d.execute_script(STILL_JS, element_id), timeout=10)
    browser.find_element(By.ID, element_id).click()


def test_tour_loads_a_pretrained_example_from_its_card(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/trainer")
    _wait(browser, lambda d: d.execute_script("return !!window.rnnxTour"))
    _wait(browser, lambda d: d.execute_script(TRAINED_JS))  # the session's model exists, as for a learner
    index = next(i for i, s in enumerate(tour.TRAINER_TOUR) if s.get("actions"))
    browser.execute_script("window.rnnxTour.start('trainer')")
    for _ in range(index):
        browser.execute_script("window.rnnxTour.next()")
    labels = [a["label"] for a in tour.TRAINER_TOUR[index]["actions"]]
    button = browser.find_element(By.ID, f"tour-action-{labels.index('Rate too high')}")
    assert button.text == "Rate too high"
    # a script click: the previous step's hint may still be fading out over the card
    browser.execute_script("arguments[0].click();", button)
    # the example's 25 trained epochs and its learning rate (slider in log10 units) arrive in the page
    _wait(browser, lambda d: d.find_element(By.ID, "epoch-counter").text == "25", timeout=120)
    slider = browser.find_element(By.CSS_SELECTOR, "#learning-rate [role='slider']")
    assert float(slider.get_attribute("aria-valuenow")) == 0.0
    browser.execute_script("window.rnnxTour.next()")  # the tour goes on after the example is loaded
    assert browser.execute_script(CURRENT_JS)["index"] == index + 1
    browser.execute_script("window.rnnxTour.finish()")


def test_skip_cross_is_visible_and_the_card_says_esc_closes_it(app_server: str, browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(app_server + "/trainer")
    _wait(browser, lambda d: d.execute_script("return !!window.rnnxTour"))
    browser.execute_script("window.rnnxTour.start('trainer')")
    _wait(browser, _popover_shown)
    skip = browser.find_element(By.ID, "tour-skip")
    assert skip.text == "×" and skip.size["width"] >= 20 and skip.size["height"] >= 20
    colour = browser.execute_script("return getComputedStyle(arguments[0]).color", skip)
    background = browser.execute_script(
        "return getComputedStyle(document.getElementById('tour-popover')).backgroundColor"
    )
    assert colour not in (background, "rgb(255, 255, 255)")  # drawn, and not white on white
    assert "Esc closes the tour" in browser.find_element(By.ID, "tour-hint").text
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    _wait(browser, lambda d: not _popover_shown(d), timeout=10)
    assert browser.execute_script(CURRENT_JS) is None


UPDATE = "trainer-play-label.children"  # update_trainer: the network's requests
WAIT_JS = """
const w = document.getElementById('tour-wait');
return w && getComputedStyle(w).display !== 'none' ? w.textContent : '';
"""
BARS_JS = """
const gd = document.querySelector('#cell-grad-graph .js-plotly-plot');
return gd && gd.data ? gd.data[0].y.filter(v => v !== null && v !== undefined).length : 0;
"""
GATES_JS = """
const gd = document.querySelector('#cell-diagram .js-plotly-plot');
const f = gd && gd.data ? gd.data.find(t => t.meta && t.meta.role === 'strip' && t.meta.part === 'f') : null;
return !!(f && f.z[0].every(v => v !== null));
"""


def _to_step(browser, title: str) -> int:
    """Move the running trainer tour to the step titled ``title``; its index."""
    index = next(i for i, s in enumerate(tour.TRAINER_TOUR) if s["title"] == title)
    while browser.execute_script(CURRENT_JS)["index"] < index:
        browser.execute_script("window.rnnxTour.next()")
    return index


def test_cell_steps_show_their_subject_before_they_point_at_it(app_server: str, browser) -> None:
    """ "Into a cell" waits for the network; the gates are computed; the gradient chart has its bars."""
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/healthz")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")
    install_hold(browser)
    browser.get(app_server + "/trainer")
    hold(browser, UPDATE)  # a busy server: the network is not there yet
    _wait(browser, lambda d: held(d, UPDATE) >= 1 and d.execute_script("return !!window.rnnxTour"))
    browser.execute_script("window.rnnxTour.start('trainer')")
    _to_step(browser, "Into a cell")
    _wait(browser, lambda d: "Waiting for the network" in d.execute_script(WAIT_JS), timeout=10)
    assert not browser.execute_script(SPOT_JS)  # it points at no layer that cannot open yet
    release(browser)
    _wait(browser, lambda d: d.execute_script(SPOT_JS) and not d.execute_script(WAIT_JS), timeout=180)
    assert browser.execute_script(TRAINED_JS)

    browser.execute_script("window.rnnxTour.next()")  # "The LSTM cell": the first layer opens
    _wait(browser, lambda d: d.execute_script(CURRENT_JS)["ready"], timeout=180)
    assert browser.find_element(By.ID, "cell-view").is_displayed()
    assert "layer 1 of 3" in browser.find_element(By.ID, "cell-diagram").text

    _to_step(browser, "The gates")  # the gates' strips are filled when the step points at them
    _wait(browser, lambda d: d.execute_script(CURRENT_JS)["ready"] and d.execute_script(GATES_JS), timeout=30)
    assert "active" in browser.find_element(By.ID, "cell-sub-1").get_attribute("class")

    _to_step(browser, "Vanishing gradients")  # the end of the backward phase: a bar for every step
    _wait(browser, lambda d: d.execute_script(CURRENT_JS)["ready"] and d.execute_script(SPOT_JS), timeout=30)
    _wait(browser, lambda d: d.execute_script(BARS_JS) == 15, timeout=10)
    label = browser.find_element(By.ID, "cell-substep-label").text
    assert label.startswith("Backward through time · step 1 of 15"), label
    browser.execute_script("window.rnnxTour.finish()")
    assert [e for e in console_errors(browser) if "tour" in e or "cellview" in e] == []
