"""Cell view figures, explanations and tour data (pure; no server, no TensorFlow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from components import cell_view, cell_view_figures, cell_view_geometry, tour
from components import explanations as ex
from model import celltrace, signals, trainer

# The diagram as drawn in the cell view (lg=8 column of the 1360 px panel; 430 px high).
PX_PER_X = 860 / (cell_view_geometry.X_RANGE[1] - cell_view_geometry.X_RANGE[0])
PX_PER_Y = 422 / (cell_view_geometry.Y_RANGE[1] - cell_view_geometry.Y_RANGE[0])


@pytest.mark.parametrize("cell_type", ["lstm", "gru", "simplernn"])
def test_diagram_has_a_strip_per_vector_and_every_part_explains_itself(cell_type: str) -> None:
    fig = cell_view.cell_figure(cell_type, 1, 3)
    strips = [t for t in fig.data if (t.meta or {}).get("role") == "strip"]
    shown = {t.meta["part"] for t in strips} | {t.meta["before"] for t in strips if t.meta["before"]}
    assert shown == set(celltrace.PARTS[cell_type])  # every traced vector has its strip
    for strip in strips:
        assert len(strip.x) == 17 and len(strip.z[0]) == 16  # 16 units (edges: 17)
        assert strip.meta["explain"] in ex.EXPLANATIONS
    nodes = next(t for t in fig.data if (t.meta or {}).get("role") == "nodes")
    assert all(key in ex.EXPLANATIONS for _, key in nodes.customdata)
    symbols = dict(zip(nodes.meta["keys"], nodes.marker.symbol, strict=True))
    memory = "c" if cell_type == "lstm" else "mix" if cell_type == "gru" else None
    if memory:
        assert symbols[memory] == "square"  # the memory is the square icon
    assert {s for k, s in symbols.items() if k != memory} == {"circle"}  # gates are round
    names = {s["name"] for s in fig.layout.shapes}
    assert {"left_box", "right_box", "loop_a"} <= names  # neighbours and the output loop
    if cell_type == "lstm":
        assert "loop_c" in names  # the cell state's own loop


def test_lstm_sub_steps_light_up_in_the_issues_order() -> None:
    parts = cell_view.substep_parts("lstm")
    assert [p["nodes"] for p in parts] == [
        ["x", "a_prev", "in"],  # 1 receive the layer input
        ["f", "i", "g", "o"],  # 2 gate activations
        ["c"],  # 3 cell-state update
        ["a"],  # 4 output
    ]
    assert "loop_c" in parts[2]["edges"] and "loop_a" in parts[3]["edges"]
    assert cell_view.SUBSTEP_TITLES[0].startswith("Receive") and len(cell_view.SUBSTEP_TITLES) == 4


def _fake_trace(steps: int, predicted: int, features: int = 1, units: int = 16) -> dict:
    rng = np.random.default_rng(0)

    def rows(n: int, width: int = units) -> list:
        return rng.uniform(-1, 1, (n, width)).tolist()

    layer = {
        "cell_type": "lstm",
        "units": units,
        "steps": steps,
        "values": {k: rows(steps, features if k == "x" else units) for k in celltrace.PARTS["lstm"]},
        "grad_a": rows(steps),
        "grad_c": rows(steps),
        "grad_norm": [0.1] * steps,
        "check_error": 1e-7,
    }
    if predicted:
        layer["rollout"] = {
            k: rows(predicted, features if k == "x" else units) for k in celltrace.PARTS["lstm"]
        }
    trace = {"layers": [layer, layer], "prediction": [0.3], "loss": 0.1, "check_error": 1e-7}
    trace["rollout_predictions"] = rows(predicted + 1, features)
    return trace


def test_payload_is_json_and_small() -> None:
    steps = 15
    trace = _fake_trace(steps, signals.HORIZON)
    payload = cell_view.payload(trace, 1, celltrace.frames(steps), {"kind": "function"})
    text = json.dumps(payload)
    assert len(text) < 100_000  # 47 steps of every vector, rounded to 4 decimals
    assert payload["frames"][0] == {"phase": "forward", "t": 0, "sub": 0}
    assert set(payload["arrows"]) == set(payload["edge_sub"])


def test_step_through_covers_the_window_and_the_32_predicted_steps() -> None:
    steps, ahead = signals.WINDOW, signals.HORIZON
    trace = _fake_trace(steps, ahead)
    payload = cell_view.payload(trace, 0, celltrace.frames(steps), {"kind": "function"})
    frames = payload["frames"]
    forward_t = {f["t"] for f in frames if f["phase"] == "forward"}
    predict_t = [f["t"] for f in frames if f["phase"] == "predict"]
    assert forward_t | set(predict_t) == set(range(steps + ahead))  # 15 + 32 time steps
    assert predict_t == list(range(steps, steps + ahead)) and payload["predicted"] == ahead
    assert (
        frames[-1]["phase"] == "predict"
        and frames[celltrace.phase_start(steps, "predict", ahead)]["t"] == steps
    )
    for part, rows in payload["values"].items():  # every vector has a row for each of the 47 steps
        assert len(rows) == steps + ahead, part
    np.testing.assert_allclose(
        payload["values"]["a"][steps], trace["layers"][0]["rollout"]["a"][0], atol=1e-4
    )
    assert len(payload["ahead"]) == ahead + 1 and isinstance(payload["ahead"][0], float)
    # frames already holding the predicted steps are kept as they are
    again = cell_view.payload(trace, 0, celltrace.frames(steps, ahead), {"kind": "function"})
    assert again["frames"] == frames
    # a trace without the rollout (an older cached one) steps through the window only
    old = _fake_trace(steps, 0)
    assert {f["phase"] for f in cell_view.payload(old, 0, celltrace.frames(steps), {})["frames"]} == {
        "forward",
        "error",
        "backward",
    }


def test_text_payload_names_the_predicted_characters() -> None:
    vocab = signals.vocabulary("text-lorem")
    window = "lorem ipsum dolor si"
    steps, ahead = len(window), signals.TEXT_HORIZON
    trace = _fake_trace(steps, ahead, features=len(vocab))
    trace["layers"][0]["values"]["x"] = np.eye(len(vocab))[[vocab.index(c) for c in window]].tolist()
    picks = "t ame!"[: ahead + 1].replace("!", "e")
    trace["rollout_predictions"] = np.eye(len(vocab))[[vocab.index(c) for c in picks]].tolist()
    data = {"kind": "text", "inputs": list(window), "target": "t"}
    payload = cell_view.payload(trace, 1, celltrace.frames(steps), data)
    assert payload["ahead"] == [signals.display_char(c) for c in picks]  # vocabulary found from the window
    assert cell_view.payload(trace, 1, [], {**data, "vocab": vocab})["ahead"] == payload["ahead"]


def test_explanations_cover_the_originals_22_topics_with_maths() -> None:
    topics = [key for keys in ex.ORIGINAL_TOPICS.values() for key in keys]
    assert len(topics) == 22 and len(set(topics)) == 22
    assert [
        len(ex.ORIGINAL_TOPICS[g]) for g in ("heading", "phase", "substep", "slider", "control", "element")
    ] == [
        5,
        3,
        4,
        3,
        1,
        6,
    ]
    for key in topics:
        entry = ex.explanation(key)
        assert entry.title and len(entry.body) > 80
    for key in ("sub_gates", "sub_state", "sub_output", "input_gate", "forget_gate", "cell_state"):
        assert "$" in ex.explanation(key).body  # typeset equation
    assert ex.info("forget_gate").children[0].id == "info-forget-gate"


def test_tour_steps_file_is_in_sync_and_well_formed() -> None:
    assert tour.STEPS_FILE.read_text(encoding="utf-8") == tour.steps_script(), "run python -m components.tour"
    assert len(tour.TRAINER_TOUR) >= 20 and 5 <= len(tour.ANALYTICS_TOUR) < len(tour.TRAINER_TOUR)
    for steps in (tour.TRAINER_TOUR, tour.ANALYTICS_TOUR):
        for step in steps:
            assert step["title"] and step["body"]
            assert set(step) <= {
                "target",
                "title",
                "body",
                "wait",
                "click",
                "set",
                "placement",
                "actions",
                "prepare",
            }
            prepare = step.get("prepare")
            if prepare:  # a run of assets/tour.js's PREPARE, saying what it waits for
                assert prepare["run"] in {"until", "frame", "select"} and prepare["note"]
                assert prepare["run"] != "until" or prepare["selector"]
            for action in step.get("actions", []):
                assert action["label"] and action["set"] and set(action) == {"label", "set"}
                example = action["set"].get("trainer-example", {}).get("value")
                assert example is None or example in trainer.EXAMPLES
    waits = [s for s in tour.TRAINER_TOUR if "wait" in s]
    assert waits and all(s["wait"]["epochs"] >= 1 for s in waits)
    cell_ids = {
        "cell-diagram",
        "cell-step-button",
        "cell-phase",
        "cell-speed",
        "cell-grad-graph",
        "cell-sub-1",
    }
    targets = {s["target"] for s in tour.TRAINER_TOUR}
    assert {"cell-diagram", "cell-step-button", "cell-phase", "cell-speed"} <= targets
    layout = json.dumps(cell_view.cell_view_layout().to_plotly_json(), default=lambda o: o.to_plotly_json())
    for cid in cell_ids:
        assert f'"{cid}"' in layout


def _label_box(label: cell_view_geometry.Label) -> tuple[float, float, float, float]:
    """The label's box in data units, as drawn (about 0.6 em a character, 1.2 em high)."""
    width = 0.62 * label.size * len(label.text) / PX_PER_X
    height = 1.2 * label.size / PX_PER_Y
    left = {"left": label.x, "right": label.x - width, "center": label.x - width / 2}[label.xanchor]
    return left, left + width, label.y - height / 2, label.y + height / 2


