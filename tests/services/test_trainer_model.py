"""The trainer's TensorFlow model: it learns, sessions are isolated and resumable, resets happen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from model import signals, trainer
from serving import sessions
from tests.support.servers import ROOT


@pytest.fixture()
def store() -> sessions.DiskSessionStore:
    return sessions.DiskSessionStore()


def _train(state: trainer.TrainerState, epochs: int) -> trainer.TrainerState:
    for _ in range(epochs):
        state = trainer.train_epoch(state)
    return state


@pytest.mark.heavy
def test_sine_with_defaults_lowers_validation_loss_tenfold_and_continues_the_curve() -> None:
    state = trainer.new_state("learn", trainer.Settings(seed=0))
    state = _train(state, 50)
    assert state.epoch == 50 and len(state.val_loss) == len(state.train_loss) == 50
    assert min(state.val_loss[-10:]) <= state.val_loss[0] / 10
    # the last test window's 32-point autoregressive prediction follows the sine
    test = state.test
    error = np.abs(np.asarray(test["predictions"]) - np.asarray(test["targets"]))
    assert error[:8].mean() < 0.15
    assert np.corrcoef(test["predictions"], test["targets"])[0, 1] > 0.8


def test_training_is_deterministic_and_sessions_are_isolated(store) -> None:
    alone = _train(trainer.new_state("alone", trainer.Settings(seed=3, layers=1)), 3)
    a = trainer.new_state("a", trainer.Settings(seed=3, layers=1))
    b = trainer.new_state("b", trainer.Settings(seed=3, layers=1, learning_rate=0.5, data="square"))
    for _ in range(3):  # interleaved on the same per-process compiled engine
        a = trainer.train_epoch(a)
        trainer.save_session(store, a)
        b = trainer.train_epoch(b)
        trainer.save_session(store, b)
    for wa, w_alone in zip(a.weights, alone.weights, strict=True):
        np.testing.assert_allclose(wa, w_alone, rtol=1e-5, atol=1e-6)
    loaded_a, loaded_b = trainer.load_session(store, "a"), trainer.load_session(store, "b")
    assert loaded_a.settings.data == "sine" and loaded_b.settings.data == "square"
    assert not np.allclose(loaded_a.weights[0], loaded_b.weights[0])
    assert loaded_a.train_loss == a.train_loss and loaded_b.train_loss == b.train_loss
    assert trainer.load_session(store, "nobody") is None


@pytest.mark.heavy
def test_fresh_process_resumes_the_session_from_the_cache(store) -> None:
    state = _train(trainer.new_state("resume", trainer.Settings(seed=5, layers=1)), 2)
    trainer.save_session(store, state)
    expected = trainer.train_epoch(state)
    script = (
        "import json, numpy as np; from model import trainer; from serving import sessions;"
        "st = sessions.session_store(); s = trainer.load_session(st, 'resume'); s = trainer.train_epoch(s);"
        "trainer.save_session(st, s);"
        "print(json.dumps({'epoch': s.epoch, 'loss': s.train_loss, 'w': float(np.sum(s.weights[0]))}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["epoch"] == 3
    assert result["loss"] == pytest.approx(expected.train_loss, rel=1e-4)
    assert result["w"] == pytest.approx(float(np.sum(expected.weights[0])), rel=1e-4, abs=1e-5)
    assert trainer.load_session(store, "resume").epoch == 3


@pytest.mark.parametrize(
    "change",
    [{"layers": 2}, {"cell": "gru"}, {"cell": "simplernn"}, {"data": "sawtooth"}, {"data": "text-ab"}],
)
@pytest.mark.heavy
def test_architecture_or_data_change_resets_training(change: dict) -> None:
    state = _train(trainer.new_state("reset", trainer.Settings(layers=1)), 1)
    new, was_reset = trainer.update_settings(state, **change)
    assert was_reset and new.epoch == 0 and new.train_loss == [] and new.optimizer is None
    assert "reset" in new.notice
    for key, value in change.items():
        assert getattr(new.settings, key) == value
    assert len(new.weights) == 3 * new.settings.layers + 2
    assert "predictions" in new.test or "predicted_text" in new.test  # the untrained model's forecast


def test_training_knobs_do_not_reset() -> None:
    state = _train(trainer.new_state("knobs", trainer.Settings(layers=1)), 1)
    new, was_reset = trainer.update_settings(state, learning_rate=0.5, batch_size=10, noise=0.2)
    assert not was_reset and new.epoch == 1 and new.weights is state.weights
    assert new.settings.learning_rate == 0.5 and new.settings.batch_size == 10


def test_settings_are_clipped() -> None:
    s = trainer.Settings(
        layers=99, learning_rate=5, batch_size=1, noise=3, cell="bogus", data="nope"
    ).validated()
    assert (s.layers, s.learning_rate, s.batch_size, s.noise, s.cell, s.data) == (
        7,
        1.0,
        5,
        0.4,
        "lstm",
        "sine",
    )


def test_text_mode_predicts_characters_and_feeds_back_one_hot() -> None:
    state = _train(trainer.new_state("text", trainer.Settings(data="text-ab", layers=1, seed=1)), 6)
    test = state.test
    assert len(test["predicted_text"]) == signals.TEXT_HORIZON
    assert set(test["predicted_text"]) <= set("ab")
    assert state.test_inputs.shape == (1, signals.TEXT_WINDOW, 2)
    assert test["predicted_text"] == test["target_text"]  # "abab…" is learnt within a few epochs


@pytest.mark.heavy
def test_build_model_carries_the_state_weights() -> None:
    state = _train(trainer.new_state("build", trainer.Settings(layers=2, cell="gru")), 1)
    model = trainer.build_model(state)
    assert [layer.name for layer in model.layers][1:] == ["rnn_0", "rnn_1", "output"]
    for got, want in zip(model.get_weights(), state.weights, strict=True):
        np.testing.assert_array_equal(got, want)
    assert state.test_inputs.shape == (1, signals.WINDOW, 1)
    # the model's one-step prediction equals the first point of the state's rollout
    fresh = replace(state, test=state.test)
    first = float(model(fresh.test_inputs)[0, 0])
    with trainer.engine_for(state.settings) as engine:
        engine.load(state)
        rolled = engine.rollout(state.test_inputs).numpy()[0, 0]
    assert first == pytest.approx(float(rolled), abs=1e-5)


@pytest.mark.heavy
def test_pretrained_examples_show_the_effect_of_the_learning_rate(store) -> None:
    low = trainer.example_state("lr-low")
    good = trainer.example_state("lr-good")
    assert low.epoch == good.epoch == trainer.EXAMPLE_EPOCHS
    assert low.settings.learning_rate == pytest.approx(1e-4) and good.settings.learning_rate == pytest.approx(
        0.01
    )
    # Too low a rate barely moves in 25 epochs; a good one learns.
    assert good.val_loss[-1] < low.val_loss[-1] / 3
    loaded = trainer.load_example(store, "learner-a", "lr-good")
    assert loaded.sid == "learner-a" and "learning rate about right" in loaded.notice
    saved = trainer.load_session(store, "learner-a")
    assert saved.epoch == good.epoch
    np.testing.assert_array_equal(saved.weights[0], good.weights[0])
    assert trainer.load_session(store, "learner-b") is None


@pytest.mark.heavy
def test_learners_with_the_same_architecture_never_wait_for_each_other() -> None:
    """While one request holds an engine, another learner of that architecture trains on its own."""
    import threading

    settings = trainer.Settings(layers=1, cell="gru")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with trainer.engine_for(settings):
            holding.set()
            release.wait(300)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(300)
        other = trainer.train_epoch(trainer.new_state("other", settings))  # would block on a shared lock
        assert other.epoch == 1
    finally:
        release.set()
        holder.join(300)


@pytest.mark.heavy
def test_parallel_sessions_train_exactly_as_alone() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def run(seed: int) -> trainer.TrainerState:
        return _train(trainer.new_state(f"par-{seed}", trainer.Settings(seed=seed, layers=2)), 3)

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(run, range(4)))
    for seed, state in enumerate(together):
        alone = run(seed)
        assert state.train_loss == pytest.approx(alone.train_loss, rel=1e-4)
        for got, want in zip(state.weights, alone.weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_model_trainer_does_not_import_serving() -> None:
    """The session store is injected: the model imports no deployment code and keeps no store of its own."""
    import ast

    for name in ("trainer.py", "trainer_engine.py"):
        tree = ast.parse((ROOT / "model" / name).read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(module.split(".")[0] == "serving" for module in imported), name
    assert not hasattr(trainer, "CacheSessionStore") and not hasattr(trainer, "session_store")
