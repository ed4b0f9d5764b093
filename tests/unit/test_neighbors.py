"""Nearest neighbours in the hidden space: the exact index equals a float64 brute-force search,
the service checks what the browser sends, and the card's views show the answer."""

from __future__ import annotations

import numpy as np
import pytest

from model import neighbors as core
from services.validation import InvalidInput


def _states(n: int = 3000, d: int = 24, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(12, d))
    return np.tanh(centers[rng.integers(0, 12, n)] + 0.4 * rng.normal(size=(n, d))).astype(np.float32)


@pytest.mark.parametrize("k", [1, 7, 50])
def test_exact_index_equals_brute_force(k, monkeypatch):
    monkeypatch.setattr(core, "CHUNK_ROWS", 257)  # several chunks, neighbours across their borders
    data = _states()
    index = core.ExactIndex(data)
    for row in (0, 1, 256, 257, 1500, 2999):
        got = index.query(data[row], k, slice(row, row + 1))
        want = core.brute_force(data, data[row], k, slice(row, row + 1))
        assert got.rows.tolist() == want.rows.tolist()
        assert got.distances == pytest.approx(want.distances, rel=1e-9, abs=1e-12)
        assert row not in got.rows and np.all(np.diff(got.distances) >= 0)


def test_excluding_a_range_and_an_outside_vector():
    data = _states(800, 10, seed=3)
    index = core.ExactIndex(data)
    exclude = slice(100, 180)
    got = index.query(data[120], 20, exclude)
    want = core.brute_force(data, data[120], 20, exclude)
    assert got.rows.tolist() == want.rows.tolist()
    assert not np.any((got.rows >= 100) & (got.rows < 180))
    vector = np.full(10, 0.1, dtype=np.float32)
    assert index.query(vector, 5).rows.tolist() == core.brute_force(data, vector, 5).rows.tolist()


def test_ties_are_ordered_by_row_and_k_is_capped():
    data = np.zeros((6, 3), dtype=np.float32)
    data[3] = 1.0
    index = core.ExactIndex(data)
    got = index.query(data[0], 10, slice(0, 1))
    assert got.rows.tolist() == [1, 2, 4, 5, 3]
    assert got.distances[:4].tolist() == [0, 0, 0, 0]
    assert index.query(data[0], 3, slice(0, 6)).rows.tolist() == []


