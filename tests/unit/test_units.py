"""The hidden-units view: numeric core against a brute-force reference, the service's checks, the card."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from model import units as core

# ---------------------------------------------------------------- brute-force reference (plain loops)


def brute_runs(states, offsets, units, threshold):
    """Every maximal run of steps (inside one sequence) where all ``units`` are above ``threshold``."""
    runs = []
    for k in range(len(offsets) - 1):
        lo, hi = int(offsets[k]), int(offsets[k + 1])
        t = lo
        while t < hi:
            if all(states[t, u] > threshold for u in units):
                s = t
                while t + 1 < hi and all(states[t + 1, u] > threshold for u in units):
                    t += 1
                runs.append((k, s - lo, t - lo))
            t += 1
    return runs


def brute_matches(states, offsets, units, threshold, span_length, exclude=None):
    """(score, seq, start, end, extra) of every run, best first, as the module documents it."""
    found = []
    for k, s, e in brute_runs(states, offsets, units, threshold):
        if exclude and k == exclude[0] and s <= exclude[2] and e >= exclude[1]:
            continue
        rows = range(int(offsets[k]) + s, int(offsets[k]) + e + 1)
        always = [u for u in range(states.shape[1]) if all(states[r, u] > threshold for r in rows)]
        length = e - s + 1
        score = len(units) / len(always) * min(length, span_length) / max(length, span_length)
        found.append((score, k, s, e, len(always) - len(units)))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    return found


def random_data(seed, n_seq=30, units=7, empty=True):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0 if empty else 1, 15, size=n_seq)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    states = rng.uniform(-1, 1, size=(int(offsets[-1]), units)).astype(np.float32)
    states[rng.random(states.shape) < 0.35] = 0.9  # enough long runs of on-units
    return states, offsets


@pytest.mark.parametrize("seed", range(12))
def test_find_matches_agrees_with_brute_force(seed):
    states, offsets = random_data(seed)
    rng = np.random.default_rng(100 + seed)
    units = np.sort(rng.choice(states.shape[1], size=int(rng.integers(1, 4)), replace=False))
    threshold = float(rng.choice([0.0, 0.5, 0.85]))
    span_length = int(rng.integers(1, 5))
    k = int(np.argmax(np.diff(offsets)))
    exclude = (k, 1, 3) if seed % 2 else None
    got = core.find_matches(states, offsets, units, threshold, span_length, exclude=exclude, limit=10_000)
    want = brute_matches(states, offsets, list(units), threshold, span_length, exclude)
    assert got.total == len(want)
    assert [(int(a), int(b), int(c)) for a, b, c in zip(got.seq, got.start, got.end, strict=True)] == [
        (k_, s, e) for _score, k_, s, e, _extra in want
    ]
    assert np.allclose(got.score, [w[0] for w in want])
    assert got.extra.tolist() == [w[4] for w in want]


def test_limit_keeps_the_best_and_counts_all():
    states, offsets = random_data(5, n_seq=60)
    full = core.find_matches(states, offsets, np.array([0]), 0.5, 2, limit=10_000)
    top = core.find_matches(states, offsets, np.array([0]), 0.5, 2, limit=5)
    assert top.total == full.total > 5 and len(top) == 5
    assert top.seq.tolist() == full.seq[:5].tolist() and np.allclose(top.score, full.score[:5])
    assert 0 < top.score.min() <= top.score.max() <= 1


def test_runs_never_cross_a_sequence_boundary():
    # two sequences, all on: two runs, not one
    states = np.ones((6, 2), dtype=np.float32)
    offsets = np.array([0, 3, 3, 6])  # the middle sequence is empty
    found = core.find_matches(states, offsets, np.array([0, 1]), 0.5, 3)
    assert sorted(zip(found.seq.tolist(), found.start.tolist(), found.end.tolist(), strict=True)) == [
        (0, 0, 2),
        (2, 0, 2),
    ]
    assert np.allclose(found.score, 1.0)


def test_nothing_to_search_gives_no_match():
    states, offsets = random_data(1)
    assert len(core.find_matches(states, offsets, np.array([], dtype=int), 0.5, 2)) == 0
    assert core.find_matches(states, offsets, np.array([0]), 5.0, 2).total == 0


@pytest.mark.parametrize("seed", range(6))
def test_on_units_agrees_with_brute_force(seed):
    states, offsets = random_data(seed, empty=False)
    matrix = core.sequence_matrix(states, offsets, 3)
    assert matrix.shape == (int(offsets[4] - offsets[3]), states.shape[1])
    for start, end in itertools.combinations_with_replacement(range(len(matrix)), 2):
        want = [u for u in range(matrix.shape[1]) if all(matrix[t, u] > 0.5 for t in range(start, end + 1))]
        assert core.on_units(matrix, start, end, 0.5).tolist() == want
    with pytest.raises(ValueError):
        core.on_units(matrix, 0, len(matrix), 0.5)


def test_unit_order():
    matrix = np.array([[0.1, 0.9, -0.5, 0.3], [0.2, 0.8, -0.4, 0.9]], dtype=np.float32)
    assert core.unit_order(matrix, "index").tolist() == [0, 1, 2, 3]
    assert core.unit_order(matrix, "activation").tolist() == [1, 3, 0, 2]
    # selected first, then by the mean over the span (step 0 only)
    assert core.unit_order(matrix, "selected", (0, 0), np.array([0, 2])).tolist() == [0, 2, 1, 3]
    with pytest.raises(ValueError):
        core.unit_order(matrix, "nonsense")


def test_value_scale_is_round_and_positive():
    assert core.value_scale(np.array([[0.44, -0.52]])) == 0.6
    assert core.value_scale(np.zeros((3, 3))) == 0.1
    assert core.value_scale(np.zeros((0, 3))) == 1.0


# ---------------------------------------------------------------- the service (synthetic stand-in)


@pytest.fixture()
def units_service(monkeypatch):
    from tests.support.serve import use_pipeline

    use_pipeline(monkeypatch, "tests.support.synthetic_units")
    from services import analysis
    from services import units as service

    analysis.clear_caches()
    service.clear_caches()
    yield service
    analysis.clear_caches()
    service.clear_caches()


def test_service_loads_states_and_checks_queries(units_service):
    from services.validation import InvalidInput

    analysis, states = units_service.data("imdb")
    assert states.kinds == ("hidden", "cell") and states.n_units == 12
    assert units_service.data("reuters")[1].kinds == ("hidden",)
    assert units_service.data("nope") is None
    assert units_service.data("upload-0123456789abcdef") is None  # not this session's upload
    n = len(analysis.words[2])
    query = units_service.check_query(analysis, states, 2, "hidden", (0, n - 1), 0.3)
    assert (query.start, query.end, query.length) == (0, n - 1, n)
    for seq, kind, span, threshold in [
        (10**6, "hidden", (0, 0), 0.3),
        (2, "hidden", (0, n), 0.3),
        (2, "hidden", (0, 0), 10**6),
    ]:
        with pytest.raises(InvalidInput):
            units_service.check_query(analysis, states, seq, kind, span, threshold)
    _a, gru = units_service.data("reuters")
    with pytest.raises(InvalidInput, match="no separate cell state"):
        units_service.check_query(analysis, gru, 2, "cell", (0, 0), 0.3)


def test_the_trigger_units_are_found_after_every_not(units_service):
    from tests.support.synthetic_units import TRIGGER, TRIGGER_UNITS

    analysis, states = units_service.data("imdb")
    k, t = next((k, w.index(TRIGGER)) for k, w in enumerate(analysis.words) if TRIGGER in w[:-3])
    query = units_service.check_query(analysis, states, k, "hidden", (t, t + 2), 0.7)
    on = units_service.on_units(analysis, states, query)
    assert on.tolist() == list(TRIGGER_UNITS)
    found = units_service.search("imdb", query, on)
    assert found.total > 3
    assert all(analysis.words[s][st] == TRIGGER for s, st in zip(found.seq, found.start, strict=True))
    assert (k, t) not in set(
        zip(found.seq.tolist(), found.start.tolist(), strict=True)
    )  # the query itself is left out


def test_span_helpers(units_service):
    from services.validation import InvalidInput

    analysis, _states = units_service.data("imdb")
    n = len(analysis.words[4])
    lo, hi = units_service.default_span(analysis, 4, None)
    assert 0 <= lo <= hi < n and hi - lo <= 2
    assert units_service.default_span(analysis, 4, 3) == (3, 3)
    assert units_service.extend_span((3, 3), 6, n) == (3, 6)
    assert units_service.extend_span((3, 6), 1, n) == (1, 1)
    with pytest.raises(InvalidInput):
        units_service.extend_span((3, 3), n, n)


def test_first_view_keeps_the_threshold_where_a_unit_is_on_else_lowers_it():
    values = np.array(
        [[0.10, 0.05, -0.2], [0.12, 0.06, -0.1], [0.20, 0.30, 0.0], [0.50, 0.40, 0.1]], np.float32
    )
    np.testing.assert_array_equal(core.window_minima(values, 2), np.minimum(values[:-1], values[1:]))
    # on at 0.15 only from step 2: the nearest such span to the preferred one, the threshold kept
    assert core.first_view(values, 0, 2, 0.15) == (2, 3, 0.15)
    # on nowhere at 0.6: lowered just under the span's units, within one hundredth
    start, end, threshold = core.first_view(values, 0, 2, 0.6)
    assert (start, end, threshold) == (2, 3, 0.19)
    assert core.on_units(values, start, end, threshold).tolist() == [0, 1]
    assert core.lowered_threshold(np.array([-0.1, -0.2]), 0.5) == 0.0  # nothing positive: nothing to lower to
    assert core.lowered_threshold(np.array([0.9, 0.8, 0.7, 0.6]), 0.5) == 0.5  # never above the ceiling


def test_every_first_view_has_units_on_and_other_places_to_find(units_service):
    """A new selection's span and threshold find something, for sequences of noise too (issue 20)."""
    analysis, states = units_service.data("imdb")
    for k in range(12):
        for step in (None, len(analysis.words[k]) // 2):
            (lo, hi), threshold = units_service.default_view(analysis, states, "hidden", k, step)
            assert threshold <= states.defaults["hidden"]
            query = units_service.check_query(analysis, states, k, "hidden", (lo, hi), threshold)
            on = units_service.on_units(analysis, states, query)
            assert len(on) > 0, (k, step)
            assert units_service.search("imdb", query, on).total > 0, (k, step)
            if step is not None:
                assert (lo, hi) == (step, step)  # the selected step is the span
    # another state kind: its own threshold for the same span
    (lo, hi), _threshold = units_service.default_view(analysis, states, "hidden", 4, None)
    assert 0 < units_service.threshold_for(analysis, states, "cell", 4, (lo, hi)) <= states.defaults["cell"]


@pytest.mark.parametrize(
    "bad",
    [[1], [0, 1, 2], ["a", 2], [True, 2], [-1, 2], [0, 10**7], {"x": 1}, "0-2", [float("nan"), 1]],
)
def test_malformed_spans_are_refused(bad):
    from services import units as service
    from services.validation import InvalidInput

    with pytest.raises(InvalidInput):
        service.SPAN.clean(bad)


def test_match_ids_and_pending_spans_are_checked():
    from services import units as service
    from services.validation import InvalidInput

    assert service._match_id({"type": "unit-match", "seq": 3, "start": 5, "end": 2}) == {
        "seq": 3,
        "start": 2,
        "end": 5,
    }
    for bad in ({"type": "x", "seq": 3}, {"type": "unit-match", "seq": -1, "start": 0, "end": 0}, [1, 2]):
        with pytest.raises(InvalidInput):
            service._match_id(bad)
    with pytest.raises(InvalidInput):
        service._pending({"dataset": "imdb", "seq": 1, "span": [0, 1], "extra": 1})


# ---------------------------------------------------------------- the card's callbacks (no browser)


@pytest.fixture()
def units_card(monkeypatch, units_service):
    import app  # noqa: F401  (registers the pages and callbacks)
    from components.cards import analytics_units_card

    alerts = []
    monkeypatch.setattr(
        "components.cards.analytics_common.set_props", lambda _id, props: alerts.append(props)
    )
    analytics_units_card.alerts = alerts
    return analytics_units_card


def _figure_json(figure) -> dict:
    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(figure))


