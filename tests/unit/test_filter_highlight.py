"""Issue 20 (k): the table's filters link both ways: a search or a lasso shows its states on the projection."""

from __future__ import annotations

import numpy as np

from components import analytics_projection as projection


def _ops(patch) -> dict:
    return {tuple(op["location"]): op["params"].get("value") for op in patch.to_plotly_json()["operations"]}


def _query(**extra) -> dict:
    return {"dataset": "imdb", "method": "pca", "final_only": False, **extra}


def test_a_search_draws_exactly_the_states_of_the_sequences_it_leaves(page):
    from components.cards import analytics_projection_card as card
    from services import analysis as analysis_service

    analysis, _dmax, xy = analysis_service.load("imdb", "pca")
    word = "boring"
    having = [k for k in range(analysis.n_sequences) if word in " ".join(analysis.words[k])]
    assert 0 < len(having) < analysis.n_sequences
    out = card.highlight_filter(_query(search=word), None, False, "none", False, "ep")
    slot = projection.filter_slot(projection.state_trace_count(len(analysis.class_names)))
    ops = _ops(out["figure"])
    trace = ops[("data", slot)]
    expected = np.concatenate([xy[analysis.rows(k)] for k in having])
    assert len(trace["x"]) == len(expected)
    got = sorted(zip(trace["x"], trace["y"], strict=True))
    want = sorted(zip(np.round(expected[:, 0], 4), np.round(expected[:, 1], 4), strict=True))
    assert np.allclose(got, want)
    assert f"{len(having):,} filtered sequences" == trace["name"]
    # the cloud fades behind them, and comes back once the filter is cleared
    assert out["faded"] is True
    assert all(
        ops[("data", s, "marker", "opacity")] == projection.SELECTION_FADE for s in projection.state_slots(32)
    )
    cleared = card.highlight_filter(_query(), None, True, "none", False, "ep")
    assert _ops(cleared["figure"])[("data", slot)]["x"] == [] and cleared["faded"] is False


def test_the_full_figure_keeps_the_filter_and_puts_its_trace_after_the_cloud(page):
    fig = page.draw_projection(
        "imdb", "pca", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep", query=_query(search="boring")
    )
    slot = projection.filter_slot(32)
    assert fig.data[slot].uid == "filter-states" and len(fig.data[slot].x) > 0
    assert slot > max(projection.state_slots(32))


def test_a_crafted_query_is_refused_with_a_message(page):
    from dash import no_update
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from components.cards import analytics_projection_card as card

    updated: dict = {}
    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": "x.y", "value": 1}], updated_props=updated))
    assert (
        card.highlight_filter({"dataset": "../etc", "method": "pca"}, None, False, "none", False, "ep")
        is no_update
    )
    assert card.highlight_filter({"bogus": 1}, None, False, "none", False, "ep") is no_update
    assert "analytics-alert" in updated  # said where the user looks
