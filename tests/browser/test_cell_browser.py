"""In real Chromium: open a layer's cell view, step through one time step, return to the overview."""

from __future__ import annotations

import time

import pytest

from tests.support.browser import console_errors

pytestmark = pytest.mark.browser

STRIPS_JS = """
const gd = document.querySelector('#cell-diagram .js-plotly-plot');
if (!gd || !gd.data) return null;
const out = {};
gd.data.forEach(t => { if (t.meta && t.meta.role === 'strip') out[t.meta.part] = t.z[0]; });
return out;
"""
JUMP_COLOUR_JS = """
const on = Array.from(document.querySelectorAll('#cell-phase label')).find(l => l.classList.contains('active'));
return on ? getComputedStyle(on).backgroundColor : null;
"""
# What sticks out of the cell view's panel (its elements and each chart's outer svg), and any chart
# that sticks out of its own box or its column: each as [what, its box, the box it should be in].
OVERFLOW_JS = """
const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom].map(Math.round); };
const outside = (a, b) => a[0] < b[0] - 1 || a[1] < b[1] - 1 || a[2] > b[2] + 1 || a[3] > b[3] + 1;
const panel = document.querySelector('#cell-view .cell-panel'), p = box(panel), out = [];
panel.querySelectorAll('*').forEach(el => {
  if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') return;
  const r = box(el);
  if (r[2] > r[0] && outside(r, p)) out.push([el.id || String(el.className.baseVal ?? el.className), r, p]);
});
['cell-diagram', 'cell-data-graph', 'cell-grad-graph'].forEach(id => {
  const chart = document.getElementById(id), col = chart.closest('[class*="col-"]');
  chart.querySelectorAll('.main-svg').forEach(svg => {
    const r = box(svg);
    if (outside(r, box(chart))) out.push([id + ' in its box', r, box(chart)]);
    if (outside(r, box(col))) out.push([id + ' in its column', r, box(col)]);
  });
});
return out;
"""
TRAINED_JS = """
const gd = document.querySelector('#prediction-graph .js-plotly-plot');
return !!(gd && gd.data && gd.data.some(t => t.y && t.y.length > 0));
"""


