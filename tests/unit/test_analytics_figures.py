"""Analytics figure functions on small arrays: traces, colours, labels."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from components import analytics_colors as colors
from components import analytics_labels as labels
from components import analytics_overview as overview
from components import analytics_projection as projection
from components import analytics_sequence as sequence
from components import analytics_table as table_view
from components import analytics_view as view
from tests.support.synthetic import synthetic_analysis, synthetic_projection

NAMES = ["negative", "positive"]


def _ep(p: list[float]) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.stack([1 - p, p], axis=1)


def test_ep_scale_matches_the_original_stops():
    assert [s for s, _ in colors.EP_COLORSCALE] == [0, 0.1, 0.5, 0.9, 1]
    assert colors.ep_hex(np.array([0.0, 0.1, 0.5, 0.9, 1.0])) == [
        "#bd0061",
        "#ff47a6",
        "#c9c9c9",
        "#3194cc",
        "#0475b5",
    ]


def test_five_class_palette_is_distinct_and_used_for_multiclass_states():
    palette = colors.class_colors(5)
    assert len(set(palette)) == 5
    ep = np.eye(5)[[2, 0, 4]]
    assert colors.state_colors(ep) == [palette[2], palette[0], palette[4]]


def test_label_rules():
    dist = np.array([0.1, 0.5, 0.39, 0.4, 0.9])
    assert labels.jump_steps(dist, 1.0, 0.4).tolist() == [1, 3, 4]
    assert labels.jump_steps(dist * 2, 2.0, 0.4).tolist() == [1, 3, 4]  # normalised by the largest jump
    ep = _ep([0.5, 0.9, 0.85, 0.2, 0.3])
    assert labels.ep_change_steps(ep, 0.3).tolist() == [1, 3]
    assert labels.flip_steps(_ep([0.6, 0.7, 0.4, 0.45, 0.8])).tolist() == [2, 4]
    assert labels.labelled_steps(ep, dist, 1.0, ["jump", "ep"], 0.4, 0.3).tolist() == [1, 3, 4]
    assert labels.labelled_steps(ep, dist, 1.0, [], 0.4, 0.3).tolist() == []
    # the "before" form labels the word read just before each event
    assert labels.labelled_steps(ep, dist, 1.0, ["jump", "ep", "before"], 0.4, 0.3).tolist() == [0, 2, 3]


def test_projection_figure_is_webgl_with_fixed_overlay_slots_and_ep_scale():
    ep = _ep([0.1, 0.7, 0.9, 0.12])
    marker = projection.base_colors(ep, np.array([0, 1, 1, 0]), NAMES, "ep")
    assert marker["color"].tolist() == [26, 178, 230, 31]  # EP as one byte per state
    xy = np.array([[0, 0], [1, 1], [2, 2], [3, 3]], dtype=float)
    fig = projection.projection_figure(xy, marker, 0.6, "rev")
    slots = projection.state_slots(projection.EP_BINS)
    # the states, one single-colour WebGL trace per EP level; the overlay and what-if slots stay put
    # ... then the neighbour rings (one trace) before the other state bins, then the filtered states
    assert len(fig.data) == projection.N_TRACES + 2 + 1 + (projection.EP_BINS - 1) + 1 + 1
    assert fig.data[projection.filter_slot(projection.EP_BINS)].uid == "filter-states"
    assert all(fig.data[s].type == "scattergl" for s in slots)
    assert fig.data[projection.WHATIF_SLOT].uid == "whatif-typed"
    assert fig.data[projection.POINTS_SLOT].uid == "traj-points"
    drawn = {s: fig.data[s].x.tolist() for s in slots if len(fig.data[s].x)}
    level = {s: (slots.index(s) + 0.5) / projection.EP_BINS for s in drawn}
    # 0.1 and 0.12 share a level; each level is drawn in the EP colour of its centre
    assert sorted(drawn.values()) == [[0, 3], [1], [2]]
    for s in drawn:
        assert fig.data[s].marker.color == colors.ep_hex(np.array([level[s]]))[0]
        assert all(abs(ep[i, 1] - level[s]) <= 0.5 / projection.EP_BINS + 0.01 for i in drawn[s])
    bar = fig.data[-1]
    assert bar.marker.showscale and [c[1] for c in bar.marker.colorscale] == list(colors.EP_COLORS)
    assert list(bar.x) == [None]  # nothing drawn
    assert fig.layout.uirevision == "rev"


def test_per_state_opacity_follows_its_state_into_its_colour_trace():
    marker = projection.base_colors(np.eye(3)[[2, 0, 2, 1]], np.array([0, 0, 1, 2]), list("abc"), "ep")
    opacity = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    fig = projection.projection_figure(np.zeros((4, 2)), marker, opacity, "r")
    rows = projection.cloud_rows(marker)
    assert [r.tolist() for r in rows[:3]] == [[1], [3], [0, 2]]  # one trace per predicted class
    for slot, members in zip(projection.state_slots(len(rows)), rows, strict=True):
        assert list(np.atleast_1d(fig.data[slot].marker.opacity)) == pytest.approx(opacity[members].tolist())
    assert fig.data[0].marker.color == colors.class_colors(3)[0]
    assert projection.point_row(rows, projection.state_slots(len(rows))[2], 1) == 2
    assert projection.point_row(rows, projection.POINTS_SLOT, 0) is None


def test_view_coordinates_fill_the_uint16_range_and_keep_the_aspect():
    view_xy = projection.to_view_coordinates(np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, 1.0]]))
    assert view_xy[:, 0].min() == 0 and view_xy[:, 0].max() == projection.VIEW_SPAN
    assert view_xy[:, 1].max() == pytest.approx(projection.VIEW_SPAN / 2)
    fig = projection.projection_figure(view_xy, {"color": [0, 0, 0]}, 0.6, "r")
    assert fig.data[0].x.dtype == np.uint16 and len(fig.data[0].x) == 3


def test_actual_class_mode_uses_discrete_class_colours():
    marker = projection.base_colors(np.eye(5)[[0, 1]], np.array([3, 4]), list("abcde"), "actual")
    assert marker["color"].tolist() == [3, 4]
    assert marker["cmin"] == -0.5 and marker["cmax"] == 4.5


def test_base_opacity_fades_the_chosen_group_or_everything_behind_a_selection():
    correct = np.array([True, False, True])
    assert projection.base_opacity(correct, "none", True) == projection.SELECTION_FADE
    faded = projection.base_opacity(correct, "wrong", False)
    assert faded.tolist() == pytest.approx(
        [projection.DEFAULT_OPACITY, projection.FADED, projection.DEFAULT_OPACITY]
    )


def test_trajectory_labels_are_exactly_the_words_above_the_threshold():
    xy = np.array([[0, 0], [1, 0], [1, 1], [2, 1], [3, 3]], dtype=float)
    words = ["a", "truly", "awful", "but", "fun"]
    dist = np.array([0.2, 0.45, 0.1, 0.8, 0.39])
    ep = _ep([0.5, 0.4, 0.1, 0.3, 0.9])
    picked = labels.jump_steps(dist, 1.0, 0.4)
    traces = projection.trajectory_overlay(xy, ep, words, dist, picked, NAMES)
    assert len(traces) == projection.N_TRACES - 1
    points = traces[projection.POINTS_SLOT - 1]
    assert points["x"] == [0, 1, 1, 2, 3] and points["y"] == [0, 0, 1, 1, 3]
    assert [t for t in points["text"] if t] == ["truly", "but"]
    # Every segment t -> t+1 appears once, in some colour slot.
    segs = traces[: projection.N_SEGMENT_SLOTS]
    n_segments = sum(len(s["x"]) // 3 for s in segs)
    assert n_segments == len(xy) - 1
    # The segment colour is the EP colour at its start (quantised).
    first = next(s for s in segs if s["x"][:2] == [0, 1])
    assert first["line"]["color"] == colors.ep_hex(np.array([0.5]))[0]


def test_time_mode_colours_segments_on_a_grey_ramp():
    ep = _ep(np.linspace(0, 1, 30))
    segment = projection.segment_colors(ep, "time")
    assert segment[0] == "#aaaaaa" and len(set(segment)) <= projection.N_SEGMENT_SLOTS
    assert segment[-1] == colors.time_hex(projection.N_SEGMENT_SLOTS)[-1]


def test_heatmap_has_one_row_per_class_and_a_summary_row():
    ep = _ep([0.2, 0.6, 0.9])
    fig = go.Figure(sequence.heatmap_figure(ep, ["x", "y", "z"], NAMES))  # also validates the dict
    assert len(fig.data) == 3
    assert fig.data[0].z[0] == pytest.approx([0.8, 0.4, 0.1])
    assert fig.data[1].z[0] == pytest.approx([0.2, 0.6, 0.9])
    assert list(fig.data[2].z[0]) == [0, 1, 1]
    assert fig.data[2].yaxis == "y2"
    assert list(fig.layout.yaxis.ticktext) == NAMES


def test_distance_bars_have_the_threshold_line_and_outline_the_jumps():
    dist = np.array([0.1, 0.6, 0.3])
    fig = go.Figure(sequence.distance_figure(dist, _ep([0.5, 0.5, 0.5]), ["a", "b", "c"], 0.4))
    assert fig.layout.shapes[0].y0 == 0.4 == fig.layout.shapes[0].y1
    outlined = [c != "rgba(0,0,0,0)" for c in fig.data[0].marker.line.color]
    assert outlined == [False, True, False]


def test_text_spans_carry_step_colour_and_tooltip():
    spans = [
        s
        for s in sequence.sequence_text(
            ["good", "bad"], _ep([1.0, 0.0]), np.array([0.2, 0.7]), NAMES, np.array([1])
        )
        if not isinstance(s, str)
    ]
    assert [s.children for s in spans] == ["good", "bad"]
    assert spans[0].style["backgroundColor"] == "#0475b5"
    assert spans[1].style["backgroundColor"] == "#bd0061"
    assert "rnnx-word-labelled" in spans[1].className and "labelled" not in spans[0].className
    assert "step 1" in spans[1].title and "0.70" in spans[1].title


def test_confusion_matrix_counts_and_readable_annotations():
    counts = overview.confusion_counts(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), 2)
    assert counts.tolist() == [[1, 1], [1, 2]]
    fig = overview.confusion_figure(counts, NAMES)
    assert [a.text for a in fig.layout.annotations] == ["<b>1</b>", "<b>1</b>", "<b>1</b>", "<b>2</b>"]
    assert fig.layout.annotations[3].font.color == "#ffffff"  # dark cell -> white text


def test_class_bars_show_actual_totals_and_predicted_stacks():
    counts = np.array([[3, 1], [2, 4]])
    fig = overview.class_bars_figure(counts, NAMES)
    assert list(fig.data[0].y) == [4, 6]
    assert list(fig.data[1].y) == [3, 2] and list(fig.data[2].y) == [1, 4]
    assert fig.data[1].marker.color == colors.class_colors(2)[0]


def test_table_rows():
    a = synthetic_analysis("reuters", 30)
    rows = table_view.table_rows(
        a.texts, np.diff(a.offsets), a.labels, a.predicted, a.confidence, a.class_names
    )
    assert [r["id"] for r in rows] == list(range(30))
    assert rows[0]["length"] == len(a.words[0])


def test_points_map_back_to_their_sequence_and_step():
    a = synthetic_analysis("imdb", 10)
    k = 4
    state = int(a.offsets[k]) + 3
    assert view.state_of_point(a, state, final_only=False) == (k, 3)
    assert view.state_of_point(a, k, final_only=True) == (k, len(a.words[k]) - 1)


def test_selecting_sequence_k_yields_exactly_its_states_in_order():
    a = synthetic_analysis("imdb", 12)
    xy = synthetic_projection(a)
    for k in (0, 5, 11):
        sel = view.selection_view(a, xy, k, ["jump"], 0.4, 0.3)
        points = sel.overlay[projection.POINTS_SLOT - 1]
        rows = slice(int(a.offsets[k]), int(a.offsets[k + 1]))
        assert np.allclose(points["x"], xy[rows, 0], atol=0.051)
        assert np.allclose(points["y"], xy[rows, 1], atol=0.051)
        assert [c[1] for c in points["customdata"]] == a.words[k]
        assert points["meta"]["labelled"] == sel.labelled.tolist()
        drawn = [t for t, w in enumerate(points["text"]) if w]  # those that fit without overlapping
        assert set(drawn) <= set(sel.labelled.tolist()) and bool(drawn) == bool(len(sel.labelled))
        assert all(points["text"][t] == a.words[k][t] for t in drawn)
