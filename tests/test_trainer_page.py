"""Trainer page callbacks and figure builders called as plain functions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from components import trainer_figures as figs
from model import signals, trainer


@pytest.fixture(scope="module")
def page():
    import app  # noqa: F401  (registers the pages)
    from pages import trainer as trainer_page

    return trainer_page


def _layers_in(component) -> int:
    """How many layer buttons a network diagram draws."""
    found = 0
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if node is None or isinstance(node, str):
            continue
        if "trainer-layer" in (getattr(node, "className", "") or "").split():
            found += 1
        stack.append(getattr(node, "children", None))
    return found


def _ids(component, kind: str) -> list[int]:
    out, stack = [], [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif node is not None and not isinstance(node, str):
            node_id = getattr(node, "id", None)
            if isinstance(node_id, dict) and node_id.get("type") == kind:
                out.append(node_id["index"])
            stack.append(getattr(node, "children", None))
    return sorted(out)


ARGS = ("sine", "lstm", np.log10(0.025), 25, 0.0)


def test_step_play_and_fast_train_the_session(page) -> None:
    sid = "page-steps"
    state, notice, animate = page.handle("trainer-session", sid, *ARGS)
    assert state.epoch == 0 and not animate and notice == ""
    state, _, animate = page.handle("step-button", sid, *ARGS)
    assert state.epoch == 1 and not animate  # a step shows its result at once
    state, _, animate = page.handle("trainer-request", sid, *ARGS, fast=False)
    assert state.epoch == 2 and animate  # a play tick is animated in the browser
    state, _, animate = page.handle("trainer-request", sid, *ARGS, fast=True)
    assert state.epoch >= 3 and not animate
    assert trainer.load_session(sid).epoch == state.epoch
    diagram, result, loss, counter, *_ = page._views(state, "", False)
    assert counter == str(state.epoch)
    assert len(loss["data"][0]["y"]) == state.epoch
    assert result["epoch"] == state.epoch
    json.dumps(result)  # the store payload is plain JSON
    assert _layers_in(diagram) == 3


def test_slider_values_apply_without_reset(page) -> None:
    sid = "page-knobs"
    page.handle("trainer-session", sid, *ARGS)
    state, _, _ = page.handle("step-button", sid, "sine", "lstm", -1.0, 10, 0.2)
    assert state.epoch == 1
    assert state.settings.learning_rate == pytest.approx(0.1)
    assert (state.settings.batch_size, state.settings.noise) == (10, 0.2)


def test_layers_cell_type_data_and_reset_button_reset_training(page) -> None:
    sid = "page-layers"
    trainer.save_session(trainer.new_state(sid, trainer.Settings(layers=2)))
    page.handle("step-button", sid, *ARGS)
    state, notice, _ = page.handle("add-layer", sid, *ARGS)
    assert state.settings.layers == 3 and state.epoch == 0 and "reset" in notice
    page.handle("step-button", sid, *ARGS)
    state, notice, _ = page.handle({"type": "trainer-remove-layer", "index": 0}, sid, *ARGS)
    assert state.settings.layers == 2 and state.epoch == 0 and "reset" in notice
    assert _layers_in(page._views(state, notice, False)[0]) == 2
    state, _, _ = page.handle({"type": "trainer-insert-layer", "index": 1}, sid, *ARGS)
    assert state.settings.layers == 3
    page.handle("step-button", sid, *ARGS)
    state, notice, _ = page.handle("cell-type", sid, "sine", "gru", *ARGS[2:])
    assert state.settings.cell == "gru" and state.epoch == 0 and "cell type" in notice
    page.handle("step-button", sid, "sine", "gru", *ARGS[2:])
    state, notice, _ = page.handle("trainer-input-select", sid, "sawtooth", "gru", *ARGS[2:])
    assert state.settings.data == "sawtooth" and state.epoch == 0 and "data" in notice
    page.handle("step-button", sid, "sawtooth", "gru", *ARGS[2:])
    state, notice, _ = page.handle("reset-button", sid, "sawtooth", "gru", *ARGS[2:])
    assert state.epoch == 0 and state.settings.layers == 3 and notice


def test_layer_count_stays_within_one_to_seven(page) -> None:
    args = ("sine", "simplernn", *ARGS[2:])
    trainer.save_session(trainer.new_state("page-max", trainer.Settings(cell="simplernn", layers=7)))
    state, notice, _ = page.handle("add-layer", "page-max", *args)
    assert state.settings.layers == 7 and "At most 7" in notice
    trainer.save_session(trainer.new_state("page-min", trainer.Settings(cell="simplernn", layers=1)))
    state, _, _ = page.handle({"type": "trainer-remove-layer", "index": 0}, "page-min", *args)
    assert state.settings.layers == 1


def test_slider_labels_hide_noise_for_text(page) -> None:
    lr, batch, noise, style = page.slider_labels(-2.0, 25, 0.1, "sine")
    assert (lr, batch, noise, style) == ("0.01", "25", "± 0.10", {})
    assert page.slider_labels(-2.0, 25, 0.1, "text-ab")[3] == {"display": "none"}


def test_network_diagram_has_loops_plus_and_remove() -> None:
    diagram = figs.network_diagram(3, "lstm", "sine")
    assert _layers_in(diagram) == 3
    assert _ids(diagram, "trainer-layer") == [0, 1, 2]
    assert _ids(diagram, "trainer-remove-layer") == [0, 1, 2]
    assert _ids(diagram, "trainer-insert-layer") == [0, 1, 2, 3]
    full = figs.network_diagram(7, "gru", "text-ab")
    assert _ids(full, "trainer-insert-layer") == []  # no "+" at 7 layers
    assert _ids(figs.network_diagram(1, "lstm", "sine"), "trainer-remove-layer") == []


def test_prediction_figure_draws_input_truth_prediction_window_and_errors() -> None:
    test = signals.function_test_window("sine", np.random.default_rng(0))
    test["predictions"] = test["targets"] + 0.1
    fig = figs.prediction_figure(test, "sine", 4)
    metas = [t["meta"] for t in fig["data"]]
    assert metas == ["truth", "input", "errors", "prediction"]
    pred = fig["data"][3]
    assert len(pred["x"]) == signals.HORIZON and pred["line"]["color"] == figs.BLUE
    errors = fig["data"][2]["y"]
    assert len(errors) == 3 * signals.HORIZON and errors[2] is None
    assert errors[1] - errors[0] == pytest.approx(0.1)
    window = fig["layout"]["shapes"][0]
    assert window["name"] == "window" and window["x1"] - window["x0"] == pytest.approx(
        signals.WINDOW * signals.STEP
    )
    json.dumps(fig)


def test_text_figure_colours_right_and_wrong_characters() -> None:
    test = {"input_text": "lorem ipsum dolor si", "target_text": "t ame", "predicted_text": "t amo"}
    fig = figs.prediction_figure(test, "text-lorem", 2)
    pred = next(t for t in fig["data"] if t["meta"] == "prediction")
    assert pred["textfont"]["color"] == [figs.RIGHT, figs.RIGHT, figs.RIGHT, figs.RIGHT, figs.ERROR]
    inputs = next(t for t in fig["data"] if t["meta"] == "input")
    assert "␣" in inputs["text"]
    assert "4 of 5 right" in fig["layout"]["annotations"][0]["text"]


def test_loss_figure_has_one_point_per_epoch_on_a_log_axis() -> None:
    fig = figs.loss_figure([0.5, 0.2, 0.1], [0.4, 0.3, 0.05])
    assert [len(t["y"]) for t in fig["data"]] == [3, 3]
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert "Train an epoch" in figs.loss_figure([], [])["layout"]["annotations"][0]["text"]


@pytest.mark.parametrize("key", list(signals.FUNCTIONS))
def test_thumbnails_show_exactly_one_period(key: str) -> None:
    svg = figs.function_thumbnail_svg(key)
    points = svg.split('points="')[1].split('"')[0].split()
    first, last = (tuple(map(float, p.split(","))) for p in (points[0], points[-1]))
    assert first[0] == 0 and last[0] == pytest.approx(64)
    assert first[1] == pytest.approx(last[1], abs=0.5)  # the tile wraps seamlessly
    assert figs.svg_data_uri(svg).startswith("data:image/svg+xml")


def test_layout_renders_and_an_example_loads_into_the_session(page) -> None:
    layout = page.layout()
    assert "trainer-example" in json.dumps(layout.to_plotly_json(), default=str)
    out = page.load_example("lr-high", "page-example-session")
    _, result, _, epoch, notice, is_open, *_, lr, batch, noise, data, cell, reset = out
    assert epoch == str(trainer.EXAMPLE_EPOCHS) and is_open and "too high" in notice
    assert lr == pytest.approx(0.0) and (batch, noise, data, cell, reset) == (25, 0.0, "sine", "lstm", None)
    assert trainer.load_session("page-example-session").settings.learning_rate == pytest.approx(1.0)
