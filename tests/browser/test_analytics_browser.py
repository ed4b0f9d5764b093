"""The analytics page in real Chromium: synthetic data first, then a small real analysis."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from tests.support.browser import console_errors, css, labelled, skip_tour, start_app, trajectory, wait
from tests.support.servers import stop_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def synthetic_app(tmp_path_factory):
    """The real app serving the synthetic analyses of tests/support/synthetic.py."""
    proc, url = start_app({}, tmp_path_factory.mktemp("an"), pipeline="tests.support.synthetic")
    yield url
    stop_server(proc)


TEXT_CELLS = "#sequence-table .ag-row .ag-cell[col-id='text']"


def _open(driver, url: str) -> None:
    skip_tour(driver, url)
    driver.get(url)
    wait(driver, lambda d: css(d, TEXT_CELLS))


def _mouse_click(driver, element) -> None:
    """A real mouse click (it focuses a grid cell, as a script's click does not) on ``element``, scrolled
    to the middle of the window at once (the page scrolls smoothly: a click mid-scroll lands elsewhere)."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    ActionChains(driver).move_to_element(element).click().perform()


def _click_row(driver, row: int) -> None:
    """Click the ``row``-th row of the grid and wait for its sequence's views (the page opens on another)."""
    selector = f"#sequence-table .ag-row[row-index='{row}']"
    found = wait(driver, lambda d: [r for r in css(d, selector) if r.text.strip()])[0]  # its rows arrived
    seq = found.get_attribute("row-id")
    _mouse_click(driver, found.find_element("css selector", ".ag-cell[col-id='text']"))
    shown = re.compile(rf"Sequence #{seq}\b")
    wait(driver, lambda d: shown.search(css(d, "#analytics-sequence-summary")[0].text))
    wait(driver, lambda d: css(d, "#sequence-text .rnnx-word"))


def _set_threshold(driver, value: float) -> None:
    from selenium.webdriver.common.keys import Keys

    box = css(driver, "#distance-threshold input")[0]
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.TAB)  # the slider commits its number box on blur


def test_page_loads_without_console_errors_and_shows_the_overview(synthetic_app, browser):
    _open(browser, f"{synthetic_app}/analytics")
    wait(browser, lambda d: css(d, "#confusion-matrix .annotation-text"))
    assert css(browser, "#analytics-model-summary")
    assert len(css(browser, "#confusion-matrix .annotation-text")) == 4
    assert css(browser, "#class-bars .bars")
    assert css(browser, "#projection-graph canvas")
    assert console_errors(browser) == []


def test_choosing_a_dataset_shows_its_overview(synthetic_app, browser):
    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    css(browser, "#analytics-dataset")[0].click()  # dash 4 dropdown: a button, then options
    wait(browser, lambda d: [o for o in css(d, "[role=option]") if "Reuters" in o.text])[0].click()
    wait(browser, lambda d: len(css(d, "#confusion-matrix .annotation-text")) == 25)
    assert "acquisition" in css(browser, "#analytics-model-summary")[0].text
    wait(browser, lambda d: "dataset=reuters" in d.current_url)
    assert console_errors(browser) == []


