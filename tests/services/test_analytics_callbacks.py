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
    shown = page.show_selection(
        {"dataset": "imdb", "seq": k, "step": None}, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "none", False
    )
    patch, text, heat, dist, faded = (shown[k] for k in ("figure", "text", "heatmap", "distance", "faded"))
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
    assert not [loc for loc in _ops(again["figure"]) if loc[0] == "data" and loc[1] in slots]
    assert len(heat["data"][0]["z"][0]) == len(a.words[k]) == len(dist["data"][0]["y"])
    assert [s.children for s in text if not isinstance(s, str)] == a.words[k]
    size = len(json.dumps([patch.to_plotly_json(), heat, dist], cls=plotly.utils.PlotlyJSONEncoder))
    assert size < 100_000


def test_moving_the_threshold_changes_the_labelled_words(page):
    sel = {"dataset": "imdb", "seq": 3, "step": None}
    low = _ops(page.show_selection(sel, ["jump"], 0.1, 0.3, "ep", "imdb", "pca", "none", False)["figure"])
    high = _ops(page.show_selection(sel, ["jump"], 0.9, 0.3, "ep", "imdb", "pca", "none", False)["figure"])
    words_low = [w for w in low[("data", projection.POINTS_SLOT)]["text"] if w]
    words_high = [w for w in high[("data", projection.POINTS_SLOT)]["text"] if w]
    assert len(words_low) > len(words_high)


def test_no_selection_clears_the_overlay_and_views(page):
    shown = page.show_selection(None, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "none", False)
    patch, text, hint = shown["figure"], shown["text"], shown["summary"]
    ops = _ops(patch)
    assert ops[("data", projection.POINTS_SLOT)]["x"] == []
    assert text is None and "select" in hint.lower()


def test_a_projection_click_selects_the_right_sequence(page, monkeypatch):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def trigger(prop_id: str) -> None:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))

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
        got = page.select_sequence(click, "imdb", None, "pca", False, mode)
        assert got == {"dataset": "imdb", "seq": 12, "step": 2}
    # a click on the trajectory overlay's segments selects nothing new
    click = {"points": [{"curveNumber": 1, "pointIndex": 0}]}
    assert page.select_sequence(click, "imdb", None, "pca", False) is no_update


def test_unprepared_projection_shows_a_prepare_message_not_a_traceback(page):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": "analytics-projection-method.value", "value": 1}])
    )
    shown = page.show_overview("imdb", "tsne", 0)
    bar, alert, button = shown["bar"], shown["alert"], shown["prepare_style"]
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


def _fill(page, trigger: str | None = None, **values):
    """Call the table's filter callback as Dash would after ``trigger`` changed (None: the first call)."""
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    fired = [{"prop_id": trigger, "value": 1}] if trigger else []
    context_value.set(AttributeDict(triggered_inputs=fired))
    args = {
        "dataset": "imdb",
        "_prepared": 0,
        "confusion_click": None,
        "lasso": None,
        "search": None,
        "_clear": None,
        "filter_model": None,
        "current": {},
        "method": "pca",
        "final_only": False,
    }
    return page.filter_table(**{**args, **values})


def _rows(page, query: dict, start: int = 0, end: int = 100, **request) -> tuple[list[int], int]:
    """(the sequence ids of one block, the row count) as the grid's infinite model asks for them."""
    reply = page.get_rows(request={"startRow": start, "endRow": end, **request}, query=query)["response"]
    return [r["id"] for r in reply["rowData"]], reply["rowCount"]


def test_the_table_sends_sorted_blocks_and_publishes_its_query(page):
    a = synthetic_analysis("imdb", 60)
    got = _fill(page)
    assert got["label"] == "60 of 60 sequences"
    assert got["query"]["dataset"] == "imdb" and got["query"]["filter_query"] == ""
    assert got["refresh"] is no_update  # the page's opening: the grid's first request has these rows
    again = _fill(page, "analytics-prepared.data", previous=got["query"])
    assert again["query"] == got["query"] and again["refresh"] is no_update  # the same rows: left alone
    searched = _fill(page, "analytics-search.value", search="great", previous=got["query"])
    assert searched["refresh"] == searched["query"]  # a filter outside the grid: the grid asks again
    assert _rows(page, got["query"], 0, 10) == (list(range(10)), 60)
    sort = [{"colId": "confidence", "sort": "desc"}]
    by_confidence = sorted(range(60), key=lambda k: (-a.confidence[k], k))
    assert _rows(page, got["query"], 20, 30, sortModel=sort) == (by_confidence[20:30], 60)
    assert _rows(page, got["query"], 50, 150)[0] == list(range(50, 60))  # the last block is short
    assert _rows(page, got["query"], 100, 200) == ([], 60)
    # no query yet (the grid's first request may come first): the dataset's rows, no filter
    first = page.get_rows(request={"startRow": 0, "endRow": 5}, query=None, dataset="imdb", method="tsne")
    assert [r["id"] for r in first["response"]["rowData"]] == list(range(5))
    # nothing to show yet: still an answer (a block left unanswered would stay loading in the grid)
    from components.cards.analytics_table_card import NOT_READY

    assert page.get_rows(request={"startRow": 0, "endRow": 5}, query=None) == {"response": NOT_READY}
    # nothing left: one row says so (the grid is never sent zero rows)
    none = _fill(page, "analytics-search.value", search="no such words")
    reply = page.get_rows(request={"startRow": 0, "endRow": 100}, query=none["query"])["response"]
    assert reply["rowCount"] == 1 and reply["rowData"][0]["id"] is None
    assert none["label"].startswith("0 of 60 sequences")
    # the grid's own column filter: the query (for the slice metrics) follows, the grid asks by itself
    filters = {"length": {"filterType": "number", "type": "greaterThan", "filter": 20}}
    got = _fill(page, "sequence-table.filterModel", filter_model=filters)
    assert got["query"]["filter_query"] == "{length} > 20.0" and got["refresh"] is no_update
    long = [k for k in range(60) if len(a.words[k]) > 20]
    assert got["label"] == f"{len(long)} of 60 sequences · column filters"
    assert _rows(page, got["query"], filterModel=filters) == (long, len(long))


