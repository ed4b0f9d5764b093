"""The nearest-neighbours card in real Chromium: select a state, read its neighbours, follow one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.support.browser import console_errors, css, skip_tour, start_app, wait
from tests.support.servers import stop_server

pytestmark = pytest.mark.browser

RINGS_JS = """var gd = document.querySelector('#projection-graph .js-plotly-plot');
if (!gd || !gd.data) { return null; }
var t = gd.data.find(function (t) { return t.uid === 'neighbor-rings'; });
return t ? {x: t.x, y: t.y, custom: t.customdata} : null;"""


@pytest.fixture(scope="module")
def neighbors_app(tmp_path_factory):
    """The real app over the synthetic analyses, with hidden states."""
    proc, url = start_app({}, tmp_path_factory.mktemp("nb"), pipeline="tests.support.synthetic")
    yield url
    stop_server(proc)


def _listed(driver) -> list[tuple[int, int]]:
    """(sequence, step) of the listed neighbours, read in one script (the list may be redrawn meanwhile)."""
    cells = driver.execute_script(
        """return Array.from(document.querySelectorAll('#neighbors-list tr.rnnx-nb-row')).map(
            function (r) { var td = r.querySelectorAll('td'); return [td[2].textContent, td[3].textContent]; });"""
    )
    return [(int(seq), int(step)) for seq, step in cells or []]


def _row(driver, rank: int):
    row = css(driver, "#neighbors-list tr.rnnx-nb-row")[rank]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", row)
    return row


def _mouse_click_row(driver, rank: int) -> None:
    """A real mouse click (press and release over the row), not a script's element.click()."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element(_row(driver, rank)).pause(0.1).click().perform()


def _query(driver) -> str:
    return driver.execute_script(
        "var e = document.getElementById('neighbors-query'); return e ? e.textContent : '';"
    )


def _expected(seq: int, step: int, k: int) -> list[tuple[int, int]]:
    from model.neighbors import brute_force
    from tests.support.synthetic import load_analysis, load_states

    analysis, hidden = load_analysis("imdb"), load_states("imdb")["hidden"]
    row = int(analysis.offsets[seq]) + step
    found = brute_force(hidden, hidden[row], k, slice(row, row + 1))
    seqs = np.searchsorted(analysis.offsets, found.rows, side="right") - 1
    return [(int(s), int(r - analysis.offsets[s])) for s, r in zip(seqs, found.rows, strict=True)]


def test_a_selected_word_lists_its_neighbours_rings_them_and_a_click_follows_one(neighbors_app, browser):
    skip_tour(browser, neighbors_app)
    browser.get(f"{neighbors_app}/analytics?dataset=imdb&seq=3")
    wait(browser, lambda d: css(d, "#sequence-text .rnnx-word"))
    # a sequence selected without a step: the neighbours of its last state
    n_words = len(css(browser, "#sequence-text .rnnx-word"))
    last = _expected(3, n_words - 1, 10)
    wait(browser, lambda d: _listed(d) == last)

    # click a word: its state's neighbours, listed and ringed on the projection
    word = css(browser, "#sequence-text .rnnx-word")[4]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", word)
    word.click()  # a real click: assets/neighbors.js reports the word's step
    want = _expected(3, 4, 10)
    wait(browser, lambda d: _listed(d) == want)
    assert "step 4" in _query(browser)

    def ringed(d) -> list:
        rings = d.execute_script(RINGS_JS) or {}
        return [(c[2], c[3]) for c in rings.get("custom") or []] if len(rings.get("x") or []) == 10 else []

    wait(browser, lambda d: ringed(d) == want)

    # fewer neighbours, other sequences only
    from selenium.webdriver.support.ui import Select

    Select(css(browser, "#neighbors-k")[0]).select_by_visible_text("5")
    browser.execute_script("arguments[0].click();", css(browser, "#neighbors-other")[0])
    wait(browser, lambda d: len(_listed(d)) == 5 and all(s != 3 for s, _t in _listed(d)))

    # click listed neighbours with the mouse, one after the other: each becomes the selection
    for rank in (0, 2, 1):
        seq, step = _listed(browser)[rank]
        _mouse_click_row(browser, rank)
        wait(browser, lambda d, seq=seq: f"seq={seq}" in d.current_url)
        wait(browser, lambda d, seq=seq, step=step: f"sequence {seq}, step {step}" in _query(d))
    assert css(browser, "#neighbors-list")[0].is_displayed()

    # the list redrawn between the press and the release: the pressed row is still the one selected
    seq, step = _listed(browser)[1]
    from selenium.webdriver.common.action_chains import ActionChains

    pressed = _row(browser, 1)
    ActionChains(browser).move_to_element(pressed).click_and_hold().perform()
    browser.execute_script("window.dash_clientside.set_props('neighbors-k', {value: 10});")
    wait(browser, lambda d: len(_listed(d)) == 10)  # a new list under the still pressed button
    ActionChains(browser).release().perform()
    wait(browser, lambda d: f"sequence {seq}, step {step}" in _query(d))
    assert console_errors(browser) == []
    shot = os.environ.get("RNNX_NEIGHBORS_SCREENSHOT")
    if shot:
        browser.execute_script("document.querySelector('#neighbors-list').scrollIntoView({block: 'center'});")
        browser.save_screenshot(str(Path(shot)))


def test_nothing_selected_shows_a_hint_and_no_rings(neighbors_app, browser):
    skip_tour(browser, neighbors_app)
    browser.get(f"{neighbors_app}/analytics?dataset=reuters&seq=none")  # the page opens on none
    wait(browser, lambda d: css(d, "#sequence-table .ag-row .ag-cell[col-id='text']"))
    wait(browser, lambda d: "Click a point" in css(d, "#neighbors-list")[0].text)
    assert (browser.execute_script(RINGS_JS) or {}).get("x") in ([], None)
    assert console_errors(browser) == []