def test_show_units_draws_the_heatmap_and_patches_highlights(units_card):
    from dash import Patch

    selection = {"dataset": "imdb", "seq": 2, "step": None}
    out = units_card.show_units(selection, [0, 2], 0.3, "hidden", "index", "imdb", None)
    fig = _figure_json(out["figure"])
    heat = fig["data"][0]
    assert heat["type"] == "heatmap" and len(heat["z"]) == 12 and heat["x"][0] == 0
    assert fig["layout"]["shapes"][0]["x0"] == -0.5 and fig["layout"]["shapes"][0]["x1"] == 2.5
    drawn = out["drawn"]
    assert drawn["key"] == ["imdb", 2, "hidden", "index"] and drawn["order"] == list(range(12))
    again = units_card.show_units(selection, [1, 3], 0.2, "hidden", "index", "imdb", drawn)
    assert isinstance(again["figure"], Patch)
    cell = units_card.show_units(selection, [1, 3], 0.2, "cell", "index", "imdb", drawn)
    assert "cell state" in _figure_json(cell["figure"])["data"][0]["hovertemplate"]


def test_show_units_answers_wrong_values_with_a_message(units_card):
    selection = {"dataset": "imdb", "seq": 2, "step": None}
    out = units_card.show_units(selection, [0, 999], 0.3, "hidden", "index", "imdb", None)
    assert "outside sequence #2" in out["summary"]
    none = units_card.show_units(None, [0, 0], 0.3, "hidden", "index", "imdb", None)
    assert none["summary"] == units_card.HINT
    from dash import no_update

    for bad in (
        {"selection": {"dataset": "imdb", "seq": "x"}},
        {"span": "0:2"},
        {"threshold": float("inf")},
        {"kind": "gates"},
        {"sort": "random"},
        {"dataset": "../etc"},
    ):
        args = {
            "selection": selection,
            "span": [0, 2],
            "threshold": 0.3,
            "kind": "hidden",
            "sort": "index",
            "dataset": "imdb",
            "drawn": None,
            **bad,
        }
        assert units_card.show_units(**args) is no_update
    assert len(units_card.alerts) == 6


