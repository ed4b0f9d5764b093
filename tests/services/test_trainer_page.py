"""Trainer page callbacks and figure builders called as plain functions."""

from __future__ import annotations

import json
from dataclasses import replace

import dash
import numpy as np
import pytest

from components import trainer_figures as figs
from model import signals, trainer
from services import trainer as service
from serving import sessions

STORE = sessions.DiskSessionStore()
SERVICE = service.TrainerService(STORE)


@pytest.fixture(scope="module")
def page():
    """The trainer's session callbacks (the app imported first, so every card is registered)."""
    import app  # noqa: F401  (registers the pages)
    from components.cards import trainer_session

    return trainer_session


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
    state, notice, animate = SERVICE.handle("trainer-session", sid, *ARGS)
    assert state.epoch == 0 and not animate and notice == ""
    state, _, animate = SERVICE.handle("step-button", sid, *ARGS)
    assert state.epoch == 1 and not animate  # a step shows its result at once
    state, _, animate = SERVICE.handle("trainer-request", sid, *ARGS, fast=False)
    assert state.epoch == 2 and animate  # a play tick is animated in the browser
    state, _, animate = SERVICE.handle("trainer-request", sid, *ARGS, fast=True)
    assert state.epoch >= 3 and not animate
    assert trainer.load_session(STORE, sid).epoch == state.epoch
    views = page.views(state, "", False)
    diagram, result, loss, counter = views["diagram"], views["result"], views["loss"], views["epoch"]
    assert counter == str(state.epoch)
    assert len(loss["data"][0]["y"]) == state.epoch
    assert result["epoch"] == state.epoch
    json.dumps(result)  # the store payload is plain JSON
    assert _layers_in(diagram) == 3


def test_slider_values_apply_without_reset(page) -> None:
    sid = "page-knobs"
    SERVICE.handle("trainer-session", sid, *ARGS)
    state, _, _ = SERVICE.handle("step-button", sid, "sine", "lstm", -1.0, 10, 0.2)
    assert state.epoch == 1
    assert state.settings.learning_rate == pytest.approx(0.1)
    assert (state.settings.batch_size, state.settings.noise) == (10, 0.2)


@pytest.mark.heavy
def test_layers_cell_type_data_and_reset_button_reset_training(page) -> None:
    sid = "page-layers"
    trainer.save_session(STORE, trainer.new_state(sid, trainer.Settings(layers=2)))
    SERVICE.handle("step-button", sid, *ARGS)
    state, notice, _ = SERVICE.handle("add-layer", sid, *ARGS)
    assert state.settings.layers == 3 and state.epoch == 0 and "reset" in notice
    SERVICE.handle("step-button", sid, *ARGS)
    state, notice, _ = SERVICE.handle({"type": "trainer-remove-layer", "index": 0}, sid, *ARGS)
    assert state.settings.layers == 2 and state.epoch == 0 and "reset" in notice
    assert _layers_in(page.views(state, notice, False)["diagram"]) == 2
    state, _, _ = SERVICE.handle({"type": "trainer-insert-layer", "index": 1}, sid, *ARGS)
    assert state.settings.layers == 3
    SERVICE.handle("step-button", sid, *ARGS)
    state, notice, _ = SERVICE.handle("cell-type", sid, "sine", "gru", *ARGS[2:])
    assert state.settings.cell == "gru" and state.epoch == 0 and "cell type" in notice
    SERVICE.handle("step-button", sid, "sine", "gru", *ARGS[2:])
    state, notice, _ = SERVICE.handle("trainer-input-select", sid, "sawtooth", "gru", *ARGS[2:])
    assert state.settings.data == "sawtooth" and state.epoch == 0 and "data" in notice
    SERVICE.handle("step-button", sid, "sawtooth", "gru", *ARGS[2:])
    state, notice, _ = SERVICE.handle("reset-button", sid, "sawtooth", "gru", *ARGS[2:])
    assert state.epoch == 0 and state.settings.layers == 3 and notice


