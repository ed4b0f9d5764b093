"""Cell view figures, explanations and tour data (pure; no server, no TensorFlow)."""

from __future__ import annotations

import json

import pytest

from components import cell_view, tour
from components import explanations as ex
from model import celltrace, trainer


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


def test_payload_is_json_and_small() -> None:
    steps, units = 15, 16
    vec = [[0.1] * units] * steps
    layer = {
        "cell_type": "lstm",
        "units": units,
        "steps": steps,
        "values": {k: vec if k != "x" else [[0.2]] * steps for k in celltrace.PARTS["lstm"]},
        "grad_a": vec,
        "grad_c": vec,
        "grad_norm": [0.1] * steps,
        "check_error": 1e-7,
    }
    trace = {"layers": [layer, layer], "prediction": [0.3], "loss": 0.1, "check_error": 1e-7}
    payload = cell_view.payload(trace, 1, celltrace.frames(steps), {"kind": "function"})
    text = json.dumps(payload)
    assert len(text) < 60_000
    assert payload["frames"][0] == {"phase": "forward", "t": 0, "sub": 0}
    assert set(payload["arrows"]) == set(payload["edge_sub"])


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
            assert set(step) <= {"target", "title", "body", "wait", "click", "set", "placement", "actions"}
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
