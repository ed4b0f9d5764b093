"""Issue 20, rough edges h and n, computed on the server: word labels placed without overlapping, a fade
that shows, a density image whose sparse classes are not pale, reliability bins that say how few items
they hold, the layer-input equation in full, and a progress label outside the bar."""

from __future__ import annotations

import numpy as np

from components import analytics_projection as projection
from components import label_placement as placement
from services.analysis import VIEW_SPAN

NAMES = ["negative", "positive"]


def _overlaps(boxes: np.ndarray) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i, 0] < boxes[j, 2]
        and boxes[j, 0] < boxes[i, 2]
        and boxes[i, 1] < boxes[j, 3]
        and boxes[j, 1] < boxes[i, 3]
    ]


def _drawn_boxes(points: dict, xy: np.ndarray) -> np.ndarray:
    """The boxes of the labels a trajectory's points trace draws (its text and textposition)."""
    px = placement.to_pixels(xy, VIEW_SPAN)
    where = points["textposition"]
    boxes = [
        placement.label_box(*px[t], placement.text_width(w), where if isinstance(where, str) else where[t])
        for t, w in enumerate(points["text"])
        if w
    ]
    return np.array(boxes).reshape(-1, 4)


def test_trajectory_labels_do_not_overlap_on_the_projection():
    # A walk that lingers: "costs" and "avoid" one pixel apart (the "costsid"), and a crowd.
    rng = np.random.default_rng(3)
    xy = np.vstack([[[30_000, 30_000], [30_100, 30_050]], 30_000 + rng.normal(0, 900, size=(40, 2))])
    words = ["costs", "avoid", *(f"word{t}" for t in range(40))]
    ep = np.column_stack([np.linspace(0.9, 0.1, len(xy)), np.linspace(0.1, 0.9, len(xy))])
    dist = rng.uniform(0, 1, len(xy))
    labelled = np.arange(len(xy))  # every word asks for a label
    traces = projection.trajectory_overlay(xy, ep, words, dist, labelled, NAMES)
    points = traces[projection.POINTS_SLOT - 1]
    boxes = _drawn_boxes(points, xy)
    assert _overlaps(boxes) == []
    drawn = [w for w in points["text"] if w]
    assert 5 <= len(drawn) < len(words)  # crowded: some are left out, the rest fit
    assert points["meta"]["labelled"] == labelled.tolist()  # which words the rules picked stays known
    # deterministic: the same input places the same labels
    again = projection.trajectory_overlay(xy, ep, words, dist, labelled, NAMES)[projection.POINTS_SLOT - 1]
    assert again["text"] == points["text"] and again["textposition"] == points["textposition"]


def test_label_placement_tries_other_positions_before_dropping_and_goes_by_priority():
    anchors = np.array([[100.0, 100.0], [101.0, 101.0], [300.0, 300.0]])
    texts = ["costs", "avoid", "alone"]
    chosen = placement.place_labels(anchors, texts, priority=np.array([0.2, 0.9, 0.1]))
    assert chosen[1] == "top center"  # the biggest jump goes first, in the best place
    assert chosen[0] not in (None, "top center")  # the other moves aside instead of overlapping
    assert chosen[2] == "top center"
    assert _overlaps(placement.placed_boxes(anchors, texts, chosen)) == []
    crowd = np.zeros((30, 2))  # thirty labels on one point: at most one per position
    many = placement.place_labels(crowd, [f"w{i}" for i in range(30)])
    assert 1 <= sum(p is not None for p in many) <= len(placement.POSITIONS)
    assert _overlaps(placement.placed_boxes(crowd, [f"w{i}" for i in range(30)], many)) == []


def test_fading_makes_the_faded_states_faint():
    correct = np.array([True, False])
    kept, faded = projection.base_opacity(correct, "correct", False)[[1, 0]]
    # ten states on top of one another: how much of the white they cover
    assert 1 - (1 - faded) ** 10 <= 0.35 * (1 - (1 - kept) ** 10)
    assert projection.base_opacity(correct, "wrong", False)[1] == faded