def test_matches_list_and_picking_a_match(units_card, monkeypatch):
    from dash import html

    from tests.support.synthetic_units import TRIGGER

    analysis, _states = units_card.service.data("imdb")
    k, t = next((k, w.index(TRIGGER)) for k, w in enumerate(analysis.words) if TRIGGER in w[:-3])
    selection = {"dataset": "imdb", "seq": k, "step": None}
    listing = units_card.find_unit_matches(selection, [t, t + 2], 0.7, "hidden", "imdb")
    buttons = [c for c in _walk(listing) if isinstance(c, html.Button)]
    assert buttons and all(b.id["type"] == "unit-match" for b in buttons)
    first = buttons[0].id
    picked = units_card._pick(picked=first, dataset="imdb")
    assert picked["selection"] == {"dataset": "imdb", "seq": first["seq"], "step": first["start"]}
    assert picked["pending"]["span"] == [first["start"], first["end"]]
    # the span follows the picked match once its sequence is selected
    monkeypatch.setattr(units_card, "ctx", type("C", (), {"triggered_id": "analytics-selection"})())
    span = units_card.set_unit_span(picked["selection"], None, [0, 0], picked["pending"], "imdb")
    assert span["value"] == [first["start"], first["end"]]
    # a match that is not in the data is refused with a message
    from dash import no_update

    bad = {"type": "unit-match", "seq": 10**6, "start": 0, "end": 0}
    assert units_card._pick(picked=bad, dataset="imdb") is no_update