def test_the_table_filters_by_confusion_cell_search_and_column_filter(page):
    a = synthetic_analysis("imdb", 60)
    click = {"points": [{"x": "positive", "y": "negative"}]}
    got = _fill(page, "confusion-matrix.clickData", confusion_click=click)
    wrong = [k for k in range(60) if a.labels[k] == 0 and a.predicted[k] == 1]
    assert _rows(page, got["query"]) == (wrong, len(wrong))
    assert got["filter"] == {"actual": 0, "predicted": 1}
    assert got["label"].startswith(f"{len(wrong)} of 60 sequences · actual negative → predicted positive")
    # the cell stays while the search narrows it; the query names both
    got = _fill(page, "analytics-search.value", search="Great", current=got["filter"])
    both = [k for k in wrong if "great" in a.texts[k]]
    assert _rows(page, got["query"])[0] == both
    assert got["query"]["actual"] == 0 and got["query"]["search"] == "Great"
    filters = {
        "length": {"filterType": "number", "type": "greaterThan", "filter": 20},
        "correct": {"filterType": "text", "type": "contains", "filter": "yes"},
    }
    expected = [k for k in range(60) if len(a.words[k]) > 20 and a.labels[k] == a.predicted[k]]
    assert _rows(page, {"dataset": "imdb", "method": "pca"}, filterModel=filters)[0] == expected
    # clearing drops the cell, the search and the grid's column filters
    got = _fill(
        page,
        "analytics-clear-filter.n_clicks",
        search="great",
        filter_model={"id": {"filterType": "number", "type": "equals", "filter": 3}},
        current={"actual": 0, "predicted": 1},
    )
    assert got["label"] == "60 of 60 sequences" and got["filter"] == {} and got["clear"] == {}
    assert got["query"]["filter_query"] == "" and got["query"]["search"] is None


def test_a_lasso_outline_filters_the_table_to_the_sequences_inside(page):
    a = synthetic_analysis("imdb", 60)
    xy = projection.to_view_coordinates(synthetic_projection(a, seed=0))
    lo, hi = np.percentile(xy, 40, axis=0).tolist(), np.percentile(xy, 55, axis=0).tolist()
    lasso = {"lasso": {"x": [lo[0], hi[0], hi[0], lo[0]], "y": [lo[1], lo[1], hi[1], hi[1]]}}
    inside = (xy[:, 0] > lo[0]) & (xy[:, 0] < hi[0]) & (xy[:, 1] > lo[1]) & (xy[:, 1] < hi[1])
    owners = sorted(set(a.sequence_of_state()[inside].tolist()))
    got = _fill(page, "analytics-lasso.data", lasso=lasso)
    assert got["label"] == f"{len(owners)} of 60 sequences · lasso selection"
    assert _rows(page, got["query"]) == (owners, len(owners))
    assert got["filter"]["shape"]["lasso"]["x"] == [float(v) for v in lasso["lasso"]["x"]]
    assert got["query"]["shape"] == got["filter"]["shape"] and got["query"]["method"] == "pca"
    # the lasso stays while the grid filters; a cleared selection (null outline) drops it
    grid_filter = {"id": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 0}}
    again = _fill(page, "sequence-table.filterModel", filter_model=grid_filter, current=got["filter"])
    assert again["query"]["shape"] == got["query"]["shape"]
    cleared = _fill(page, "analytics-lasso.data", lasso=None, current=got["filter"])
    assert cleared["label"] == "60 of 60 sequences"
    box = {"box": {"x": [hi[0], lo[0]], "y": [lo[1], hi[1]]}}
    assert _fill(page, "analytics-lasso.data", lasso=box)["label"].endswith("box selection")


def test_bad_table_values_are_refused_with_a_message(page):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    for bad in (
        {"filter_model": {"secret": {"filterType": "text", "type": "contains", "filter": "x"}}},
        {"filter_model": {"text": {"filterType": "text", "type": "contains", "filter": "x" * 81}}},
        {"lasso": {"lasso": {"x": [0.0] * 5_001, "y": [0.0] * 5_001}}},
        {"current": {"ids": [1, 2]}},
    ):
        context_value.set(AttributeDict(triggered_inputs=[], updated_props={}))
        assert page.filter_table(**{"dataset": "imdb", **bad}) is no_update
        assert "analytics-alert" in context_value.get().updated_props, bad
    query = {"dataset": "imdb", "method": "pca"}
    for request in ({"startRow": -1, "endRow": 10}, {"startRow": 0, "endRow": 10_000}):
        context_value.set(AttributeDict(triggered_inputs=[], updated_props={}))
        assert page.get_rows(request=request, query=query) == {"response": {"rowData": [], "rowCount": 0}}
        assert "analytics-alert" in context_value.get().updated_props, request