def test_faded_states_in_the_density_image_are_faint():
    from model import density

    grid = density.grid_for((0, 2, 0, 2), size=2)
    xy = np.array([[0.5, 1.5]] * 20 + [[1.5, 0.5]] * 20)  # twenty faded states, twenty kept
    weights = np.array([projection.FADED / projection.DEFAULT_OPACITY] * 20 + [1.0] * 20)
    rgba = density.render(xy, grid, codes=np.zeros(40, int), palette=np.array([[255, 0, 0]]), weights=weights)
    assert rgba[0, 0, 3] <= 0.1 * 255 and rgba[1, 1, 3] == 255


def test_a_sparse_class_in_the_density_image_is_as_clear_as_a_dense_one():
    from model import density

    rng = np.random.default_rng(0)
    grid = density.grid_for((0, 100, 0, 100), size=100)
    dense = np.vstack([rng.uniform(10, 20, size=(20_000, 2)), rng.uniform(0, 50, size=(3_000, 2))])
    sparse = np.vstack([rng.uniform(70, 75, size=(150, 2)), rng.uniform(60, 100, size=(100, 2))])
    xy = np.vstack([dense, sparse])
    codes = np.r_[np.zeros(len(dense), int), np.ones(len(sparse), int)]
    rgba = density.render(xy, grid, codes=codes, palette=np.array([[255, 198, 30], [0, 154, 222]]))
    pix = density.pixel_index(sparse, grid)
    alpha = rgba.reshape(-1, 4)[pix[pix >= 0], 3] / 255
    assert alpha.min() >= 0.75  # a pixel holding one state of the sparse class reads clearly
    assert alpha.max() >= 0.95  # and its densest part is as opaque as the dense class's
    dense_alpha = rgba.reshape(-1, 4)[density.pixel_index(dense, grid), 3] / 255
    assert dense_alpha.max() == 1.0 and np.median(dense_alpha) >= 0.75


def test_reliability_bins_say_how_many_items_they_hold():
    from components import analytics_slices
    from model import metrics
    from services.slices import SliceReport

    confidence = np.r_[np.full(3, 0.55), np.full(40, 0.95)]  # a bin of three and a bin of forty
    correct = np.r_[[True, False, False], np.ones(40, bool)]
    cal = metrics.calibration(confidence, correct, 2)
    scores = metrics.class_scores(np.zeros(43, int), np.where(correct, 0, 1), 2)
    report = SliceReport(43, 43, correct.mean(), scores, metrics.macro_average(scores), cal)
    fig = analytics_slices.reliability_figure(report)
    bars = [t for t in fig.data if t.type == "bar"]
    texts = {round(float(x), 3): text for bar in bars for x, text in zip(bar.x, bar.text, strict=True)}
    centres = (cal.edges[:-1] + cal.edges[1:]) / 2
    assert texts == {round(float(centres[b]), 3): f"{cal.count[b]:,}" for b in np.flatnonzero(cal.count)}
    few = [bar for bar in bars if len(bar.x) and bar.text == ("3",)]
    assert few and few[0].marker.color != bars[0].marker.color  # the bin of three is marked
    assert "too few" in few[0].hovertemplate and f"< {analytics_slices.FEW_ITEMS}" in few[0].name


def test_the_layer_input_equation_is_written_in_full():
    from components import explanations

    body = explanations.explanation("layer_input").body
    assert "$$W_{gx} x^t + W_{ga} a^{t-1} + b_g$$" in body
    assert not [k for k, e in explanations.EXPLANATIONS.items() if "\\cdot" in e.body]  # no "b·." left


def test_the_progress_label_sits_under_the_bar_not_inside_it():
    from components import progress

    outputs = progress.job("go", "bar", 200)["progress"]
    assert [(o.component_id, o.component_property) for o in outputs] == [
        ("bar", "value"),
        ("bar-text", "children"),
    ]
    wrap = progress.progress_bar("bar", 200)
    assert [c.id for c in wrap.children] == ["bar", "bar-text"]
    assert not getattr(wrap.children[0], "label", None)