def test_scale_disables_the_cell_state_of_a_gru(units_card):
    out = units_card.set_unit_scale("reuters", "cell")
    assert [o["disabled"] for o in out["options"]] == [False, True]
    assert out["kind"] == "hidden"  # a GRU has no cell state to stay on
    assert out["max"] == units_card.service.data("reuters")[1].scales["hidden"]


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, list):
        for child in children:
            yield from _walk(child)
    elif children is not None and not isinstance(children, str):
        yield from _walk(children)


def test_typical_threshold_is_within_the_scale():
    values = np.random.default_rng(0).normal(0, 0.2, size=(500, 10)).astype(np.float32)
    first = core.typical_threshold(values)
    assert 0.01 <= first <= core.value_scale(values)
    assert first == pytest.approx(np.percentile(np.abs(values), 85), abs=0.01)


def test_outlines_merge_adjacent_on_units():
    from components import analytics_units as view

    trace = view.outline_trace([5, 2, 7, 1], {5, 2, 1}, (3, 4))
    assert trace["x"].count(None) == 2  # rows 0-1 in one frame, row 3 in another
    assert trace["y"][:5] == [-0.5, -0.5, 1.5, 1.5, -0.5]
    assert view.outline_trace([5, 2], {5}, None)["x"] == []


def test_float16_states_as_stored_agree_with_float32():
    states, offsets = random_data(7)
    half = states.astype(np.float16)
    got = core.find_matches(half, offsets, np.array([1, 4]), 0.5, 2, limit=10_000)
    want = brute_matches(half.astype(np.float32), offsets, [1, 4], 0.5, 2)
    assert got.total == len(want) and np.allclose(got.score, [w[0] for w in want])
    # the query span's own run is found when it is not excluded
    k = int(np.argmax(np.diff(offsets)))
    matrix = core.sequence_matrix(half, offsets, k)
    on = core.on_units(matrix, 0, 0, 0.5)
    if len(on):
        found = core.find_matches(half, offsets, on, 0.5, 1, limit=10_000)
        assert any(s == k and st == 0 for s, st in zip(found.seq, found.start, strict=True))