def _wait(browser, condition, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(condition)


def _label(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, "cell-substep-label").text


def test_open_cell_step_one_time_step_and_go_back(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(1600, 1000)  # nothing in the view overflows it at this size (checked per phase)
    browser.get(app_server + "/trainer")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")  # no tour here
    browser.get(app_server + "/trainer")
    _wait(browser, lambda d: d.execute_script(TRAINED_JS))  # the session's model exists
    _wait(browser, lambda d: d.find_element(By.ID, "cell-view-container").find_elements(By.ID, "cell-view"))
    browser.find_element(By.CSS_SELECTOR, '[id*="trainer-layer"][id*="\\"index\\":1"]').click()
    _wait(browser, lambda d: d.find_element(By.ID, "cell-view").is_displayed())
    _wait(browser, lambda d: _label(d).startswith("Forward · time step 1 of 15 · 1."))
    assert "layer 2 of 3" in browser.find_element(By.ID, "cell-diagram").text
    # the strips' two colour scales (gates, values) are drawn; the active "Jump to" stays orange; the empty gradient
    # chart says why it is empty
    assert browser.execute_script("return document.querySelectorAll('#cell-diagram .colorbar').length") == 2
    assert browser.execute_script(JUMP_COLOUR_JS) == "rgb(255, 152, 0)"
    assert "backward phase" in browser.find_element(By.ID, "cell-grad-graph").text
    assert browser.execute_script(OVERFLOW_JS) == []

    seen = [browser.execute_script(STRIPS_JS)]
    labels = [_label(browser)]
    step = browser.find_element(By.ID, "cell-step-button")
    for _ in range(4):
        before = labels[-1]
        step.click()
        _wait(browser, lambda d, before=before: _label(d) != before)
        labels.append(_label(browser))
        seen.append(browser.execute_script(STRIPS_JS))
    assert [lab.split("· ")[-1][:2] for lab in labels] == ["1.", "2.", "3.", "4.", "1."]
    assert "time step 2 of 15" in labels[-1]

    def filled(values) -> bool:
        return values is not None and all(v is not None for v in values)

    # sub-step 1: x_t and a_{t-1} shown, gates and output not yet computed
    assert filled(seen[0]["x"]) and filled(seen[0]["a_prev"])
    assert not filled(seen[0]["f"]) and not filled(seen[0]["a"])
    # sub-step 2: the gates fill in with values in (0, 1)
    assert filled(seen[1]["f"]) and filled(seen[1]["i"]) and filled(seen[1]["o"])
    assert all(0 < v < 1 for v in seen[1]["f"]) and len(set(seen[1]["f"])) > 4
    # sub-step 3: the cell state changes from c_{t-1} (= 0 at the first step) to c_t
    assert seen[1]["c"] == [0.0] * 16 and seen[2]["c"] != seen[1]["c"]
    # sub-step 4: the output appears; the next step's a_{t-1} is this output
    assert not filled(seen[2]["a"]) and filled(seen[3]["a"])
    assert seen[4]["a_prev"] == seen[3]["a"]
    assert seen[4]["x"] != seen[3]["x"]

    # jump to the backward phase: the gradient bars appear from the last step
    browser.execute_script(
        "Array.from(document.querySelectorAll('#cell-phase label')).find(l => l.textContent === 'Backward').click()"
    )
    _wait(browser, lambda d: _label(d).startswith("Backward through time · step 15 of 15"))
    assert browser.execute_script(OVERFLOW_JS) == []

    # then past the window: the 32 predicted steps, each reading the prediction fed back
    browser.execute_script(
        "Array.from(document.querySelectorAll('#cell-phase label')).find(l => l.textContent === 'Predict').click()"
    )
    _wait(browser, lambda d: _label(d).startswith("Predict ahead · time step 16 · "))
    _wait(browser, lambda d: "predicted 1 of 32" in d.find_element(By.ID, "cell-diagram").text)
    assert "active" in browser.find_element(By.ID, "cell-phase-label-predict").get_attribute("class")
    assert browser.execute_script(JUMP_COLOUR_JS) == "rgb(255, 152, 0)"
    step.click()
    _wait(browser, lambda d: _label(d).startswith("Predict ahead · time step 17 · "))
    assert "no gradient" in browser.find_element(By.ID, "cell-grad-graph").text
    assert browser.execute_script(OVERFLOW_JS) == []

    browser.find_element(By.ID, "cell-back").click()
    _wait(browser, lambda d: not d.find_element(By.ID, "cell-view").is_displayed())
    assert browser.find_element(By.ID, "network-diagram").is_displayed()
    assert console_errors(browser) == []


def test_opening_a_cell_pauses_training_so_its_values_stay_those_of_one_epoch(
    app_server: str, browser
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(app_server + "/trainer")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")
    browser.get(app_server + "/trainer")
    _wait(browser, lambda d: d.execute_script(TRAINED_JS))
    _wait(browser, lambda d: d.find_element(By.ID, "cell-view-container").find_elements(By.ID, "cell-view"))
    browser.execute_script(  # fast mode, no animation: epochs follow each other quickly
        "const el = document.getElementById('trainer-fast'); (el.tagName === 'INPUT' ? el : el.querySelector('input')).click();"
    )
    start = int(browser.find_element(By.ID, "epoch-counter").text)
    began = time.monotonic()
    browser.find_element(By.ID, "play-button").click()
    _wait(browser, lambda d: int(d.find_element(By.ID, "epoch-counter").text) >= start + 2)
    per_epoch = (time.monotonic() - began) / 2  # how fast this machine trains, to size the check below
    browser.find_element(By.CSS_SELECTOR, '[id*="trainer-layer"][id*="\\"index\\":0"]').click()
    _wait(browser, lambda d: d.find_element(By.ID, "cell-view").is_displayed())
    assert browser.find_element(By.ID, "trainer-play-label").text == "Play"
    # Long enough for a running trainer to finish about three more epochs on this machine, however slow.
    time.sleep(min(60.0, max(2.0, 3 * per_epoch)))
    paused_at = browser.find_element(By.ID, "epoch-counter").text
    time.sleep(min(60.0, max(2.0, 3 * per_epoch)))
    assert browser.find_element(By.ID, "epoch-counter").text == paused_at
    # the values shown are those of the epoch training stopped at (an epoch in flight refreshes them)
    _wait(browser, lambda d: d.find_element(By.ID, "cell-check").text.startswith(f"epoch {paused_at} · "))
    assert console_errors(browser) == []
