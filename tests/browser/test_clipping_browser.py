"""In real Chromium: text that used to be clipped or cut short (issue 20, rough edge n) shows in full.

The progress label of a preparation is never clipped to the bar's filled part ("... · ab"), and the
cell view's layer-input equation reads ``W_gx x^t + W_ga a^{t-1} + b_g`` (it read "b·.", seen as "b..").

This module is also the stand-in data pipeline of its server (as ``tests/deploy/test_health_redis.py``):
the synthetic analyses, with a preparation that reports a long stage until the test releases it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.browser import console_errors, css, skip_tour, start_app, wait
from tests.support.servers import stop_server
from tests.support.synthetic import (  # noqa: F401  the stand-in pipeline's public names
    DATASETS,
    PROJECTIONS,
    PrepareError,
    is_prepared,
    load_analysis,
    load_projection,
    load_states,
)

pytestmark = pytest.mark.browser

GATE_ENV = "RNNX_TEST_PROGRESS_GATE"
STAGE = "projecting the hidden states with t-SNE (Barnes-Hut, perplexity 30), iteration 12 of 500"

NOT_CLIPPED_JS = """
const wrap = document.getElementById('analytics-progress-wrap');
if (!wrap) { return null; }
const holders = [wrap, ...wrap.querySelectorAll('*')].filter(e => e.innerText.includes(arguments[0]));
return holders.map(e => [e.id || e.className, e.scrollWidth, e.clientWidth, e.getBoundingClientRect().width]);
"""
TRAINED_JS = """
const gd = document.querySelector('#prediction-graph .js-plotly-plot');
return !!(gd && gd.data && gd.data.some(t => t.y && t.y.length > 0));
"""
NODE_JS = """
const gd = document.querySelector('#cell-diagram .js-plotly-plot');
const size = gd._fullLayout._size;
return [size.l + gd._fullLayout.xaxis.d2p(arguments[0]), size.t + gd._fullLayout.yaxis.d2p(arguments[1]),
        gd.getBoundingClientRect().width, gd.getBoundingClientRect().height];
"""
EQUATION_JS = """
const body = document.getElementById('cell-explain-body');
const maths = body ? [...body.querySelectorAll('mjx-container')] : [];
const eq = maths.find(m => m.textContent.replace(/\\s/g, '').includes('+b'));
if (!eq) { return null; }
const block = eq.parentElement, r = eq.getBoundingClientRect(), b = body.getBoundingClientRect();
return {text: eq.textContent.replace(/\\s/g, ''), inside: r.left >= b.left - 1 && r.right <= b.right + 1,
        block: [block.scrollWidth, block.clientWidth], body: [body.scrollWidth, body.clientWidth]};
"""


def run_prepare_subprocess(
    dataset: str, projection: str, n_sequences: int | None, on_progress: Callable[[float, str], None], **_
) -> dict:
    """Report a long stage at 5 % until the test creates ``release`` in the gate folder, then fail."""
    gate = Path(os.environ[GATE_ENV])
    deadline = time.monotonic() + 120
    while not (gate / "release").exists() and time.monotonic() < deadline:
        on_progress(0.05, STAGE)
        time.sleep(0.2)
    raise PrepareError("the test released the preparation")


@pytest.fixture(scope="module")
def gated_app(tmp_path_factory):
    """The real app over this module's pipeline; yields (url, gate folder)."""
    gate = tmp_path_factory.mktemp("gate")
    proc, url = start_app({GATE_ENV: str(gate)}, tmp_path_factory.mktemp("cl"), pipeline=__name__)
    yield url, gate
    (gate / "release").write_text("done")
    stop_server(proc)


def test_the_progress_label_is_never_clipped(gated_app, browser):
    url, gate = gated_app
    skip_tour(browser, url)
    browser.get(f"{url}/analytics?dataset=imdb&method=tsne&seq=none")  # t-SNE is not prepared
    wait(browser, lambda d: css(d, "#analytics-prepare") and css(d, "#analytics-prepare")[0].is_displayed())
    css(browser, "#analytics-prepare")[0].click()
    wait(browser, lambda d: d.execute_script(NOT_CLIPPED_JS, "iteration 12 of 500"))
    holders = browser.execute_script(NOT_CLIPPED_JS, "iteration 12 of 500")
    assert all(scroll <= client + 1 for _, scroll, client, _ in holders), holders  # nothing cut off
    innermost = holders[-1]
    assert innermost[3] > 100, holders  # shown at a readable width, not inside the 5 % filled part
    assert "5% · projecting" in css(browser, "#analytics-progress-wrap")[0].text
    (gate / "release").write_text("done")
    wait(browser, lambda d: "Preparation failed" in d.find_element("id", "analytics-alert").text)
    assert console_errors(browser) == []


def test_the_cell_views_layer_input_equation_is_shown_in_full(app_server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url = app_server  # the trainer's server, shared with the other trainer tests
    browser.get(f"{url}/trainer")
    browser.execute_script("localStorage.setItem('rnnx-tour-done-trainer', '1')")
    browser.get(f"{url}/trainer")
    wait(browser, lambda d: d.execute_script(TRAINED_JS), timeout=120)
    wait(browser, lambda d: d.find_element(By.ID, "cell-view-container").find_elements(By.ID, "cell-view"))
    browser.find_element(By.CSS_SELECTOR, '[id*="trainer-layer"][id*="\\"index\\":1"]').click()
    wait(browser, lambda d: d.find_element(By.ID, "cell-view").is_displayed())
    wait(browser, lambda d: d.find_element(By.ID, "cell-substep-label").text.startswith("Forward"))
    from selenium.common.exceptions import TimeoutException

    for _attempt in range(3):  # a click while the diagram redraws (a busy machine) may miss the node
        graph = browser.find_element(By.CSS_SELECTOR, "#cell-diagram .js-plotly-plot")
        x, y, width, height = browser.execute_script(NODE_JS, 2.0, 1.5)  # the "+" of the layer input
        ActionChains(browser).move_to_element_with_offset(
            graph, x - width / 2, y - height / 2
        ).click().perform()
        try:
            wait(browser, lambda d: d.execute_script(EQUATION_JS), timeout=20)
            break
        except TimeoutException:
            continue
    wait(browser, lambda d: d.execute_script(EQUATION_JS), timeout=20)
    shown = browser.execute_script(EQUATION_JS)
    assert shown["text"] == "Wgxxt+Wgaat−1+bg", shown  # the bias b_g in full, no "b·."
    assert shown["inside"] and shown["block"][0] <= shown["block"][1] + 1, shown  # not clipped
    assert shown["body"][0] <= shown["body"][1] + 1, shown