def test_clicking_a_row_draws_every_view_and_hover_links_them(synthetic_app, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    _click_row(browser, 2)
    words = css(browser, "#sequence-text .rnnx-word")
    wait(browser, lambda d: (trajectory(d) or {}).get("x") and len(trajectory(d)["x"]) == len(words))
    assert css(browser, "#ep-heatmap .heatmaplayer")
    assert len(css(browser, "#distance-graph .bars .point")) == len(words)
    assert "seq=2" in browser.current_url
    for _attempt in range(3):  # the text may be drawn once more as the selection settles
        try:
            ActionChains(browser).move_to_element(css(browser, "#sequence-text .rnnx-word")[4]).perform()
            break
        except StaleElementReferenceException:
            time.sleep(0.5)
    wait(browser, lambda d: css(d, ".rnnx-word.is-hover"))
    mark = browser.execute_script(
        """var gd = document.querySelector('#projection-graph .js-plotly-plot');
        return gd.data.find(function (t) { return t.uid === 'hover-mark'; }).x;"""
    )
    assert mark == [trajectory(browser)["x"][4]]
    assert console_errors(browser) == []


def test_arrow_keys_move_through_rows_and_escape_clears_the_selection(synthetic_app, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    _click_row(browser, 2)
    wait(browser, lambda d: "seq=2" in d.current_url and trajectory(d) and len(trajectory(d)["x"]) > 0)
    ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
    wait(browser, lambda d: "seq=3" in d.current_url)
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    wait(browser, lambda d: not (trajectory(d) or {}).get("x"))
    wait(browser, lambda d: "seq=" not in d.current_url)
    assert console_errors(browser) == []


def test_moving_the_threshold_changes_the_labelled_words(synthetic_app, browser):
    _open(browser, f"{synthetic_app}/analytics?dataset=imdb&seq=5&jump=0.9")
    wait(browser, lambda d: trajectory(d) and len(trajectory(d)["x"]) > 0)
    before = labelled(browser)
    _set_threshold(browser, 0.1)
    wait(browser, lambda d: len(labelled(d)) > len(before))
    assert "jump=0.1" in browser.current_url
    labelled_spans = [e.text for e in css(browser, ".rnnx-word-labelled")]
    assert labelled_spans == labelled(browser)


def test_default_labels_are_the_top_jumps_until_the_slider_moves(synthetic_app, browser):
    from components.analytics_labels import TOP_JUMPS

    _open(browser, f"{synthetic_app}/analytics?dataset=imdb&seq=5")
    wait(browser, lambda d: trajectory(d) and len(trajectory(d)["x"]) > 0)
    assert css(browser, "#analytics-jump-auto")[0].is_selected()
    assert len(labelled(browser)) == min(TOP_JUMPS, len(trajectory(browser)["x"]))
    # one number: the slider's box reads where the automatic rule draws its line, and says so
    line, note = browser.execute_script(
        """var gd = document.querySelector('#distance-graph .js-plotly-plot');
        return [gd.layout.shapes[0].y0, gd.layout.annotations.map(function (a) { return a.text; })];"""
    )
    assert line < 0.39  # this sequence's top jumps cut well below the slider's old 0.40
    box = css(browser, "#distance-threshold input")[0]
    wait(browser, lambda d: float(box.get_attribute("value") or -1) == round(line, 2))
    assert note == [f"- - top {TOP_JUMPS}: {line:.2f}"]
    assert css(browser, "#analytics-jump-auto")[0].is_selected()  # showing the cut is no manual move
    assert "jump=" not in browser.current_url  # automatic: nothing to restore
    _set_threshold(browser, 0.05)
    wait(browser, lambda d: not css(d, "#analytics-jump-auto")[0].is_selected())
    wait(browser, lambda d: len(labelled(d)) > TOP_JUMPS)
    assert "jump=0.05" in browser.current_url
    assert console_errors(browser) == []


def test_hovering_the_state_cloud_names_sequence_step_word_and_ep(synthetic_app, browser):
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    wait(browser, lambda d: css(d, "#projection-graph canvas"))
    where = browser.execute_script(
        """var gd = document.querySelector('#projection-graph .js-plotly-plot');
        var i = gd._fullData.findIndex(function (t) { return t.uid === 'states' && t._length > 0; });
        if (i < 0) { i = gd._fullData.findIndex(function (t) { return /^states/.test(t.uid) && t._length > 0; }); }
        var t = gd._fullData[i], fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + fl._size.l + fl.xaxis.l2p(t.x[0]), r.top + fl._size.t + fl.yaxis.l2p(t.y[0])];"""
    )
    for dy in (0, 1):  # a second small move makes plotly hit-test the WebGL points
        action = ActionBuilder(browser)
        action.pointer_action.move_to_location(int(where[0]), int(where[1]) + dy)
        action.perform()
    label = wait(
        browser,
        lambda d: d.execute_script(
            "var h = document.querySelector('#projection-graph .hoverlayer'); return h && h.textContent;"
        ),
        timeout=10,
    )
    assert "sequence #" in label and "step" in label and "EP positive" in label
    assert console_errors(browser) == []


def _label(driver) -> str:
    found = css(driver, "#analytics-filter-label")
    return found[0].text if found else ""


def _ids(driver) -> list[int]:
    """The sequence ids of the grid's rendered rows, top to bottom (rows still loading left out)."""
    return driver.execute_script(
        """var rows = Array.from(document.querySelectorAll('#sequence-table .ag-row[row-index]'));
        rows.sort(function (a, b) { return +a.getAttribute('row-index') - +b.getAttribute('row-index'); });
        return rows.map(function (r) { var c = r.querySelector(".ag-cell[col-id='id']");
            return c && c.textContent.trim() ? +c.textContent : null; }).filter(function (v) { return v !== null && !isNaN(v); });"""
    )


def _press(driver, selector: str) -> None:
    element = css(driver, selector)[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def _emit(driver, graph: str, event: str, data: dict) -> None:
    """Fire a plotly event on a graph as a user's click or drawn selection would."""
    driver.execute_script(
        "var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot'); gd.emit(arguments[1], arguments[2]);",
        graph,
        event,
        data,
    )


def _first(driver, n: int = 8) -> list[int]:
    return _ids(driver)[:n]


def test_the_grid_scrolls_sorts_filters_and_selects_with_a_real_mouse(synthetic_app, browser):
    """The sequence grid (AG Grid, rows from the server a block at a time) driven as a user would."""
    from selenium.webdriver.common.keys import Keys

    from tests.support.synthetic import synthetic_analysis

    a = synthetic_analysis("imdb", 60)
    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    wait(browser, lambda d: _label(d) == "60 of 60 sequences")
    wait(browser, lambda d: _first(d) == list(range(8)))
    # scrolling the grid shows the last rows
    viewport = css(browser, "#sequence-table .ag-body-viewport")[0]
    browser.execute_script("arguments[0].scrollTop = arguments[0].scrollHeight;", viewport)
    wait(browser, lambda d: 59 in _ids(d))
    # a click on a header sorts over all 60 sequences on the server (and back to the top)
    _mouse_click(
        browser, css(browser, "#sequence-table .ag-header-cell[col-id='confidence'] .ag-header-cell-label")[0]
    )
    by_confidence = sorted(range(60), key=lambda k: (a.confidence[k], k))
    browser.execute_script("arguments[0].scrollTop = 0;", viewport)
    wait(browser, lambda d: _first(d) == by_confidence[:8])
    # the grid's own column filter (words ≥ 31), then the search box and a confusion cell narrow it
    box = css(browser, "#sequence-table .ag-floating-filter[col-id='length'] input")[0]
    _mouse_click(browser, box)
    box.send_keys("31", Keys.ENTER)
    long = [k for k in by_confidence if len(a.words[k]) >= 31]
    wait(browser, lambda d: _label(d) == f"{len(long)} of 60 sequences · column filters")
    wait(browser, lambda d: _ids(d) == long)
    css(browser, "#analytics-search")[0].send_keys("great", Keys.ENTER)
    both = [k for k in long if "great" in a.texts[k]]
    wait(browser, lambda d: _label(d) == f"{len(both)} of 60 sequences · “great” · column filters")
    wait(browser, lambda d: _ids(d) == both)
    _emit(browser, "confusion-matrix", "plotly_click", {"points": [{"x": "positive", "y": "positive"}]})
    cell = [k for k in both if a.labels[k] == 1 and a.predicted[k] == 1]
    wait(browser, lambda d: _label(d).startswith(f"{len(cell)} of 60 sequences · actual positive"))
    wait(browser, lambda d: _ids(d) == cell)
    # a real mouse click on a row selects its sequence, and the grid marks the row
    seq = cell[1]
    row = f"#sequence-table .ag-row[row-id='{seq}']"
    _mouse_click(browser, css(browser, f"{row} .ag-cell[col-id='text']")[0])
    wait(browser, lambda d: re.search(rf"Sequence #{seq}\b", css(d, "#analytics-sequence-summary")[0].text))
    wait(browser, lambda d: "rnnx-row-selected" in css(d, row)[0].get_attribute("class"))
    assert len(css(browser, "#sequence-table .rnnx-row-selected")) == 1
    # nothing left: one row says so; clearing the filters empties the grid's filter box and shows them all
    search = css(browser, "#analytics-search")[0]
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys("no such words", Keys.ENTER)
    wait(browser, lambda d: _label(d).startswith("0 of 60 sequences"))
    wait(browser, lambda d: "No sequence matches" in css(d, "#sequence-table .ag-row[row-index='0']")[0].text)
    _press(browser, "#analytics-clear-filter")
    wait(browser, lambda d: _label(d) == "60 of 60 sequences")
    wait(
        browser,
        lambda d: (
            len(_ids(d)) > 8
            and not css(d, "#sequence-table .ag-floating-filter[col-id='length'] input")[0].get_attribute(
                "value"
            )
        ),
    )
    assert console_errors(browser) == []


def test_a_lasso_on_the_projection_filters_the_table_by_its_outline(synthetic_app, browser):
    import numpy as np

    from model.geometry import in_polygon
    from services.analysis import to_view_coordinates
    from tests.support.synthetic import synthetic_analysis, synthetic_projection

    a = synthetic_analysis("imdb", 60)
    xy = to_view_coordinates(synthetic_projection(a, seed=0))
    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    wait(browser, lambda d: _label(d) == "60 of 60 sequences")
    lo, hi = np.percentile(xy, 35, axis=0).tolist(), np.percentile(xy, 60, axis=0).tolist()
    outline = {"x": [lo[0], hi[0], hi[0], lo[0]], "y": [lo[1], lo[1], hi[1], hi[1]]}
    _emit(browser, "projection-graph", "plotly_selected", {"points": [], "lassoPoints": outline})
    inside = in_polygon(xy[:, 0], xy[:, 1], np.array(outline["x"]), np.array(outline["y"]))
    owners = sorted(set(a.sequence_of_state()[inside].tolist()))
    wait(browser, lambda d: _label(d) == f"{len(owners)} of 60 sequences · lasso selection")
    wait(browser, lambda d: _ids(d) == owners[: len(_ids(d))] and _ids(d))
    box = {"x": [lo[0], hi[0]], "y": [lo[1], hi[1]]}
    _emit(browser, "projection-graph", "plotly_selected", {"points": [], "range": box})
    wait(browser, lambda d: _label(d) == f"{len(owners)} of 60 sequences · box selection")
    _emit(browser, "projection-graph", "plotly_deselect", None)
    wait(browser, lambda d: _label(d) == "60 of 60 sequences")
    assert console_errors(browser) == []


def test_tsne_not_prepared_shows_pca_meanwhile(synthetic_app, browser):
    _open(browser, f"{synthetic_app}/analytics?dataset=imdb&method=tsne")
    wait(browser, lambda d: css(d, "#projection-graph .gtitle"))
    assert "PCA projection stands in" in css(browser, "#projection-graph .gtitle")[0].text
    assert css(browser, "#projection-graph canvas")


def test_a_url_with_a_sequence_restores_the_selection(synthetic_app, browser):
    _open(browser, f"{synthetic_app}/analytics?dataset=reuters&method=umap&seq=7")
    wait(browser, lambda d: css(d, "#sequence-text .rnnx-word"))
    assert "Sequence #7" in css(browser, "#analytics-sequence-summary")[0].text
    checked = css(browser, "#analytics-projection-method input:checked")[0].get_attribute("value")
    assert checked == "umap"
    assert console_errors(browser) == []


def test_a_failing_preparation_shows_a_readable_message(synthetic_app, browser):
    skip_tour(browser, synthetic_app)
    browser.get(f"{synthetic_app}/analytics?dataset=imdb&method=tsne")
    wait(browser, lambda d: css(d, "#analytics-prepare") and css(d, "#analytics-prepare")[0].is_displayed())
    css(browser, "#analytics-prepare")[0].click()
    wait(browser, lambda d: "archive is missing" in d.find_element("id", "analytics-alert").text, timeout=60)
    assert "Traceback" not in browser.page_source


# ---------------------------------------------------------------- real data (small, quick profile)


@pytest.fixture(scope="module")
def real_app(tmp_path_factory):
    """The app over a real, tiny Reuters analysis (quick profile: 1 epoch, 100 documents)."""
    from tests.support.servers import SHARED_DATA

    if not (SHARED_DATA / "reuters21578.tar.gz").exists():
        pytest.skip("Reuters archive not available")
    cache_dir = tmp_path_factory.mktemp("an-real")
    env = {
        "RNNX_PROFILE": "quick",
        "RNNX_CACHE_DIR": str(cache_dir),
        "RNNX_DATA_DIR": str(SHARED_DATA),
        "RNNX_AUTO_PREPARE": "1",
    }
    proc, url = start_app(env, cache_dir)  # an empty cache: the first visit prepares Reuters
    yield url
    stop_server(proc)


def test_a_first_visit_prepares_the_default_dataset_without_a_click(real_app, browser):
    skip_tour(browser, real_app)
    browser.get(f"{real_app}/analytics?dataset=reuters&method=pca")
    wait(browser, lambda d: "Preparing Reuters" in d.find_element("id", "analytics-alert").text)
    assert css(browser, "#analytics-waiting a[href$='/trainer']")  # something to do meanwhile
    # the bar shows while it runs (a fast preparation may already be done when this looks)
    wait(
        browser,
        lambda d: (
            d.find_element("id", "analytics-progress-wrap").is_displayed()
            or len(css(d, "#confusion-matrix .annotation-text")) == 25
        ),
        timeout=120,
    )
    wait(browser, lambda d: len(css(d, "#confusion-matrix .annotation-text")) == 25, timeout=300)
    # the hidden units and the neighbours follow the preparation too, without a reload
    wait(browser, lambda d: "Select a sequence" in css(d, "#unit-summary")[0].text)
    wait(browser, lambda d: "Click a point" in css(d, "#neighbors-list")[0].text)
    assert "not prepared" not in css(browser, "#unit-matches")[0].text
    assert "Traceback" not in browser.page_source


def test_real_reuters_analysis_is_explorable(real_app, browser):
    skip_tour(browser, real_app)
    browser.get(f"{real_app}/analytics?dataset=reuters&method=pca")
    wait(browser, lambda d: css(d, TEXT_CELLS), timeout=300)
    wait(browser, lambda d: len(css(d, "#confusion-matrix .annotation-text")) == 25)
    _click_row(browser, 0)
    n_words = len(css(browser, "#sequence-text .rnnx-word"))
    wait(browser, lambda d: trajectory(d) and len(trajectory(d)["x"]) == n_words)
    assert len(css(browser, "#ep-heatmap .heatmaplayer .hm")) == 6  # 5 classes + summary
    assert css(browser, "#analytics-profile-badge")[0].text == "quick profile"
    _counterfactual_of_typed_text_then_undo(browser)
    assert console_errors(browser) == []


def _counterfactual_of_typed_text_then_undo(driver) -> None:
    """With a sequence selected and a text typed, the counterfactual edits the typed text; Undo restores it."""
    typed = "The company said Net profit ROSE in the first quarter, and shares were higher."
    box = css(driver, "#analytics-whatif-text")[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.send_keys(typed)
    wait(driver, lambda d: css(d, "#analytics-whatif-words .rnnx-word"), timeout=60)
    read = [e.text for e in css(driver, "#analytics-whatif-words .rnnx-word")]  # the words the model reads
    driver.execute_script("arguments[0].click();", css(driver, "#counterfactual-button")[0])
    wait(
        driver,
        lambda d: "edited the text in the box" in css(d, "#counterfactual-result")[0].text,
        timeout=120,
    )
    edited = box.get_attribute("value").split()
    assert edited != typed.split() and 0 < len(edited) <= len(read)
    assert len(set(edited) & set(read)) >= len(edited) - 3  # a few edits of the typed words, not sequence 0
    undo = css(driver, "#counterfactual-undo")[0]
    wait(driver, lambda d: undo.is_displayed())
    driver.execute_script("arguments[0].click();", undo)
    wait(driver, lambda d: box.get_attribute("value") == typed)  # exactly what was typed, case and commas
    wait(driver, lambda d: not undo.is_displayed())


def _subplot_titles(driver, graph_id: str) -> list[str]:
    return driver.execute_script(
        """var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        return gd && gd.layout && gd.layout.annotations ? gd.layout.annotations.map(function (a) { return a.text; }) : [];""",
        graph_id,
    )


def test_compare_card_draws_checkpoints_once_seen_and_compares_lstm_with_gru(real_app, browser):
    browser.get("about:blank")  # a new navigation, not a reload that restores the last scroll position
    _open(browser, f"{real_app}/analytics?dataset=reuters&method=pca&seq=0")  # selected, nothing scrolled
    wait(browser, lambda d: css(d, "#sequence-text .rnnx-word"), timeout=120)  # a busy CI machine
    assert browser.execute_script("return window.scrollY") == 0
    # below the fold the checkpoint paths are neither computed nor drawn
    assert css(browser, "#analytics-checkpoints-note")[0].text == ""
    assert _subplot_titles(browser, "analytics-checkpoints-graph") == ["Select a sequence or type a text"]
    tabs = css(browser, "#analytics-compare-tabs")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", tabs)
    wait(browser, lambda d: "sequence #0" in css(d, "#analytics-checkpoints-note")[0].text)
    wait(browser, lambda d: any("epoch 1" in t for t in _subplot_titles(d, "analytics-checkpoints-graph")))
    # the other cell type is trained on the same data, then both projections sit side by side
    tab = next(a for a in css(browser, "#analytics-compare-tabs .nav-link") if a.text == "Cell types")
    browser.execute_script("arguments[0].click();", tab)
    button = css(browser, "#analytics-compare-cells")[0]
    browser.execute_script("arguments[0].click();", button)
    wait(browser, lambda d: "GRU: test accuracy" in css(d, "#analytics-cells-stats")[0].text, timeout=300)
    assert "LSTM: test accuracy" in css(browser, "#analytics-cells-stats")[0].text
    titles = _subplot_titles(browser, "analytics-cells-graph")
    assert [t.split("</b>")[0].removeprefix("<b>") for t in titles] == ["LSTM", "GRU"]
    assert console_errors(browser) == []


def _download(driver, folder: Path, item_id: str, suffix: str, timeout: float = 60) -> Path:
    """Click an Export menu item and wait for its finished file in ``folder``."""
    before = set(folder.iterdir())
    driver.execute_script("arguments[0].click();", css(driver, f"#{item_id}")[0])

    def finished(_d):
        new = [p for p in set(folder.iterdir()) - before if p.name.endswith(suffix)]
        return new[0] if new and new[0].stat().st_size > 0 else False

    return wait(driver, finished, timeout=timeout)


def test_export_downloads_agree_with_each_other_and_the_model(real_app, browser, tmp_path):
    import io
    import zipfile

    import numpy as np
    import pandas as pd

    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    _open(browser, f"{real_app}/analytics?dataset=reuters&method=pca")
    sequences = pd.read_csv(_download(browser, tmp_path, "analytics-export-sequences", "-sequences.csv"))
    states = pd.read_csv(_download(browser, tmp_path, "analytics-export-states", "-pca-states.csv.gz"))
    assert len(sequences) == 100 and len(states) == sequences["length"].sum()
    # the expected prediction after the last word is the model's prediction of the sequence
    ep_columns = [c for c in states.columns if c.startswith("ep_")]
    last = states.groupby("sequence").tail(1).set_index("sequence")
    read = sequences[sequences["length"] > 0]  # a text with no known word leaves no state
    assert last.index.tolist() == read["sequence"].tolist()
    predicted = last[ep_columns].to_numpy().argmax(axis=1)
    names = [c.removeprefix("ep_") for c in ep_columns]
    assert [names[i] for i in predicted] == read["predicted"].tolist()
    assert np.allclose(last[ep_columns].to_numpy().max(axis=1), read["confidence"], atol=1e-4)
    hidden = states[[c for c in states.columns if c.startswith("h_")]].to_numpy()
    assert hidden.shape[1] == 20 and {"x", "y"} <= set(states.columns)
    # TensorBoard projector: the same vectors, one metadata row per state
    with zipfile.ZipFile(
        _download(browser, tmp_path, "analytics-export-tensorboard", "-projector.zip")
    ) as zf:
        vectors = np.loadtxt(io.StringIO(zf.read("vectors.tsv").decode()), delimiter="\t")
        metadata = pd.read_csv(io.StringIO(zf.read("metadata.tsv").decode()), sep="\t")
    assert np.allclose(vectors, hidden, atol=1e-5)
    assert metadata["word"].tolist() == states["word"].tolist()
    png = _download(browser, tmp_path, "analytics-export-png", ".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert console_errors(browser) == []


def test_the_page_opens_on_a_sequence_one_click_draws_every_view_in_two_requests(synthetic_app, browser):
    """Issue 20: item 2 (a click's server work in two requests), rough edges j (a representative
    sequence selected at first, named in the URL) and k (a table search shows its states)."""
    from bench.click_flow import POINTS_JS, SETTLED_JS, WRAP_JS, click

    _open(browser, f"{synthetic_app}/analytics?dataset=imdb")
    wait(browser, lambda d: "seq=" in d.current_url and css(d, "#sequence-text .rnnx-word"))
    first = browser.current_url.split("seq=")[1].split("&")[0]
    wait(
        browser, lambda d: css(d, "#neighbors-list tr.rnnx-nb-row") and css(d, "#unit-heatmap .heatmaplayer")
    )
    time.sleep(1)  # the page settles: no request of its opening is counted below
    browser.execute_script(WRAP_JS)
    points = browser.execute_script(POINTS_JS)
    assert points
    settled = None
    for point in points[:: max(1, len(points) // 5)]:
        click(browser, point)
        settled = wait(browser, lambda d: d.execute_script(SETTLED_JS), timeout=60)
        if f"seq={first}&" not in browser.current_url + "&":
            break
    assert f"seq={first}&" not in browser.current_url + "&", "no click selected another sequence"
    assert settled["requests"] == 2, settled["outputs"]
    assert settled["outputs"][0] == "analytics-selection.data"
    assert (
        "unit-hub-drawn.data" in settled["outputs"][1] and "neighbors-list.children" in settled["outputs"][1]
    )
    seq = browser.current_url.split("seq=")[1].split("&")[0]
    wait(browser, lambda d: f"#{seq}" in css(d, "#analytics-sequence-summary")[0].text)

    # a search in the table draws the states of the sequences it leaves on the projection
    box = css(browser, "#analytics-search")[0]
    box.send_keys("boring\n")
    count = "var gd = document.querySelector('#projection-graph .js-plotly-plot');" + (
        "var t = gd.data.find(function (t) { return t.uid === 'filter-states'; }); return t ? t.x.length : 0;"
    )
    assert wait(browser, lambda d: d.execute_script(count), timeout=60) > 0
    assert console_errors(browser) == []


TOUR_NOW_JS = "return window.rnnxTour ? window.rnnxTour.current() : null;"
TOUR_SPOT_JS = "const s = document.getElementById('tour-spot'); return !!(s && s.style.display === 'block');"


def test_the_tour_selects_a_sequence_before_it_shows_the_sequence_card(synthetic_app, browser):
    """Opened with no sequence, the tour's sequence steps select one first; its texts name real controls."""
    from components import tour

    skip_tour(browser, synthetic_app)  # started below, by hand
    browser.get(f"{synthetic_app}/analytics?dataset=imdb&seq=none")
    wait(
        browser,
        lambda d: css(d, "#analytics-color-mode label") and d.execute_script("return !!window.rnnxTour"),
    )
    assert not css(browser, "#sequence-text .rnnx-word")
    browser.execute_script("window.rnnxTour.start('analytics')")
    for index, step in enumerate(tour.ANALYTICS_TOUR[1:], start=1):
        browser.execute_script("window.rnnxTour.next()")
        wait(browser, lambda d, i=index: (d.execute_script(TOUR_NOW_JS) or {}).get("index") == i)
        assert css(browser, "#tour-title")[0].text == step["title"]
        if step["target"] == "analytics-color-mode":  # the colourings it names are those offered
            body = css(browser, "#tour-body")[0].text
            offered = css(browser, "#analytics-color-mode label") + css(
                browser, "#analytics-trajectory-color label"
            )
            assert all(f"“{label.text}”" in body for label in offered), body
        if step.get("prepare"):  # the subject is there before the step points at it
            wait(browser, lambda d: d.execute_script(TOUR_NOW_JS)["ready"] and d.execute_script(TOUR_SPOT_JS))
    assert css(browser, "#sequence-text .rnnx-word") and css(browser, "#distance-graph .bars .point")
    wait(browser, lambda d: "seq=0" in d.current_url)  # selected as a click would: the link names it
    browser.execute_script("window.rnnxTour.finish()")
    assert console_errors(browser) == []
