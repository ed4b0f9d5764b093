"""Bring your own model in real Chromium: a GRU with TextVectorization and a CSV through the page; bad inputs; demo mode."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.support import onnx_models as om
from tests.support.browser import console_errors, css, skip_tour, start_app, trajectory, wait
from tests.support.byo_models import (
    FILLER,
    NEGATIVE,
    POSITIVE,
    dense_model,
    gru_vectorizer_model,
    lambda_model,
    sentiment_texts,
    two_lstm_model,
    write_csv,
    write_vocabulary,
)

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("byo-files")
    texts, labels = sentiment_texts(300)
    bad = folder / "latin1.csv"
    bad.write_bytes("review,sentiment\ncafé au lait,pos\n".encode("latin-1"))
    empty = folder / "empty.csv"
    empty.write_bytes(b"")
    big = folder / "big.csv"
    big.write_bytes(b"review,sentiment\n" + b"a rather long and boring text,neg\n" * 40_000)
    return {
        "model": gru_vectorizer_model(folder / "gru.keras", texts, labels, epochs=6),
        "csv": write_csv(folder / "reviews.csv", texts, labels),
        "three": write_csv(folder / "three.csv", texts[:60], ["a", "b", "c"] * 20),
        "lambda": lambda_model(folder / "lambda.keras"),
        "dense": dense_model(folder / "dense.keras"),
        "latin1": bad,
        "empty": empty,
        "big": big,
    }


@pytest.fixture(scope="module")
def byo_app(tmp_path_factory):
    proc, url = start_app({"RNNX_UPLOAD_LIMIT_MB": "1"}, tmp_path_factory.mktemp("byo-app"))
    yield url
    from tests.support.servers import stop_server

    stop_server(proc)


def _open_panel(driver, url: str) -> None:
    skip_tour(driver, url)
    driver.get(f"{url}/analytics")
    # the page's callbacks have run: it shows the analysis or says why it cannot yet
    wait(driver, lambda d: css(d, "#analytics-alert .alert") or css(d, "#analytics-model-summary"))
    driver.execute_script("arguments[0].click();", css(driver, "#analytics-byo-toggle")[0])
    wait(driver, lambda d: css(d, "#analytics-byo-collapse.show"))


def _drop(driver, zone: str, path: Path) -> None:
    """Choose ``path`` in the zone's file chooser (the page's script posts it to the upload route)."""
    box = css(driver, f"#analytics-upload-{zone} input[type=file]")[0]
    box.send_keys(str(path))


def _drag(driver, zone: str, path: Path) -> None:
    """Drag a text file onto the zone and drop it (the events a user's drag and drop fires)."""
    driver.execute_script(
        """var zone = document.querySelector(arguments[0]);
        var carried = new DataTransfer();
        carried.items.add(new File([arguments[1]], arguments[2], {type: "text/csv"}));
        ["dragenter", "dragover", "drop"].forEach(function (type) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: carried}));
        });""",
        f"#analytics-upload-{zone}",
        path.read_text(encoding="utf-8"),
        path.name,
    )


def _posted(driver) -> list[str]:
    """The upload-route URLs this page has requested (the browser's resource timing)."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });"
    )
    return [name for name in names if "/upload/" in name]


def _text(driver, selector: str) -> str:
    """The text of every element matching ``selector`` ("" while there is none yet)."""
    return " ".join(e.text for e in css(driver, selector))


def _alert_text(driver) -> str:
    found = css(driver, "#analytics-byo-alert")
    return found[0].text if found else ""


def _analyse(driver) -> None:
    wait(driver, lambda d: css(d, "#analytics-byo-run") and css(d, "#analytics-byo-run")[0].is_enabled())
    driver.execute_script("arguments[0].click();", css(driver, "#analytics-byo-run")[0])


def test_a_user_gru_with_text_vectorization_goes_through_the_page(byo_app, files, browser):
    _open_panel(browser, byo_app)
    _drop(browser, "model", files["model"])
    wait(browser, lambda d: "gru.keras" in _text(d, "#analytics-upload-model-name"))
    _drop(browser, "csv", files["csv"])
    wait(browser, lambda d: "300 rows" in _text(d, "#analytics-upload-csv-name"))
    wait(browser, lambda d: "review" in _text(d, "#analytics-text-column"))
    # the files went to the upload route as files, not into a callback as base64
    assert sorted(u.rsplit("/", 1)[1] for u in _posted(browser)) == ["csv", "model"]
    _analyse(browser)
    wait(browser, lambda d: "Ready." in _alert_text(d), timeout=240)
    wait(browser, lambda d: "Yours:" in _text(d, "#analytics-dataset"))
    wait(browser, lambda d: "GRU" in _text(d, "#analytics-model-summary"))
    # the uploaded rows may be the model's training data: their accuracy is never called a test accuracy
    bar = _text(browser, "#analytics-model-summary").lower()
    assert "accuracy on the uploaded rows (300)" in bar and "test accuracy" not in bar
    assert "not a held-out test" in _alert_text(browser)
    second_row = "#sequence-table .ag-row[row-index='1'] .ag-cell[col-id='text']"
    wait(browser, lambda d: [c for c in css(d, second_row) if c.text.strip()])
    assert css(browser, "#projection-graph canvas")
    assert len(css(browser, "#confusion-matrix .annotation-text")) == 4
    # select a row: its trajectory is drawn
    from selenium.webdriver.common.action_chains import ActionChains

    cell = css(browser, second_row)[0]  # a real click, once scrolled (not smoothly: it would miss)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", cell)
    seq = browser.execute_script("return arguments[0].closest('.ag-row').getAttribute('row-id');", cell)
    ActionChains(browser).move_to_element(cell).click().perform()
    # the page opened on a representative sequence: wait for the clicked one's views
    wait(browser, lambda d: f"#{seq}" in _text(d, "#analytics-sequence-summary"))
    wait(browser, lambda d: css(d, "#sequence-text .rnnx-word"))
    n_words = len(css(browser, "#sequence-text .rnnx-word"))
    wait(browser, lambda d: trajectory(d) and len(trajectory(d)["x"]) == n_words)
    # what-if through the uploaded Keras model
    box = css(browser, "#analytics-whatif-text")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.send_keys("the plot was awful and boring")
    wait(browser, lambda d: len(css(d, "#analytics-whatif-words .rnnx-word")) == 6, timeout=30)
    typed = browser.execute_script(
        """var gd = document.querySelector('#projection-graph .js-plotly-plot');
        var t = gd.data.find(function (t) { return t.uid === 'whatif-typed'; }); return t ? t.x.length : -1;"""
    )
    assert typed == 6
    assert console_errors(browser) == []
    # reloading the page's URL (same browser session) brings the upload back
    wait(browser, lambda d: "dataset=upload-" in d.current_url)
    browser.get(browser.current_url)
    wait(browser, lambda d: any("GRU" in e.text for e in css(d, "#analytics-model-summary")), timeout=60)
    wait(browser, lambda d: any("Yours:" in e.text for e in css(d, "#analytics-dataset")))
    # the same link in another browser session: it says whose the upload is, at the top of the page,
    # instead of quietly showing another dataset's sequence of that number
    link = browser.current_url + ("" if "seq=" in browser.current_url else "&seq=1")
    browser.delete_all_cookies()
    browser.get(link)
    notice = wait(browser, lambda d: css(d, "#analytics-link-notice"), timeout=60)[0]
    assert "another browser session or has expired" in notice.text
    assert notice.location["y"] < css(browser, "#projection-graph")[0].location["y"]  # above the cards
    assert not css(browser, "#sequence-text .rnnx-word")


def test_each_bad_input_gets_its_message_and_the_app_keeps_serving(byo_app, files, browser):
    _open_panel(browser, byo_app)
    for name, needle in (("latin1", "not UTF-8"), ("empty", "empty"), ("big", "more than the limit")):
        _drop(browser, "csv", files[name])
        wait(browser, lambda d, needle=needle: needle in _alert_text(d), timeout=90)
    _drop(browser, "csv", files["csv"])
    wait(browser, lambda d: "300 rows" in _text(d, "#analytics-upload-csv-name"))
    for name, needle in (("lambda", "Lambda layer"), ("dense", "no recurrent layer")):
        _drop(browser, "model", files[name])
        wait(browser, lambda d, name=name: f"{name}.keras" in _text(d, "#analytics-upload-model-name"))
        _analyse(browser)
        wait(browser, lambda d, needle=needle: needle in _alert_text(d), timeout=300)
    _drop(browser, "model", files["model"])
    wait(browser, lambda d: "gru.keras" in _text(d, "#analytics-upload-model-name"))
    _drag(browser, "csv", files["three"])
    wait(browser, lambda d: "60 rows" in _text(d, "#analytics-upload-csv-name"))
    _analyse(browser)
    wait(browser, lambda d: "2 outputs" in _alert_text(d), timeout=300)
    assert "3 classes" in _alert_text(browser)
    assert "Traceback" not in browser.page_source
    assert "pytest-of" not in browser.page_source and "incoming" not in browser.page_source, "a server path"
    with urllib.request.urlopen(f"{byo_app}/healthz", timeout=10) as response:
        assert response.status == 200
    browser.get(f"{byo_app}/analytics")  # another request is served normally
    wait(browser, lambda d: css(d, "#analytics-byo-toggle"))


def test_demo_mode_disables_the_upload_panel(tmp_path_factory, browser):
    from tests.support.servers import stop_server

    proc, url = start_app({"RNNX_DEMO_MODE": "1"}, tmp_path_factory.mktemp("byo-demo"))
    try:
        _open_panel(browser, url)
        assert "switched off" in _text(browser, "#analytics-byo-refused")
        assert css(browser, "#analytics-upload-model input[type=file]")[0].get_attribute("disabled")
        assert not css(browser, "#analytics-byo-run")[0].is_enabled()
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def layered(tmp_path_factory) -> dict[str, dict]:
    """Two-layer models: an ONNX LSTM (op names) and a Keras LSTM whose layers differ in width."""
    folder = tmp_path_factory.mktemp("byo-layers")
    words = FILLER + POSITIVE + NEGATIVE
    onnx = om.build(vocab=len(words) + 2, embed=6, hidden=8, classes=2, layers=2, seed=2)
    keras_vocab, size = write_vocabulary(folder / "keras-vocab.txt", sentiment_texts(300)[0])
    return {
        "onnx": {
            "model": onnx.save(folder / "stacked.onnx"),
            "vocab": om.write_vocabulary(folder / "onnx-vocab.txt", words),
            "layers": ["/rnn/LSTM", "/rnn/LSTM_1"],
            "summary": ["/rnn/LSTM (1 of 2)", "8 units"],
        },
        "keras": {
            "model": two_lstm_model(folder / "stacked.keras", size),
            "vocab": keras_vocab,
            "layers": ["lstm_wide", "lstm_narrow"],
            "summary": ["lstm_wide (1 of 2)", "6 units"],  # the last layer has 4
        },
    }


def test_the_page_offers_each_recurrent_layer_and_prepares_the_one_chosen(byo_app, files, layered, browser):
    for kind in ("onnx", "keras"):
        case = layered[kind]
        _open_panel(browser, byo_app)
        _drop(browser, "csv", files["csv"])
        wait(browser, lambda d: "300 rows" in _text(d, "#analytics-upload-csv-name"))
        _drop(browser, "vocab", case["vocab"])
        wait(browser, lambda d, case=case: case["vocab"].name in _text(d, "#analytics-upload-vocab-name"))
        _drop(browser, "model", case["model"])
        wait(browser, lambda d, case=case: case["model"].name in _text(d, "#analytics-upload-model-name"))
        wait(browser, lambda d: css(d, "#analytics-layer-wrap")[0].is_displayed())
        css(browser, "#analytics-layer")[0].click()  # dash 4 dropdown: a button, then options
        options = wait(browser, lambda d: css(d, "[role=option]"))
        assert [o.text for o in options] == case["layers"], kind
        options[0].click()
        _analyse(browser)
        wait(browser, lambda d: "Ready." in _alert_text(d), timeout=300)
        summary = wait(
            browser,
            lambda d, case=case: (
                case["summary"][0] in _text(d, "#analytics-model-summary")
                and _text(d, "#analytics-model-summary")
            ),
            timeout=60,
        )
        assert case["summary"][1] in summary, (kind, summary)
    assert console_errors(browser) == []