def test_many_units_pack_into_several_words():
    states, offsets = random_data(8, units=131)
    got = core.find_matches(states, offsets, np.array([0, 130]), 0.0, 3, limit=10_000)
    want = brute_matches(states, offsets, [0, 130], 0.0, 3)
    assert got.extra.tolist() == [w[4] for w in want]


def test_an_uploaded_model_works_for_its_owner_only(units_card, monkeypatch):
    from services import uploads
    from tests.support.synthetic_units import UPLOAD, UPLOAD_UNITS

    selection = {"dataset": UPLOAD, "seq": 1, "step": None}
    assert units_card.service.data(UPLOAD) is None  # not this session's upload
    monkeypatch.setattr(uploads, "owns", lambda dataset: dataset == UPLOAD)
    monkeypatch.setattr(uploads, "require_owned", lambda dataset: dataset)
    units_card.service.clear_caches()
    _analysis, states = units_card.service.data(UPLOAD)
    assert states.kinds == ("hidden",) and states.n_units == UPLOAD_UNITS
    out = units_card.show_units(selection, [0, 1], 0.2, "hidden", "activation", UPLOAD, None)
    assert len(_figure_json(out["figure"])["data"][0]["z"]) == UPLOAD_UNITS
    scale = units_card.set_unit_scale(UPLOAD, "hidden")
    assert [o["disabled"] for o in scale["options"]] == [False, True]
    listing = units_card.find_unit_matches(selection, [0, 0], 0.0, "hidden", UPLOAD)
    assert listing is not None


def test_float16_bit_comparison_matches_the_numbers():
    values = np.array(
        [-np.inf, -1.5, -0.0, 0.0, 1e-7, 0.1, 0.15, 0.5, 0.50049, 65504, np.inf], dtype=np.float16
    )
    for threshold in (0.0, 0.1, 0.15, 0.5, 1000.0):
        assert core.above(values, threshold).tolist() == (values > threshold).tolist()
    assert core.above(values, -1.0).tolist() == (values > -1.0).tolist()


def test_the_best_few_matches_equal_the_brute_forces_best_few(monkeypatch):
    """The search reads only the runs that can rank (issue 20: units at 2.4M states); the answer stays."""
    monkeypatch.setattr(core, "RUN_BATCH", 2)  # a few runs at a time: the early stop is taken
    for seed, units in ((1, [0]), (2, [3, 5]), (3, [1])):
        states, offsets = random_data(seed, units=8)
        want = brute_matches(states, offsets, units, 0.0, 3)
        for limit in (1, 5, 25):
            got = core.find_matches(states, offsets, np.array(units), 0.0, 3, limit=limit)
            assert list(zip(got.seq.tolist(), got.start.tolist(), got.end.tolist(), strict=True)) == [
                (w[1], w[2], w[3]) for w in want[:limit]
            ]
            assert got.total == len(want)
