"""Slice metrics in real Chromium: the scores follow the table's filters."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import console_errors, css, skip_tour, start_app, wait
from tests.support.servers import stop_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def synthetic_app(tmp_path_factory):
    """The real app serving the synthetic analyses of tests/support/synthetic.py."""
    proc, url = start_app({}, tmp_path_factory.mktemp("sl"), pipeline="tests.support.synthetic")
    yield url
    stop_server(proc)


def _summary(driver) -> str:
    found = css(driver, "#slice-summary")
    return found[0].text if found else ""


def test_slice_metrics_score_the_whole_set_then_only_the_filtered_rows(synthetic_app, browser):
    from selenium.webdriver.common.keys import Keys

    skip_tour(browser, synthetic_app)
    browser.get(f"{synthetic_app}/analytics?dataset=imdb")
    wait(browser, lambda d: re.match(r"(\d+) of \1 sequences · accuracy", _summary(d)))
    n = int(_summary(browser).split()[0])
    rows = css(browser, "#slice-metrics tbody tr")
    assert [r.find_element("css selector", "td").text for r in rows] == [
        "negative",
        "positive",
        "macro average",
    ]
    supports = [int(r.find_elements("css selector", "td")[-1].text) for r in rows]
    assert supports[0] + supports[1] == supports[2] == n
    assert css(browser, "#slice-reliability .bars .point")
    whole = float(re.search(r"accuracy ([\d.]+)%", _summary(browser)).group(1))
    assert 0 < whole < 100

    box = css(browser, "#sequence-table .ag-floating-filter[col-id='correct'] input")[0]
    box.send_keys("no", Keys.ENTER)  # the table's own column filter: only the misclassified rows
    wait(browser, lambda d: "accuracy 0.0%" in _summary(d))
    wrong = int(re.match(rf"(\d+) of {n}", _summary(browser)).group(1))
    assert wrong == round(n * (1 - whole / 100))
    macro = css(browser, "#slice-metrics tbody tr")[-1].find_elements("css selector", "td")
    assert macro[2].text == "0%"  # recall of a slice with no correct answer
    assert console_errors(browser) == []
