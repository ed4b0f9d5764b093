"""Issue 19, item 9, the pure parts: each bad input gets a message (never a 500, a leak or a stall).

Class names with markup stay text in every figure; no message names a server folder; logins cost
the same work whoever they name; a CSV of 100,000 columns, a model config or vocabulary nested
20,000 levels deep and JSON nested past the parser's depth are refused with a message.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import zipfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from werkzeug.security import generate_password_hash

from components import analytics_compare as compare
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import analytics_view as view
from components import figure_text
from components.cards.analytics_layout import float_param, unusable_params
from model import byo, byo_csv, cache, nesting, prepare_cli
from services import byo as byo_service
from services import schemas
from services.validation import InvalidInput
from serving import auth, protocol
from tests.support.synthetic import synthetic_analysis, synthetic_projection

LINK = '<a href="https://evil.example">pos</a>'
SHOWN = '&lt;a href="https://evil.example"&gt;pos&lt;/a&gt;'


def _strings(value: object):
    """Every string inside a figure (dicts, lists, tuples, numpy arrays of text)."""
    if isinstance(value, go.Figure):
        value = value.to_plotly_json()
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple) or (isinstance(value, np.ndarray) and value.dtype.kind in "UO"):
        for item in value:
            yield from _strings(item)


def _assert_literal(figure: object) -> None:
    texts = list(_strings(figure))
    assert not [t for t in texts if "<a " in t or "</a>" in t], "a class name became markup"
    assert any(SHOWN in t for t in texts), "the class name is not shown at all"


# ---------------------------------------------------------------- class names in figures


@pytest.mark.parametrize("n_classes", [2, 5])
def test_class_names_with_markup_stay_text_in_every_figure(n_classes: int) -> None:
    analysis = synthetic_analysis("imdb" if n_classes == 2 else "reuters", 12)
    names = [LINK, *[f"class {i}" for i in range(1, n_classes)]][::-1]  # the link is the last class
    analysis = dataclasses.replace(analysis, class_names=names)
    counts = overview.confusion_counts(analysis.labels, analysis.predicted, n_classes)
    _assert_literal(overview.confusion_figure(counts, names))
    _assert_literal(overview.class_bars_figure(counts, names))
    k = 3
    rows = analysis.rows(k)
    ep, words = np.asarray(analysis.ep[rows]), list(analysis.words[k])
    _assert_literal(sequence.heatmap_figure(ep, words, names))
    _assert_literal(sequence.saliency_figure(words, ep[:, -1], ep[:, 0], n_classes - 1, names))
    xy = synthetic_projection(analysis)
    for mode in ("ep", "actual"):
        marker = projection.base_colors(
            analysis.ep, analysis.labels[analysis.sequence_of_state()], names, mode
        )
        selection = view.selection_view(analysis, xy, k, ["jump"], 0.4, 0.3)
        whatif = [projection.whatif_trace(xy[rows], ep, words, names), projection.empty_whatif()[1]]
        hover = view.cloud_hover(analysis, False, marker, mode)
        _assert_literal(
            projection.projection_figure(xy, marker, 0.6, "r", selection.overlay, "", whatif, hover)
        )
    panel = compare.Panel(f"epoch 1 · {LINK}", xy[rows], ep, words)
    _assert_literal(compare.checkpoint_figure(xy[:50], [panel]))
    _assert_literal(overview.empty_figure(f"No class {LINK}"))


def test_a_confusion_click_on_an_escaped_name_still_filters_the_table() -> None:
    from components.cards import analytics_table_card as card

    names = ["neg", LINK]
    click = {"points": [{"x": figure_text.literal(LINK), "y": "neg"}]}
    assert card._cell(click, names) == {"actual": 0, "predicted": 1}
    assert card._cell({"points": [{"x": LINK, "y": "neg"}]}, names) == {}


def test_figure_text_escapes_only_what_plotly_reads_as_markup() -> None:
    assert figure_text.literal("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert figure_text.literal('say "hi"') == 'say "hi"' and figure_text.literals([1, "x"]) == ["1", "x"]


# ---------------------------------------------------------------- thresholds from a link or a post


def test_a_link_number_that_is_not_finite_falls_back_to_its_default_and_says_so() -> None:
    assert float_param("nan", 0.4) == 0.4 and float_param("inf", 0.3) == 0.3 and float_param("x", 0.4) == 0.4
    assert float_param("0.25", 0.4) == 0.25 and float_param("7", 0.4) == 1.0 and float_param(None, 0.4) == 0.4
    note = unusable_params({"jump": "nan", "epchange": "0.2"}, {"jump": 0.4, "epchange": 0.3})
    assert note == "The link's jump=nan is not a finite number, so the default 0.40 is used."
    assert unusable_params({"jump": "0.5"}, {"jump": 0.4, "epchange": 0.3}) is None


def test_a_missing_threshold_draws_the_selection_with_the_default() -> None:
    analysis = synthetic_analysis("imdb", 8)
    xy = synthetic_projection(analysis)
    drawn = view.selection_view(analysis, xy, 2, ["jump", "ep"], None, None)
    default = view.selection_view(analysis, xy, 2, ["jump", "ep"], 0.4, 0.3)
    assert drawn.labelled.tolist() == default.labelled.tolist()
    assert drawn.distance == default.distance


def test_a_pinned_text_must_be_an_object_with_a_text() -> None:
    assert schemas.PINNED.clean(None) is None
    assert schemas.PINNED.clean({"text": "a fine film"}) == {"text": "a fine film"}
    for bad in ([1, 2], "text", {"text": ["x"]}, {"text": "x", "more": 1}, {"text": "x" * 5_001}):
        with pytest.raises(InvalidInput):
            schemas.PINNED.clean(bad)


# ---------------------------------------------------------------- deep JSON


def test_json_nested_past_the_limit_is_refused_as_bad_input() -> None:
    assert nesting.depth(1, 5) == 0 and nesting.depth({"a": [{"b": []}]}, 5) == 4
    assert nesting.loads('{"a": [[1]]}', 3) == {"a": [[1]]}
    for raw in ("[" * 100_000 + "]" * 100_000, "[" * 11 + "]" * 11):
        with pytest.raises(nesting.TooDeep, match="nested more than 10 levels"):
            nesting.loads(raw, 10)
    with pytest.raises(ValueError):
        nesting.loads("not json", 10)


def _keras_with_config(path: Path, config_json: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config_json)
        archive.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        archive.writestr("model.weights.h5", b"\0" * 64)
    return path


def test_a_model_config_nested_20000_levels_gets_a_message(tmp_path: Path) -> None:
    deep = '{"class_name": "Functional", "config": ' + "[" * 20_000 + "]" * 20_000 + "}"
    path = _keras_with_config(tmp_path / "deep.keras", deep)
    with pytest.raises(byo.InputError, match="config.json is nested more than"):
        byo_service.recurrent_layer_names(path)
    layers = [{"class_name": "LSTM", "config": {"name": "lstm"}}]
    shallow = json.dumps({"class_name": "Sequential", "config": {"layers": layers}})
    fine = _keras_with_config(tmp_path / "ok.keras", shallow)
    assert byo_service.recurrent_layer_names(fine) == ["lstm"]


def test_a_vocabulary_nested_20000_levels_gets_a_message(tmp_path: Path) -> None:
    for text in ('{"a": ' + "[" * 20_000 + "]" * 20_000 + "}", "[" * 20_000 + "]" * 20_000):
        path = tmp_path / "vocab.json"
        path.write_text(text)
        with pytest.raises(byo.InputError, match="nests lists or objects"):
            byo_service.vocabulary_size(path)
    path.write_text('{"the": 2, "film": 3}')
    assert byo_service.vocabulary_size(path) == 2


def test_a_callback_body_must_match_its_callback() -> None:
    callbacks = {"a.children": {"callback": print, "inputs": [{}], "state": [{}, {}]}}
    item = {"id": "x", "property": "value", "value": 1}
    good = {"output": "a.children", "outputs": {"id": "a", "property": "children"}, "inputs": [item]}
    assert protocol.problem({**good, "state": [item, item]}, callbacks) is None
    for bad in (
        {**good, "state": [item]},  # fewer states than declared
        {**good, "state": [item, item, item]},
        {**good, "state": [item, 5]},
        {**good, "state": [item, item], "outputs": None},
        {**good, "state": [item, item], "outputs": [{"id": "a", "property": "children"}] * 2},
        {**good, "state": [item, item], "changedPropIds": [None]},
    ):
        assert protocol.problem(bad, callbacks), bad
    assert protocol.parse(b"[" * 100_000 + b"]" * 100_000) == (
        None,
        "The request is nested more than 100 levels deep.",
    )


# ---------------------------------------------------------------- CSV columns


def test_a_csv_of_100000_columns_is_refused_before_it_is_parsed() -> None:
    header = ",".join(f"c{i}" for i in range(100_000))
    data = (header + "\n" + ",".join("1" for _ in range(100_000)) + "\n").encode()
    for read in (byo_service.csv_columns, byo_service.read_csv):
        with pytest.raises(byo.InputError, match="100,000 columns, more than the limit of 1,000"):
            read(data)
    edge = ",".join(f"c{i}" for i in range(byo_csv.MAX_COLUMNS)).encode() + b"\n" + b"1," * 999 + b"1\n"
    assert len(byo_service.csv_columns(edge)) == byo_csv.MAX_COLUMNS


def test_a_quoted_header_is_counted_as_the_parser_reads_it() -> None:
    header = ",".join(f'"name, {i}"' for i in range(600))  # 600 columns, 1,199 commas
    assert len(byo_service.csv_columns((header + "\n" + "x," * 599 + "x\n").encode())) == 600


# ---------------------------------------------------------------- no server path in messages


def test_cache_write_messages_name_no_server_folder() -> None:
    store = type("Store", (), {"directory": "/srv/secret/cache"})()
    for code in (errno.ENOSPC, errno.EROFS, errno.EIO):
        error = OSError(code, "boom", "/srv/secret/cache/ab/cd/x.val")
        message = cache.write_message(store, error)
        assert "/srv" not in message and "secret" not in message and message
    assert "is full" in cache.write_message(store, OSError(errno.ENOSPC, "No space left on device"))
    assert "/srv" not in cache.write_message(store, RuntimeError("failed in /srv/secret/cache/x"))


def test_a_missing_file_is_named_without_its_folder(tmp_path: Path) -> None:
    with pytest.raises(byo.InputError) as error:
        byo_csv.check_file(tmp_path / "gone.csv", "CSV file")
    assert "gone.csv" in str(error.value) and str(tmp_path) not in str(error.value)


def test_the_cli_tells_the_web_server_no_folder(capsys: pytest.CaptureFixture) -> None:
    message = "Dataset archive x.tar.gz not found in /srv/data (see https://example.org/a/b.tar.gz)"
    prepare_cli.fail(message, progress_lines=True, code=2)
    lines = capsys.readouterr().err.splitlines()
    parent = next(line for line in lines if line.startswith("RNNX-ERROR "))
    assert (
        "/srv" not in parent and "not found in data" in parent and "https://example.org/a/b.tar.gz" in parent
    )


# ---------------------------------------------------------------- login cost


def test_every_login_costs_one_check_of_each_hash_method(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear-text users (RNNX_AUTH_USERS) beside hashed ones (RNNX_AUTH_FILE): the same work for all."""
    checked: list[str] = []
    real = auth.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", counting)
    users = {
        "alice": "clear",
        "bob": generate_password_hash("pw", method="pbkdf2:sha256:1000"),
        "carol": generate_password_hash("pw2", method="pbkdf2:sha256:2000"),
    }
    attempts = [
        ("alice", "clear", True),
        ("alice", "wrong", False),
        ("bob", "pw", True),
        ("bob", "nope", False),
        ("carol", "pw2", True),
        ("mallory", "pw", False),
    ]
    for name, password, expected in attempts:
        checked.clear()
        assert auth.check(users, name, password) is expected
        assert sorted(checked) == ["pbkdf2:sha256:1000", "pbkdf2:sha256:2000"], name
    checked.clear()
    assert auth.check({"alice": "clear"}, "mallory", "x") is False and checked == []  # no hashes at all