@pytest.mark.parametrize("cell_type", ["lstm", "gru", "simplernn"])
def test_no_connection_crosses_a_label(cell_type: str) -> None:
    """E.g. the gates' arrows meet under the memory square: its name goes beside it."""
    _, _, edges = cell_view_geometry.diagram(cell_type)
    labels = cell_view_geometry.node_labels(cell_type)
    assert {lab.text for lab in labels} >= {"output aₜ", "aₜ₋₁"}
    for label in labels:
        x0, x1, y0, y1 = _label_box(label)
        for edge in edges:
            for x, y in cell_view_geometry.segments(edge, samples=60):
                assert not (x0 <= x <= x1 and y0 <= y <= y1), f"{edge.key} crosses the label {label.text!r}"
    fig = cell_view.cell_figure(cell_type, 0, 2)
    drawn = {a.text: (a.x, a.y) for a in fig.layout.annotations if a.name == "label"}
    assert all(drawn[lab.text] == (lab.x, lab.y) for lab in labels)  # the figure draws these labels


def test_segments_follow_lines_and_curves() -> None:
    loop = cell_view_geometry.Path("p", "M 0,0 L 1,0 C 1,1 2,1 2,0", 0, (0, 0, 0, 0))
    points = cell_view_geometry.segments(loop, samples=4)
    assert points[0] == (0.0, 0.0) and points[4] == (1.0, 0.0) and points[-1] == pytest.approx((2.0, 0.0))
    assert max(y for _, y in points) == pytest.approx(0.75)  # the Bezier's apex