def test_the_index_is_needed_above_the_limits_and_float16_reads_exactly(monkeypatch):
    monkeypatch.delenv("RNNX_NEIGHBORS_EXACT_MAX", raising=False)
    assert not core.needs_index(core.EXACT_MAX_STATES, 16)
    assert core.needs_index(core.EXACT_MAX_STATES + 1, 16)
    assert core.needs_index(100_000, core.EXACT_MAX_VALUES // 100_000 + 1)
    monkeypatch.setenv("RNNX_NEIGHBORS_EXACT_MAX", "100")
    assert core.needs_index(101, 4) and not core.needs_index(100, 4)
    half = _states(300, 8).astype(np.float16)
    assert np.array_equal(core.to_float32(half), half.astype(np.float32))
    with pytest.raises(ValueError):
        core.ExactIndex(np.zeros(5))


# ---------------------------------------------------------------- the service


@pytest.fixture()
def synthetic(monkeypatch):
    from tests.support.serve import use_pipeline

    use_pipeline(monkeypatch, "tests.support.synthetic")
    from services import analysis as analysis_service
    from services import neighbors as service

    analysis_service.clear_caches()
    service.clear_caches()
    analysis, _dmax, _xy = analysis_service.load("imdb", "pca")
    yield service, analysis
    analysis_service.clear_caches()
    service.clear_caches()


def test_service_answers_like_brute_force_over_the_prepared_states(synthetic):
    from tests.support.synthetic import load_states

    service, analysis = synthetic
    hidden = load_states("imdb")["hidden"]
    found = service.neighbors_of("imdb", analysis, 5, 3, 10)
    row = int(analysis.offsets[5]) + 3
    want = core.brute_force(hidden, hidden[row], 10, slice(row, row + 1))
    assert found.row == row and found.kind == "exact" and found.units == hidden.shape[1]
    assert found.rows.tolist() == want.rows.tolist()
    assert found.distances == pytest.approx(want.distances)
    for r, s, t in zip(found.rows, found.seqs, found.steps, strict=True):
        assert int(analysis.offsets[s]) + t == r and 0 <= t < len(analysis.words[s])


def test_other_sequences_only_and_the_last_state_by_default(synthetic):
    from tests.support.synthetic import load_states

    service, analysis = synthetic
    hidden = load_states("imdb")["hidden"]
    found = service.neighbors_of("imdb", analysis, 7, None, 20, other_only=True)
    row = int(analysis.offsets[8]) - 1
    assert found.step == len(analysis.words[7]) - 1 and found.row == row
    assert 7 not in found.seqs.tolist() and len(found.rows) == 20
    assert found.rows.tolist() == core.brute_force(hidden, hidden[row], 20, analysis.rows(7)).rows.tolist()


@pytest.mark.parametrize(
    ("seq", "step", "k", "message"),
    [(10_000, 0, 5, "no sequence"), (3, 9999, 5, "no step"), (3, 0, 0, "between"), (3, 0, 51, "between")],
)
def test_out_of_range_states_and_k_get_a_message(synthetic, seq, step, k, message):
    service, analysis = synthetic
    with pytest.raises(InvalidInput, match=message):
        service.neighbors_of("imdb", analysis, seq, step, k)


@pytest.mark.parametrize(
    "values",
    [
        {"k": 0},
        {"k": "many"},
        {"k": 1e12},
        {"k": 2.5},
        {"selection": {"dataset": "imdb", "seq": -1, "step": 0}},
        {"selection": {"dataset": "imdb", "seq": 1, "step": "x"}},
        {"selection": {"dataset": "imdb", "seq": 1, "extra": 1}},
        {"selection": "imdb"},
        {"other_only": "yes"},
    ],
)
def test_the_schema_refuses_bad_browser_values(values):
    from services import neighbors as service

    good = {"selection": None, "k": 10, "other_only": False, "dataset": "imdb", "method": "pca"}
    assert service.SHOW_NEIGHBORS.check(**good)["k"] == 10
    with pytest.raises(InvalidInput):
        service.SHOW_NEIGHBORS.check(**{**good, **values})


def test_a_dataset_without_states_says_so(synthetic, monkeypatch):
    from services import analysis as analysis_service

    service, analysis = synthetic
    monkeypatch.setattr(analysis_service, "states", lambda dataset: None)
    with pytest.raises(LookupError, match="not prepared"):
        service.neighbors_of("imdb", analysis, 1, 1, 5)


# ---------------------------------------------------------------- the views


def test_the_table_and_rings_show_the_answer(synthetic):
    from components import analytics_neighbors as view

    service, analysis = synthetic
    found = service.neighbors_of("imdb", analysis, 2, 4, 5)
    table = view.neighbor_table(found, analysis)
    text = str(table)
    ids = []

    def walk(node):
        if isinstance(getattr(node, "id", None), dict):
            ids.append(node.id)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                walk(child)

    walk(table)
    assert ids == [
        {"type": view.ROW_TYPE, "seq": int(s), "step": int(t)}
        for s, t in zip(found.seqs, found.steps, strict=True)
    ]
    assert analysis.words[2][4] in text
    xy = np.arange(analysis.n_states * 2, dtype=float).reshape(-1, 2)
    ring = view.ring_trace(xy, found, analysis.words)
    assert ring["uid"] == "neighbor-rings" and ring["x"] == xy[found.rows, 0].tolist()
    assert [c[2:4] for c in ring["customdata"]] == [
        [int(s), int(t)] for s, t in zip(found.seqs, found.steps, strict=True)
    ]
    assert view.ring_trace()["x"] == []
    assert view.ep_label(np.array([0.2, 0.8]), ["neg", "pos"]) == "0.80"
    assert view.ep_label(np.array([0.1, 0.7, 0.2]), ["a", "b", "c"]) == "b 0.70"


def test_the_projection_figure_has_the_ring_slot_before_the_states():
    from components import analytics_projection as projection

    marker = projection.base_colors(np.array([[0.3, 0.7]] * 3), np.zeros(3), ["n", "p"], "ep")
    fig = projection.projection_figure(np.zeros((3, 2)), marker, 0.6, "r")
    assert fig.data[projection.NEIGHBORS_SLOT].uid == "neighbor-rings"
    assert projection.NEIGHBORS_SLOT not in projection.state_slots(projection.EP_BINS)
    assert fig.data[-1].uid == "colorbar"


# ---------------------------------------------------------------- the card's callbacks


def _context(prop_id: str, value: object = 1) -> dict:
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    updated: dict = {}
    context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}], updated_props=updated)
    )
    return updated


