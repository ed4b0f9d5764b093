"""The hidden units card in real Chromium: heatmap, span by clicks, on-units, matches, hover linking."""

from __future__ import annotations

import pytest

from tests.support.browser import console_errors, css, skip_tour, start_app, wait
from tests.support.servers import stop_server

pytestmark = pytest.mark.browser

FIGURE_JS = """var gd = document.querySelector('#unit-heatmap .js-plotly-plot');
if (!gd || !gd.data || !gd.data.length || gd.data[0].type !== 'heatmap') { return null; }
return {rows: gd.data[0].y, steps: gd.data[0].x.length, shapes: (gd.layout.shapes || []).map(function (s) {
    return s ? [s.x0, s.x1] : null; }), outline: gd.data[1].x.filter(function (v) { return v !== null; }).length};"""

# Screen position of the centre of the heatmap cell (middle row, step), for a real mouse.
CELL_JS = """var gd = document.querySelector('#unit-heatmap .js-plotly-plot');
gd.scrollIntoView({block: 'center', behavior: 'instant'});
var fl = gd._fullLayout, r = gd.getBoundingClientRect();
return [r.left + fl._size.l + fl.xaxis.l2p(arguments[0]), r.top + fl._size.t + fl.yaxis.l2p(Math.floor(gd.data[0].y.length / 2))];"""


@pytest.fixture(scope="module")
def units_app(tmp_path_factory):
    """The real app over the synthetic analyses, with hidden and cell states (IMDB: LSTM, Reuters: GRU)."""
    proc, url = start_app({}, tmp_path_factory.mktemp("units"), pipeline="tests.support.synthetic_units")
    yield url
    stop_server(proc)


def _trigger_position() -> tuple[int, int]:
    """A sequence of the synthetic IMDB with the trigger word and two words after it."""
    from tests.support.synthetic import synthetic_analysis
    from tests.support.synthetic_units import TRIGGER

    analysis = synthetic_analysis("imdb", 60)
    return next((k, w.index(TRIGGER)) for k, w in enumerate(analysis.words) if TRIGGER in w[1:-3])


def _figure(driver):
    return driver.execute_script(FIGURE_JS)


def _span(driver) -> list[int]:
    return [int(i.get_attribute("value")) for i in css(driver, "#unit-span input")]


def _click_cell(driver, step: int) -> None:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    x, y = driver.execute_script(CELL_JS, step)
    action = ActionBuilder(driver)
    action.pointer_action.move_to_location(int(x), int(y))
    action.perform()
    # hovering a new column redraws its frame (assets/analytics.js): click once that is done
    wait(
        driver,
        lambda d: (d.execute_script(FIGURE_JS)["shapes"] + [None, None])[1] == [step - 0.5, step + 0.5],
    )
    action = ActionBuilder(driver)
    action.pointer_action.click()
    action.perform()


def _click_until(driver, step: int, span: list[int]) -> None:
    """Click a column until the span slider shows ``span`` (a click during a redraw may miss the plot)."""
    from selenium.common.exceptions import TimeoutException

    for _attempt in range(3):
        _click_cell(driver, step)
        try:
            wait(driver, lambda d: _span(d) == span, timeout=10)
            return
        except TimeoutException:
            continue
    assert _span(driver) == span


def _hover_cell(driver, step: int) -> None:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    x, y = driver.execute_script(CELL_JS, step)
    for dy in (0, 1):
        action = ActionBuilder(driver)
        action.pointer_action.move_to_location(int(x), int(y) + dy)
        action.perform()


def _radio(driver, kind: str):
    return [i for i in css(driver, "#unit-state input") if i.get_attribute("value") == kind][0]