@pytest.mark.heavy
def test_layer_count_stays_within_one_to_seven(page) -> None:
    args = ("sine", "simplernn", *ARGS[2:])
    trainer.save_session(STORE, trainer.new_state("page-max", trainer.Settings(cell="simplernn", layers=7)))
    state, notice, _ = SERVICE.handle("add-layer", "page-max", *args)
    assert state.settings.layers == 7 and "At most 7" in notice
    trainer.save_session(STORE, trainer.new_state("page-min", trainer.Settings(cell="simplernn", layers=1)))
    state, _, _ = SERVICE.handle({"type": "trainer-remove-layer", "index": 0}, "page-min", *args)
    assert state.settings.layers == 1


@pytest.mark.heavy
def test_units_per_layer_rebuild_the_model_and_show_everywhere(page) -> None:
    sid = "page-units"
    SERVICE.handle("trainer-session", sid, *ARGS)
    SERVICE.handle("step-button", sid, *ARGS)
    outcome = SERVICE.handle("trainer-units", sid, *ARGS, units=32)
    state, notice, _ = outcome
    assert outcome.rebuilt and state.settings.units == 32 and state.epoch == 0 and "units per layer" in notice
    assert state.weights[1].shape == (32, 4 * 32)  # the first LSTM layer's recurrent kernel
    state, *_ = SERVICE.handle("step-button", sid, *ARGS, units=32)
    assert state.epoch == 1 and state.settings.units == 32
    state, *_ = SERVICE.handle("step-button", sid, *ARGS)  # no units given: the session's width stays
    assert state.epoch == 2 and state.settings.units == 32
    views = page.views(state, "", False)
    assert "× 32 units" in views["layers"] and "32 units" in json.dumps(
        views["diagram"].to_plotly_json(), default=str
    )
    trace, traced = SERVICE.layer_trace(sid)
    assert traced.epoch == 2 and len(trace["layers"][0]["values"]["a"][0]) == 32
    state, *_ = SERVICE.handle("trainer-session", sid, *ARGS, units=4)  # a pending change comes first
    assert state.settings.units == 4 and state.epoch == 0


def test_units_are_bounded_by_the_schema() -> None:
    from services import schemas
    from services.validation import InvalidInput

    fields = {"tab": None, "view": None, "trigger": "trainer-units"}
    assert schemas.TRAINER_UPDATE.check(**fields, units=None)["units"] == 16
    assert schemas.TRAINER_UPDATE.check(**fields, units=64)["units"] == 64
    for bad in (3, 65, 16.5, "many", True, float("nan")):
        with pytest.raises(InvalidInput, match="Units per layer"):
            schemas.TRAINER_UPDATE.check(**fields, units=bad)
    assert trainer.Settings(units=1000).validated().units == service.MAX_UNITS


def test_slider_labels_hide_noise_for_text(page) -> None:
    from components.cards.trainer_training_card import slider_labels

    out = slider_labels(lr_log=-2.0, batch=25, noise=0.1, data="sine")
    assert (out["lr"], out["batch"], out["noise"], out["noise_style"]) == ("0.01", "25", "± 0.10", {})
    assert slider_labels(lr_log=-2.0, batch=25, noise=0.1, data="text-ab")["noise_style"] == {
        "display": "none"
    }
    refused = slider_labels(lr_log=100000000, batch=25, noise=0.1, data="sine")
    assert refused["notice_open"] and "Learning rate" in refused["notice"] and refused["lr"] == "?"


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


@pytest.mark.heavy
def test_layout_renders_and_an_example_loads_into_the_session(page) -> None:
    import flask

    import app
    from pages import trainer as trainer_page

    layout = trainer_page.layout()
    text = json.dumps(layout.to_plotly_json(), default=str)
    assert "trainer-example" in text and "trainer-view" in text
    tab = "ab" * 16
    with app.server.test_request_context("/"):
        flask.g.rnnx_session = "cd" * 16
        out = page.load_example(name="lr-high", tab=tab)
        unknown = page.load_example(name="lr-bogus", tab=tab)
    assert out["epoch"] == str(trainer.EXAMPLE_EPOCHS) and out["notice_open"] and "too high" in out["notice"]
    assert out["lr_log"] == pytest.approx(0.0)
    assert (out["batch"], out["noise"], out["data"], out["cell"], out["example"]) == (
        25,
        0.0,
        "sine",
        "lstm",
        None,
    )
    saved = trainer.load_session(STORE, f"{'cd' * 16}-{tab}")
    assert saved.settings.learning_rate == pytest.approx(1.0)
    assert "Example must be one of" in unknown["notice"] and unknown["epoch"] is dash.no_update


