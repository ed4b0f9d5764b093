"""Level of detail of the state cloud (services.cloud): rows in a view, bins, clicks, zoom events."""

from __future__ import annotations

import numpy as np
import pytest

from components import analytics_density as density_view
from components import analytics_projection as projection
from model import config
from services import cloud
from services.validation import InvalidInput


def test_point_budget_reads_the_environment_within_bounds(monkeypatch):
    monkeypatch.delenv("RNNX_POINT_BUDGET", raising=False)
    assert config.point_budget() == 150_000
    monkeypatch.setenv("RNNX_POINT_BUDGET", "300")
    assert config.point_budget() == 300 and cloud.is_lod(301) and not cloud.is_lod(300)
    for bad in ("0", "-5", "lots", ""):
        monkeypatch.setenv("RNNX_POINT_BUDGET", bad)
        assert config.point_budget() == 150_000
    monkeypatch.setenv("RNNX_POINT_BUDGET", "1e12")
    assert config.point_budget() == config.POINT_BUDGET_MAX


def test_rows_in_view_include_the_edges_and_match_a_loop():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100, size=(500, 2)).astype(np.float32)
    xy[0] = [10, 20]
    view = (10.0, 40.0, 20.0, 70.0)
    loop = [i for i, (x, y) in enumerate(xy.tolist()) if 10 <= x <= 40 and 20 <= y <= 70]
    assert cloud.rows_in_view(xy, view).tolist() == loop and loop[0] == 0
    assert cloud.padded((0, 10, 0, 20), 0.1) == pytest.approx((-1, 11, -2, 22))


def test_split_by_bin_keeps_rows_ascending_in_each_bin():
    bins = np.array([2, 0, 2, 1, 0, 2])
    groups = cloud.split_by_bin(bins, np.array([5, 0, 1, 2]), 4)
    assert [g.tolist() for g in groups] == [[1], [], [0, 2, 5], []]
    assert [g.tolist() for g in cloud.split_by_bin(bins, np.array([], dtype=int), 3)] == [[], [], []]


def test_nearest_click_picks_the_closest_state_and_the_lowest_row_on_a_tie():
    xy = np.array([[0, 0], [10, 10], [4, 4], [6, 6], [4, 4]], dtype=np.float32)
    assert cloud.nearest_row(xy, 9, 9) == 1
    assert cloud.nearest_row(xy, 5, 5) == 2  # rows 2, 3, 4 are as near: the lowest
    assert cloud.nearest_row(xy[:0], 1, 1) is None


def test_zoom_events_become_view_changes():
    assert cloud.view_change(None) is None
    assert cloud.view_change({"autosize": True}) is None
    assert cloud.view_change({"dragmode": "lasso"}) is None
    assert cloud.view_change({"xaxis.autorange": True, "yaxis.autorange": True}) == "reset"
    zoom = {"xaxis.range[0]": 30, "xaxis.range[1]": 10.5, "yaxis.range[0]": 1, "yaxis.range[1]": 2}
    assert cloud.view_change(zoom) == {"x": (10.5, 30.0), "y": (1.0, 2.0)}
    assert cloud.view_change({"xaxis.range": [0, 5]}) == {"x": (0.0, 5.0), "y": None}
    full = (0.0, 100.0, 0.0, 50.0)
    assert cloud.apply_change({"x": (0.0, 5.0), "y": None}, None, full) == (0.0, 5.0, 0.0, 50.0)
    assert cloud.apply_change("reset", (1, 2, 3, 4), full) is None
    assert cloud.apply_change(None, (1, 2, 3, 4), full) == (1, 2, 3, 4)


@pytest.mark.parametrize(
    "event",
    [
        "zoom",
        [1, 2],
        {"xaxis.range": [0, float("nan")]},
        {"xaxis.range": [0, float("inf")]},
        {"xaxis.range": [0, 1e12]},
        {"xaxis.range": [3, 3]},
        {"xaxis.range": [0, 1, 2]},
        {"xaxis.range": ["0", "1"]},
        {"xaxis.range": [True, 2]},
        {"xaxis.range[0]": 1},
        {f"k{i}": i for i in range(100)},
        {"selections": "x" * 300_000},
    ],
)
def test_malformed_zoom_events_are_refused(event):
    with pytest.raises(InvalidInput):
        cloud.view_change(event)


def test_stored_view_is_checked():
    good = {"key": "imdb/pca", "x": [0, 10], "y": [5, 1]}
    assert cloud.stored_view(good) == {"key": "imdb/pca", "x": [0.0, 10.0], "y": [1.0, 5.0]}
    assert cloud.stored_view(None) is None
    for bad in ({"key": "k", "x": [0, 1]}, {"key": 3, "x": [0, 1], "y": [0, 1]}, [0, 1, 0, 1]):
        with pytest.raises(InvalidInput):
            cloud.stored_view(bad)


