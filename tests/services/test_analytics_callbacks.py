"""Analytics callbacks called as plain functions, on synthetic data."""

from __future__ import annotations

import json

import numpy as np
import plotly
from dash import no_update

from components import analytics_projection as projection
from tests.support.synthetic import synthetic_analysis, synthetic_projection


def _ops(patch) -> dict:
    """Patch operations as {location tuple: value}."""
    return {tuple(op["location"]): op["params"].get("value") for op in patch.to_plotly_json()["operations"]}


def test_selecting_sequence_k_patches_exactly_its_trajectory(page):
    a = synthetic_analysis("imdb", 60)
    xy = projection.to_view_coordinates(synthetic_projection(a, seed=0))
    k = 17
    patch, text, heat, dist, _summary, _styles, faded = page.show_selection(
        {"dataset": "imdb", "seq": k, "step": None}, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "none", False
    )
    ops = _ops(patch)
    points = ops[("data", projection.POINTS_SLOT)]
    rows = a.rows(k)
    assert np.allclose(points["x"], xy[rows, 0], atol=0.051)
    assert np.allclose(points["y"], xy[rows, 1], atol=0.051)
    assert [c[0] for c in points["customdata"]] == list(range(len(a.words[k])))
    slots = projection.state_slots(projection.state_trace_count(2))
    assert len(slots) == projection.EP_BINS
    assert all(ops[("data", slot, "marker", "opacity")] == projection.SELECTION_FADE for slot in slots)
    assert not any(key[-1] in ("x", "y") for key in ops if key[1] in slots)  # the big scatter is not resent
    assert faded is True
    # Once faded, selecting another sequence leaves the big scatter's trace alone entirely.
    again = page.show_selection(
        {"dataset": "imdb", "seq": 4, "step": None},
        ["jump"],
        0.4,
        0.3,
        "ep",
        "imdb",
        "pca",
        "none",
        False,
        True,
    )
    assert not [loc for loc in _ops(again[0]) if loc[0] == "data" and loc[1] in slots]
    assert len(heat["data"][0]["z"][0]) == len(a.words[k]) == len(dist["data"][0]["y"])
    assert [s.children for s in text if not isinstance(s, str)] == a.words[k]
    size = len(json.dumps([patch.to_plotly_json(), heat, dist], cls=plotly.utils.PlotlyJSONEncoder))
    assert size < 100_000


def test_moving_the_threshold_changes_the_labelled_words(page):
    sel = {"dataset": "imdb", "seq": 3, "step": None}
    low = _ops(page.show_selection(sel, ["jump"], 0.1, 0.3, "ep", "imdb", "pca", "none", False)[0])
    high = _ops(page.show_selection(sel, ["jump"], 0.9, 0.3, "ep", "imdb", "pca", "none", False)[0])
    words_low = [w for w in low[("data", projection.POINTS_SLOT)]["text"] if w]
    words_high = [w for w in high[("data", projection.POINTS_SLOT)]["text"] if w]
    assert len(words_low) > len(words_high)


def test_no_selection_clears_the_overlay_and_views(page):
    patch, text, _heat, _dist, hint, _styles, _faded = page.show_selection(
        None, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "none", False
    )
    ops = _ops(patch)
    assert ops[("data", projection.POINTS_SLOT)]["x"] == []
    assert text is None and "select" in hint.lower()


def test_table_row_and_projection_click_select_the_right_sequence(page, monkeypatch):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def trigger(prop_id: str) -> None:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))

    trigger("sequence-table.active_cell")
    got = page.select_sequence({"row": 0, "column": 0, "row_id": 9}, None, "imdb", None, "pca", False)
    assert got == {"dataset": "imdb", "seq": 9, "step": None}

    # a click on the state cloud names a trace (colour bin) and a point in it: find state 12/2's
    a = synthetic_analysis("imdb", 60)
    state = int(a.offsets[12]) + 2
    labels = np.repeat(a.labels, np.diff(a.offsets))
    for mode in ("ep", "actual"):
        fig = projection.projection_figure(
            np.zeros((a.n_states, 2)),
            projection.base_colors(a.ep, labels, list(a.class_names), mode),
            0.6,
            "r",
        )
        rows = projection.cloud_rows(projection.base_colors(a.ep, labels, list(a.class_names), mode))
        slots = projection.state_slots(len(rows))
        curve, index = next((s, list(r).index(state)) for s, r in zip(slots, rows, strict=True) if state in r)
        assert len(fig.data[curve].x) == len(rows[slots.index(curve)])
        trigger("projection-graph.clickData")
        click = {"points": [{"curveNumber": curve, "pointIndex": index}]}
        got = page.select_sequence(None, click, "imdb", None, "pca", False, mode)
        assert got == {"dataset": "imdb", "seq": 12, "step": 2}
    # a click on the trajectory overlay's segments selects nothing new
    click = {"points": [{"curveNumber": 1, "pointIndex": 0}]}
    assert page.select_sequence(None, click, "imdb", None, "pca", False) is no_update


def test_unprepared_projection_shows_a_prepare_message_not_a_traceback(page):
    bar, _bars, _cm, alert, button = page.show_overview("imdb", "tsne", 0)
    assert bar is not None
    assert "not been computed" in str(alert)
    assert button == {}


def test_layout_restores_state_from_the_url(page):
    layout = page.layout(dataset="reuters", method="umap", seq="5", jump="0.25", labels="jump,flip")
    found = {}

    def walk(node):
        if hasattr(node, "id") and getattr(node, "id", None):
            found[node.id] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                walk(child)

    walk(layout)
    assert found["analytics-dataset"].value == "reuters"
    assert found["analytics-projection-method"].value == "umap"
    assert found["analytics-selection"].data == {"dataset": "reuters", "seq": 5, "step": None}
    assert found["distance-threshold"].value == 0.25
    assert found["analytics-label-rules"].value == ["jump", "flip"]