def test_the_card_lists_rings_and_refuses_bad_values_with_a_message(synthetic):
    from dash import no_update

    from components import analytics_projection as projection
    from components.cards import analytics_neighbors_card as card

    _context("analytics-selection.data")
    out = card.show_neighbors({"dataset": "imdb", "seq": 4, "step": 2}, "5", [], "imdb", "pca")
    assert "sequence 4, step 2" in str(out["listing"])
    ops = {
        tuple(op["location"]): op["params"]["value"] for op in out["figure"].to_plotly_json()["operations"]
    }
    assert len(ops[("data", projection.NEIGHBORS_SLOT)]["x"]) == 5

    for bad in ({"k": "0"}, {"k": "1e9"}, {"selection": {"dataset": "imdb", "seq": -3, "step": 0}}):
        updated = _context("neighbors-k.value")
        args = {"selection": None, "k": 10, "other_only": False, "dataset": "imdb", "method": "pca", **bad}
        assert card.show_neighbors(**args) is no_update
        assert "analytics-alert" in updated

    # a state that does not exist: a message in the card, not a traceback
    _context("analytics-selection.data")
    out = card.show_neighbors({"dataset": "imdb", "seq": 4, "step": 9000}, 10, False, "imdb", "pca")
    assert "no step 9000" in str(out["listing"])


def test_a_click_on_a_listed_neighbour_selects_it_and_bad_ids_are_refused(synthetic):
    from dash import no_update

    from components.cards import analytics_neighbors_card as card

    # the row the browser reports (assets/neighbors.js): {"seq", "step", "t"}
    _context("neighbors-row-click.data")
    assert card.pick_neighbor({"seq": 7, "step": 3, "t": 1}, "imdb") == {
        "dataset": "imdb",
        "seq": 7,
        "step": 3,
    }
    assert card.pick_neighbor(None, "imdb") is no_update  # nothing clicked yet
    for seq, step in ((7, 5000), (99_999, 0), (-1, 0), ("x", 0)):
        updated = _context("neighbors-row-click.data")
        assert card.pick_neighbor({"seq": seq, "step": step, "t": 1}, "imdb") is no_update
        assert "analytics-alert" in updated


def test_a_click_on_a_ring_selects_that_neighbour_and_other_clicks_are_left_alone(synthetic):
    from dash import no_update

    from components import analytics_projection as projection
    from components.cards import analytics_selection as hub

    _context("projection-graph.clickData")
    ring = {"points": [{"curveNumber": projection.NEIGHBORS_SLOT, "customdata": [1, "film", 9, 2, 0.5]}]}
    assert hub.select_sequence(ring, "imdb", None, "pca", False) == {"dataset": "imdb", "seq": 9, "step": 2}
    bad = {"points": [{"curveNumber": projection.NEIGHBORS_SLOT, "customdata": [1, "x", "nine", 2, 0.5]}]}
    updated = _context("projection-graph.clickData")
    assert hub.select_sequence(bad, "imdb", None, "pca", False) is no_update and "analytics-alert" in updated