def test_lod_content_sends_points_only_when_the_view_fits_the_budget(monkeypatch):
    monkeypatch.setenv("RNNX_POINT_BUDGET", "100")
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 1000, size=(2_000, 2)).astype(np.float32)
    ep = np.stack([1 - rng.random(len(xy)), rng.random(len(xy))], axis=1)
    marker = projection.base_colors(ep, np.zeros(len(xy), dtype=int), ["neg", "pos"], "ep")
    whole = density_view.lod_content(xy, marker, 0.65, None, ("t", "pca", "ep", False, "none"))
    assert len(whole.rows) == 0 and whole.image["source"].startswith("data:image/png;base64,")
    assert "2,000 states as density" in whole.note["text"]
    small = (100.0, 200.0, 100.0, 200.0)  # about 1.4% of the area (padded): ~30 states
    zoomed = density_view.lod_content(xy, marker, 0.65, small, None)
    assert zoomed.rows.tolist() == cloud.rows_in_view(xy, cloud.padded(small)).tolist()
    assert zoomed.image["visible"] is False and "as points" in zoomed.note["text"]
    wide = (0.0, 500.0, 0.0, 500.0)
    zoomed_out = density_view.lod_content(xy, marker, 0.65, wide, None)
    assert len(zoomed_out.rows) == 0 and zoomed_out.image["visible"] is True
    assert zoomed_out.image["x"] < 0 and "as density" in zoomed_out.note["text"]


def _ops(patch) -> dict:
    """Patch operations as {location tuple: value}."""
    return {tuple(op["location"]): op["params"].get("value") for op in patch.to_plotly_json()["operations"]}


def test_above_the_budget_the_figure_is_a_density_image_and_clicks_resolve_by_position(page, monkeypatch):
    from dash import no_update
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from services.analysis import to_view_coordinates
    from tests.support.synthetic import synthetic_analysis, synthetic_projection

    monkeypatch.setenv("RNNX_POINT_BUDGET", "300")
    a = synthetic_analysis("imdb", 60)
    xy = to_view_coordinates(synthetic_projection(a, seed=0))
    fig = page.draw_projection("imdb", "pca", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep")
    slots = projection.state_slots(projection.state_trace_count(2))
    assert all(len(fig.data[s].x) == 0 for s in slots)
    assert fig.layout.images[0].source.startswith("data:image/png;base64,")
    assert fig.layout.images[0].layer == "below" and fig.layout.images[0].sizing == "stretch"
    assert fig.data[-1].uid == density_view.FRAME_UID and list(fig.data[-1].x) == pytest.approx(
        [float(xy[:, 0].min()), float(xy[:, 0].max())]
    )
    assert f"{a.n_states:,} states as density" in fig.layout.annotations[0].text

    # the stored zoom of this figure is drawn as points (a redraw keeps the zoom)
    state = int(a.offsets[12]) + 2
    cx, cy = (float(v) for v in xy[state])
    zoom = {"key": "imdb/pca", "x": [cx - 500, cx + 500], "y": [cy - 500, cy + 500]}
    fig = page.draw_projection(
        "imdb", "pca", 0, "ep", "none", False, None, ["jump"], 0.4, 0.3, "ep", zoom=zoom
    )
    drawn = sum(len(fig.data[s].x) for s in slots)
    assert 0 < drawn <= 300 and fig.layout.images[0].visible is False

    # a click names a trace and a point in it, which now hold only the view's states: found by x/y
    curve = next(
        s
        for s in slots
        if any(abs(x - cx) < 1 and abs(y - cy) < 1 for x, y in zip(fig.data[s].x, fig.data[s].y, strict=True))
    )
    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": "projection-graph.clickData", "value": 1}]))
    click = {"points": [{"curveNumber": curve, "pointIndex": 0, "x": round(cx), "y": round(cy)}]}
    got = page.select_sequence(click, "imdb", None, "pca", False)
    assert got == {"dataset": "imdb", "seq": 12, "step": 2}
    malformed = {"points": [{"curveNumber": curve, "pointIndex": 0, "x": "left", "y": None}]}
    assert page.select_sequence(malformed, "imdb", None, "pca", False) is no_update

    # behind a selection the traces fade as a whole (their lengths vary with the view), and the image
    patch = page.show_selection(
        {"dataset": "imdb", "seq": 12, "step": 2}, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "correct", False
    )["figure"]
    ops = _ops(patch)
    assert all(ops[("data", s, "opacity")] == density_view.TRACE_FADE for s in slots)
    assert ops[("layout", "images", 0, "opacity")] == density_view.IMAGE_FADE
    assert not any(key[-1] == "opacity" and "marker" in key for key in ops)
    restore = _ops(
        page.show_selection(None, ["jump"], 0.4, 0.3, "ep", "imdb", "pca", "correct", False, True)["figure"]
    )
    assert all(restore[("data", s, "opacity")] == 1 for s in slots)
    assert not any("marker" in key for key in restore)
