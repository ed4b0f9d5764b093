"""Attributions and counterfactuals on /analytics in real Chromium, over the real IMDB classifier.

The analysis is prepared first from the shipped pretrained classifier (no training: reading the
archive, extracting and projecting take a minute or less); with RNNX_TEST_CACHE_DIR pointing at a
cache that holds it already, that is a cache hit.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.browser import console_errors, css, skip_tour, start_app, wait
from tests.support.servers import ROOT, SHARED_DATA, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def imdb_app(test_cache_dir):
    """The app over the prepared IMDB analysis (pretrained classifier, PCA)."""
    if not (SHARED_DATA / "aclImdb_v1.tar.gz").exists():
        pytest.skip("IMDB archive not available")
    env = {
        **os.environ,
        "RNNX_CACHE_DIR": str(test_cache_dir),
        "RNNX_DATA_DIR": os.environ.get("RNNX_DATA_DIR", str(SHARED_DATA)),
    }
    env.pop("RNNX_PROFILE", None)
    command = [sys.executable, "-m", "model.prepare", "--dataset", "imdb", "--projection", "pca", "--json"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=900, capture_output=True)
    proc, url = start_app({"RNNX_DATA_DIR": env["RNNX_DATA_DIR"]}, test_cache_dir)
    yield url
    stop_server(proc)


def _choose(driver, radio_id: str, label: str) -> None:
    """Click the option of a dbc.RadioItems by its label, as a user would."""
    option = next(e for e in css(driver, f"#{radio_id} label") if e.text.strip() == label)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", option)
    driver.execute_script("arguments[0].click();", option)


def _scores(driver) -> list[float]:
    """The per-word scores the text is coloured by (read in one go: the spans are re-rendered)."""
    return driver.execute_script(
        """return Array.from(document.querySelectorAll('#sequence-text .rnnx-salient'))
        .map(function (e) { return parseFloat(e.dataset.score); });"""
    )


def _text(driver, selector: str) -> str:
    """The text of the first element matching ``selector`` ("" while there is none)."""
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector
    )


def _whatif_points(driver) -> int:
    return driver.execute_script(
        """var gd = document.querySelector('#projection-graph .js-plotly-plot');
        var t = gd && gd.data && gd.data.find(function (t) { return t.uid === 'whatif-typed'; });
        return t && t.x ? t.x.length : -1;"""
    )


def test_attributions_colour_the_words_beside_the_ep_change(imdb_app, browser):
    skip_tour(browser, imdb_app)
    browser.get(f"{imdb_app}/analytics?dataset=imdb&method=pca&seq=1")
    wait(browser, lambda d: css(d, "#sequence-text .rnnx-word"), timeout=120)
    n_words = len(css(browser, "#sequence-text .rnnx-word"))
    assert not css(browser, "#sequence-text .rnnx-salient")  # EP colours by default

    _choose(browser, "saliency-mode", "Attribution (IG)")
    wait(browser, lambda d: "completeness gap" in _text(d, "#saliency-legend"), timeout=180)
    wait(browser, lambda d: len(css(d, "#sequence-text .rnnx-salient")) == n_words)
    attributed = _scores(browser)
    assert any(abs(s) > 0 for s in attributed)
    traces = browser.execute_script(
        "var gd = document.querySelector('#saliency-graph .js-plotly-plot');"
        "return gd && gd.data ? gd.data.map(function (t) { return t.name; }) : [];"
    )
    assert traces == ["EP change", "attribution (IG)"]  # the two scores side by side, word by word
    word = css(browser, "#sequence-text .rnnx-salient")[0]
    assert "attribution (IG)" in word.get_attribute("title") and "EP change" in word.get_attribute("title")

    _choose(browser, "saliency-mode", "EP change")
    wait(browser, lambda d: _scores(d) and _scores(d) != attributed)
    assert len(_scores(browser)) == n_words
    _choose(browser, "saliency-mode", "EP")
    wait(browser, lambda d: not css(d, "#sequence-text .rnnx-salient"))
    assert css(browser, "#saliency-graph-wrap")[0].value_of_css_property("display") == "none"
    assert console_errors(browser) == []


def test_a_counterfactual_flips_the_prediction_in_the_what_if_box(imdb_app, browser):
    skip_tour(browser, imdb_app)
    browser.get(f"{imdb_app}/analytics?dataset=imdb&method=pca&seq=1")
    wait(browser, lambda d: css(d, "#sequence-text .rnnx-word"), timeout=120)
    original = [e.text for e in css(browser, "#sequence-text .rnnx-word")]
    button = css(browser, "#counterfactual-button")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    browser.execute_script("arguments[0].click();", button)
    wait(browser, lambda d: _text(d, "#counterfactual-summary"), timeout=180)
    summary = _text(browser, "#counterfactual-summary")
    assert "flip" in summary
    box = css(browser, "#analytics-whatif-text")[0]
    edited = box.get_attribute("value").split()
    assert edited and edited != original
    assert abs(len(edited) - len(original)) <= 6  # a few deletions at most
    assert css(browser, "#counterfactual-diff del")  # the edit shown on the text
    # the what-if box reads the edited text: its prediction is the flipped class, its path drawn
    wait(browser, lambda d: len(css(d, "#analytics-whatif-words .rnnx-word")) == len(edited), timeout=60)
    new_class = summary.split(" to ")[1].split(" (")[0]
    wait(browser, lambda d: f"predicted: {new_class}" in _text(d, "#analytics-whatif-summary"))
    wait(browser, lambda d: _whatif_points(d) == len(edited))
    assert console_errors(browser) == []


def test_a_sequence_out_of_range_gets_a_message(imdb_app, browser):
    skip_tour(browser, imdb_app)
    browser.get(f"{imdb_app}/analytics?dataset=imdb&method=pca&seq=999999")
    wait(browser, lambda d: css(d, "#sequence-table .ag-row .ag-cell[col-id='text']"), timeout=120)
    _choose(browser, "saliency-mode", "Attribution (IG)")
    wait(browser, lambda d: "no sequence #999999" in _text(d, "#saliency-note"))
    button = css(browser, "#counterfactual-button")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    browser.execute_script("arguments[0].click();", button)
    wait(browser, lambda d: "no sequence #999999" in _text(d, "#counterfactual-result"))
    assert "Traceback" not in browser.page_source
    assert console_errors(browser) == []