@pytest.mark.heavy
def test_step_clicks_are_counted_per_page_view_so_none_is_lost_or_trained_twice(page) -> None:
    sid, view, reload = "page-clicks", "1" * 32, "2" * 32
    SERVICE.handle("trainer-session", sid, *ARGS, clicks=0, view=view)
    state, *_ = SERVICE.handle("step-button", sid, *ARGS, clicks=3, view=view)  # requests 1, 2 superseded
    assert state.epoch == 3
    state, *_ = SERVICE.handle("step-button", sid, *ARGS, clicks=2, view=view)  # a late, older request
    assert state.epoch == 3
    # a click made before "add layer" whose own request never came: trained first, then the reset
    state, notice, _ = SERVICE.handle("add-layer", sid, *ARGS, clicks=4, view=view)
    assert state.settings.layers == 4 and state.epoch == 0 and "reset" in notice
    state, *_ = SERVICE.handle("trainer-session", sid, *ARGS, clicks=None, view=reload)  # a reloaded page
    assert state.epoch == 0
    state, *_ = SERVICE.handle("step-button", sid, *ARGS, clicks=1, view=reload)
    assert state.epoch == 1
    state, *_ = SERVICE.handle("step-button", sid, *ARGS, clicks=10**9, view=reload)  # bounded catch-up
    assert state.epoch == 1 + service.MAX_CATCH_UP
    assert trainer.load_session(STORE, sid).epoch == state.epoch


def test_demo_mode_never_trains(page, monkeypatch) -> None:
    sid = "page-demo"
    SERVICE.handle("trainer-session", sid, *ARGS)
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")
    for trigger, fast in (("step-button", False), ("trainer-request", False), ("trainer-request", True)):
        outcome = SERVICE.handle(trigger, sid, *ARGS, fast=fast, clicks=5, view="3" * 32)
        state, notice, animate = outcome
        assert state.epoch == 0 and not animate
        assert notice.startswith("This is a read-only demo: load a pretrained example")
    assert outcome.halt  # play stops
    assert trainer.load_session(STORE, sid).epoch == 0


def test_a_diverged_epoch_keeps_the_previous_weights(page) -> None:
    sid = "page-diverge"
    state, *_ = SERVICE.handle("trainer-session", sid, *ARGS)
    state, *_ = SERVICE.handle("step-button", sid, *ARGS)
    broken = [np.full_like(v, np.nan) if v.ndim == 2 else v for v in state.optimizer]  # corrupt RMSprop slots
    trainer.save_session(STORE, trainer.carry_steps(replace(state, optimizer=broken), state))
    with pytest.raises(trainer.TrainingDiverged):
        trainer.train_epoch(replace(state, optimizer=broken))
    outcome = SERVICE.handle("step-button", sid, *ARGS)
    after, notice, _ = outcome
    assert after.epoch == 1 and "diverged" in notice and "learning rate" in notice and outcome.halt
    saved = trainer.load_session(STORE, sid)
    assert saved.epoch == 1 and all(np.isfinite(w).all() for w in saved.weights)
    for got, want in zip(saved.weights, state.weights, strict=True):
        np.testing.assert_array_equal(got, want)


def test_sessions_and_cell_traces_live_in_the_sessions_cache_never_among_results(page) -> None:
    from model import cache

    results = len(cache.get_cache())
    key = "ef" * 16 + "-" + "01" * 16
    state, *_ = SERVICE.handle("trainer-session", key, *ARGS)
    assert cache.sessions_cache().get(sessions.PREFIX + key) is not None
    trace, traced = SERVICE.layer_trace(key)
    assert traced.epoch == state.epoch and len(trace["layers"]) == 3
    assert len(cache.get_cache()) == results  # nothing per-session among the prepared results


def test_a_lock_left_by_a_dead_process_is_broken() -> None:
    import os
    import socket
    import subprocess
    import sys

    from model import cache

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    owner = f"{socket.gethostname()}:{int(gone.stdout)}:dead"
    cache.sessions_cache().set(f"lock:{sessions.PREFIX}orphan", owner, expire=600)
    with STORE.lock("orphan"):  # taken at once, not after the lock's expiry
        STORE.put("orphan", {"pid": os.getpid()})
    assert STORE.get("orphan") == {"pid": os.getpid()}