@pytest.mark.parametrize("cell_type", ["lstm", "gru", "simplernn"])
def test_strips_have_a_colour_scale_each_kind(cell_type: str) -> None:
    fig = cell_view.cell_figure(cell_type, 0, 1)
    strips = [t for t in fig.data if (t.meta or {}).get("role") == "strip"]
    scales = {t.meta["scale"]: t for t in fig.data if (t.meta or {}).get("role") == "scale"}
    assert {s.meta["scale"] for s in strips} == set(scales)
    assert set(scales) == ({"signed"} if cell_type == "simplernn" else {"gate", "signed"})
    for strip in strips:  # the bar shows the strip's own colours and range
        bar = scales[strip.meta["scale"]].marker
        assert bar.showscale and [list(c) for c in bar.colorscale] == [list(c) for c in strip.colorscale]
        assert (bar.cmin, bar.cmax) == (strip.zmin, strip.zmax)
    # the bars sit in the empty top-left corner: left of the cell's frame, above the input's strip
    width = cell_view_geometry.X_RANGE[1] - cell_view_geometry.X_RANGE[0]
    height = cell_view_geometry.Y_RANGE[1] - cell_view_geometry.Y_RANGE[0]
    frame = next(s for s in fig.layout.shapes if s.name == "frame")
    for trace in scales.values():
        bar = trace.marker.colorbar
        right = cell_view_geometry.X_RANGE[0] + (bar.x + bar.len) * width
        bottom = cell_view_geometry.Y_RANGE[0] + bar.y * height - (bar.thickness + 24) / PX_PER_Y
        assert bar.orientation == "h" and right < frame.x0
        assert bottom > 4.3  # above the x strip (3.3) and the neighbour's loop (4.1)
        assert trace.x[0] < cell_view_geometry.X_RANGE[0]  # its marker is off the axes


def test_empty_gradient_chart_says_why() -> None:
    fig = cell_view.gradient_figure(15)
    assert all(y is None for y in fig.data[0].y)
    notes = [a.text for a in fig.layout.annotations if a.name == "note"]
    assert len(notes) == 1 and "backward" in notes[0]
    assert set(cell_view_figures.GRAD_NOTES) == {"forward", "error", "predict"}


def test_phases_include_predicting_ahead() -> None:
    layout = json.dumps(cell_view.cell_view_layout().to_plotly_json(), default=lambda o: o.to_plotly_json())
    for phase in celltrace.PHASES:
        assert f'"cell-phase-label-{phase}"' in layout and f'"value": "{phase}"' in layout