def _open(driver, url: str) -> None:
    skip_tour(driver, url)
    driver.get(url)
    wait(driver, lambda d: _figure(d) is not None)
    wait(driver, lambda d: "Span " in css(d, "#unit-summary")[0].text)
    card = css(driver, "#unit-heatmap")[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", card)


def test_span_by_clicks_finds_the_units_and_a_match_selects_its_sequence_and_span(units_app, browser):
    from tests.support.synthetic_units import TRIGGER_UNITS, UNITS

    k, t = _trigger_position()
    _open(browser, f"{units_app}/analytics?dataset=imdb&seq={k}")
    fig = _figure(browser)
    assert len(fig["rows"]) == UNITS and fig["steps"] == len(css(browser, "#sequence-text .rnnx-word"))
    # click the trigger word's column, then the word two steps on: the span covers the three
    _click_until(browser, t, [t, t])
    _click_until(browser, t + 2, [t, t + 2])
    wait(browser, lambda d: (_figure(d)["shapes"][0] or [None])[0] == t - 0.5)
    summary = css(browser, "#unit-summary")[0].text
    assert f"(steps {t}–{t + 2})" in summary
    for unit in TRIGGER_UNITS:
        assert str(unit) in summary
    assert _figure(browser)["outline"] > 0
    # the dataset search lists other spans that start at the trigger word
    matches = wait(browser, lambda d: css(d, "#unit-matches .rnnx-unit-match"))
    marks = [m.text for m in css(browser, "#unit-matches .rnnx-unit-mark")]
    assert marks and all(m.split()[0] == "not" for m in marks)
    target = matches[0].get_attribute("id")
    browser.execute_script("arguments[0].click();", matches[0])
    import json

    picked = json.loads(target)
    wait(browser, lambda d: f"seq={picked['seq']}" in d.current_url)
    wait(browser, lambda d: _span(d) == [picked["start"], picked["end"]])
    wait(browser, lambda d: f"(steps {picked['start']}–{picked['end']})" in css(d, "#unit-summary")[0].text)
    assert console_errors(browser) == []


def test_a_new_selection_opens_on_a_span_and_threshold_that_find_matches(units_app, browser):
    from tests.support.synthetic import synthetic_analysis
    from tests.support.synthetic_units import TRIGGER

    # a sequence of noise only: no unit stays above the dataset's threshold for three words anywhere
    words = synthetic_analysis("imdb", 60).words
    k = next(k for k, w in enumerate(words) if TRIGGER not in w)
    _open(browser, f"{units_app}/analytics?dataset=imdb&seq={k}")
    wait(browser, lambda d: css(d, "#unit-matches .rnnx-unit-match"))
    assert "no unit" not in css(browser, "#unit-summary")[0].text
    assert console_errors(browser) == []


def test_hover_links_the_heatmap_with_the_text_and_the_bars(units_app, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    k, t = _trigger_position()
    _open(browser, f"{units_app}/analytics?dataset=imdb&seq={k}")
    _hover_cell(browser, t)
    wait(browser, lambda d: css(d, f"#sequence-text .rnnx-word.is-hover[data-step='{t}']"))
    # hovering a word of the text frames its column on the heatmap
    word = css(browser, "#sequence-text .rnnx-word")[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", word)
    ActionChains(browser).move_to_element(word).perform()
    wait(browser, lambda d: len(_figure(d)["shapes"]) > 1 and _figure(d)["shapes"][1] == [0.5, 1.5])
    assert console_errors(browser) == []


def test_cell_state_and_threshold_and_a_gru_without_cell_state(units_app, browser):
    from selenium.webdriver.common.keys import Keys

    k, t = _trigger_position()
    _open(browser, f"{units_app}/analytics?dataset=imdb&seq={k}")
    assert "hidden state" in browser.execute_script(
        "return document.querySelector('#unit-heatmap .js-plotly-plot').data[0].hovertemplate"
    )
    browser.execute_script("arguments[0].click();", _radio(browser, "cell"))
    wait(
        browser,
        lambda d: (
            "cell state"
            in d.execute_script(
                "return document.querySelector('#unit-heatmap .js-plotly-plot').data[0].hovertemplate"
            )
        ),
    )
    # a threshold above every value: no unit is on, and nothing is searched
    box = css(browser, "#unit-threshold input")[0]
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(float(box.get_attribute("max") or 9)), Keys.TAB)
    wait(browser, lambda d: "no unit" in css(d, "#unit-summary")[0].text)
    wait(browser, lambda d: "nothing to search for" in css(d, "#unit-matches")[0].text)
    # Reuters is a GRU here: switching to it leaves no cell state to show or choose
    browser.execute_script("window.scrollTo({top: 0, behavior: 'instant'});")
    css(browser, "#analytics-dataset")[0].click()  # dash 4 dropdown: a button, then options
    wait(browser, lambda d: [o for o in css(d, "[role=option]") if "Reuters" in o.text])[0].click()
    wait(browser, lambda d: not _radio(d, "cell").is_enabled())
    assert _radio(browser, "hidden").is_selected() and not _radio(browser, "cell").is_selected()
    assert console_errors(browser) == []
