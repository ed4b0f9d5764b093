"""The trainer's data: the four functions, their periods, noise on inputs only, text windows."""

from __future__ import annotations

import numpy as np
import pytest

from model import signals

X = np.linspace(-7.0, 11.0, 901)


def test_functions_match_their_formulas() -> None:
    assert np.allclose(signals.function_values("sine", X), np.sin(X))
    assert np.allclose(signals.function_values("sawtooth", X), -1 + 2 * (np.mod(X, np.pi) / np.pi))
    assert np.allclose(signals.function_values("square", X), np.sign(np.sin(np.pi * X / 2)))
    assert np.allclose(signals.function_values("composite", X), (np.sin(1.5 * X) + np.sin(4.5 * X)) * 2 / 3)


@pytest.mark.parametrize(
    ("key", "period"),
    [("sine", 2 * np.pi), ("sawtooth", np.pi), ("square", 4.0), ("composite", 4 * np.pi / 3)],
)
def test_periods(key: str, period: float) -> None:
    fn = signals.FUNCTIONS[key]
    assert fn.period == pytest.approx(period)
    x = X + 0.0137  # keep clear of the square wave's zero crossings and the sawtooth's jumps
    jumps = np.isclose(np.mod(x, np.pi), 0, atol=1e-6) | np.isclose(np.mod(x + period, np.pi), 0, atol=1e-6)
    same = np.isclose(signals.function_values(key, x), signals.function_values(key, x + period), atol=1e-9)
    assert same[~jumps].all()
    # and no shorter period among simple fractions of it
    for fraction in (0.5, 1 / 3, 0.25):
        assert not np.allclose(
            signals.function_values(key, x), signals.function_values(key, x + period * fraction)
        )


def test_composite_peaks_just_beyond_tanh_range() -> None:
    peak = np.abs(signals.function_values("composite", np.linspace(0, 4 * np.pi / 3, 20001))).max()
    assert peak == pytest.approx(1.026, abs=0.002)


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.4])
def test_noise_stays_within_bound_and_never_touches_targets(noise: float) -> None:
    rng = np.random.default_rng(1)
    clean_rng = np.random.default_rng(1)
    inputs, targets = signals.function_windows("sine", rng, count=100, noise=noise)
    clean_inputs, clean_targets = signals.function_windows("sine", clean_rng, count=100, noise=0.0)
    assert inputs.shape == (100, signals.WINDOW, 1) and targets.shape == (100, 1)
    deviation = np.abs(inputs - clean_inputs)
    assert deviation.max() <= noise + 1e-6
    if noise:
        assert deviation.max() > noise / 2  # noise really is there
    np.testing.assert_array_equal(targets, clean_targets)
    # each label is the noise-free value one step after its window; starts span one period
    phase = np.random.default_rng(1).uniform(0.0, 2 * np.pi)
    starts = phase + np.arange(100) * 2 * np.pi / 100
    np.testing.assert_allclose(targets[:, 0], np.sin(starts + signals.STEP * signals.WINDOW), atol=1e-6)
    np.testing.assert_allclose(clean_inputs[:, 0, 0], np.sin(starts), atol=1e-6)


def test_noise_is_clipped_to_its_slider_range() -> None:
    rng = np.random.default_rng(3)
    noisy = signals.add_noise(np.zeros(10_000), 5.0, rng)
    assert np.abs(noisy).max() <= signals.MAX_NOISE


def test_test_window_has_random_phase_and_clean_targets() -> None:
    test = signals.function_test_window("sine", np.random.default_rng(5), noise=0.3)
    assert len(test["x"]) == signals.WINDOW + signals.HORIZON
    assert 0 <= test["x"][0] < np.pi
    assert np.allclose(np.diff(test["x"]), signals.STEP)
    assert np.allclose(test["targets"], np.sin(test["x"][signals.WINDOW :]))
    assert np.allclose(test["clean_inputs"], np.sin(test["x"][: signals.WINDOW]))
    assert np.abs(test["inputs"] - test["clean_inputs"]).max() <= 0.3


def test_text_windows_are_one_hot_with_next_character() -> None:
    vocab = signals.vocabulary("text-lorem")
    assert vocab[:5] == list("lorem")
    assert len(signals.vocabulary("text-ab")) == 2
    assert len(signals.TEXTS["text-ab"][1]) == 744
    x, y = signals.text_windows("text-ab", np.random.default_rng(0), count=16)
    assert x.shape == (16, signals.TEXT_WINDOW, 2) and y.shape == (16, 2)
    assert np.all(x.sum(axis=-1) == 1) and np.all(y.sum(axis=-1) == 1)
    # in "abab…" the next character is always the other one
    assert np.all(x[:, -1, :] != y)


def test_text_test_window_and_space_symbol() -> None:
    test = signals.text_test_window("text-lorem", np.random.default_rng(4))
    text = signals.TEXTS["text-lorem"][1]
    assert text[test["start"] : test["start"] + 25] == test["input_text"] + test["target_text"]
    assert len(test["input_text"]) == 20 and len(test["target_text"]) == 5
    assert signals.display_char(" ") == "␣" and signals.display_char("a") == "a"
