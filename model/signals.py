"""Training data for the trainer: four periodic functions and two short texts.

Functions are sampled every ``STEP`` on the x axis (radians).  A training
window holds ``WINDOW`` points and its label is the next, noise-free value;
noise (uniform, ±``noise``) is added to the inputs only.  Text is one-hot
encoded by order of first appearance; ``TEXT_WINDOW`` characters predict the
next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STEP = 0.2
WINDOW = 15
HORIZON = 32
TRAIN_WINDOWS = 100
VALIDATION_WINDOWS = 50
TEXT_WINDOW = 20
TEXT_HORIZON = 5
TEXT_SAMPLES = 256
TEXT_VALIDATION = 64
MAX_NOISE = 0.4
SPACE_SYMBOL = "␣"


@dataclass(frozen=True)
class PeriodicFunction:
    """A function of x with its period and a display label."""

    key: str
    label: str
    formula: str
    period: float
    fn: Callable[[np.ndarray], np.ndarray]


def _sawtooth(x: np.ndarray) -> np.ndarray:
    return -1.0 + 2.0 * (np.mod(x, np.pi) / np.pi)


def _square(x: np.ndarray) -> np.ndarray:
    return np.sign(np.sin(np.pi * x / 2.0))


def _composite(x: np.ndarray) -> np.ndarray:
    return (np.sin(1.5 * x) + np.sin(4.5 * x)) * 2.0 / 3.0


FUNCTIONS: dict[str, PeriodicFunction] = {
    f.key: f
    for f in (
        PeriodicFunction("sine", "Sine", "sin(x)", 2 * np.pi, np.sin),
        PeriodicFunction("sawtooth", "Sawtooth", "−1 + 2·((x mod π)/π)", np.pi, _sawtooth),
        PeriodicFunction("square", "Square", "sgn(sin(πx/2))", 4.0, _square),
        PeriodicFunction("composite", "Composite", "(sin 1.5x + sin 4.5x)·2/3", 4 * np.pi / 3, _composite),
    )
}

LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco "
    "laboris nisi ut aliquip ex ea commodo consequat duis aute irure dolor in reprehenderit in "
    "voluptate velit esse cillum dolore eu fugiat nulla pariatur excepteur sint occaecat cupidatat "
    "non proident sunt in culpa qui officia deserunt mollit anim id est laborum"
)

TEXTS: dict[str, tuple[str, str]] = {
    "text-ab": ("abab…", "ab" * 372),
    "text-lorem": ("Lorem ipsum", LOREM),
}

DATA_KEYS = (*FUNCTIONS, *TEXTS)


def is_text(data: str) -> bool:
    """True for the character-text data sets."""
    return data in TEXTS


def function_values(data: str, x: np.ndarray) -> np.ndarray:
    """The function ``data`` evaluated at ``x``."""
    return FUNCTIONS[data].fn(np.asarray(x, dtype=np.float64))


def add_noise(values: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``values`` plus uniform noise in [−noise, noise] (noise clipped to 0 … MAX_NOISE)."""
    noise = float(np.clip(noise, 0.0, MAX_NOISE))
    if noise == 0.0:
        return values.copy()
    return values + rng.uniform(-noise, noise, size=values.shape)


def function_windows(
    data: str, rng: np.random.Generator, count: int = TRAIN_WINDOWS, noise: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` windows spread over one period plus a random phase.

    Returns inputs of shape (count, WINDOW, 1) with noise and noise-free
    targets of shape (count, 1): the value one step after each window.
    """
    phase = rng.uniform(0.0, 2 * np.pi)
    starts = phase + np.arange(count) * 2 * np.pi / count
    xs = starts[:, None] + STEP * np.arange(WINDOW + 1)
    values = function_values(data, xs)
    inputs = add_noise(values[:, :WINDOW], noise, rng)
    return inputs[..., None].astype(np.float32), values[:, WINDOW:].astype(np.float32)


def function_test_window(data: str, rng: np.random.Generator, noise: float = 0.0) -> dict:
    """A fresh test window with a random phase in [0, π): 15 inputs and 32 targets after them."""
    phase = rng.uniform(0.0, np.pi)
    x = phase + STEP * np.arange(WINDOW + HORIZON)
    values = function_values(data, x)
    return {
        "x": x,
        "inputs": add_noise(values[:WINDOW], noise, rng),
        "clean_inputs": values[:WINDOW],
        "targets": values[WINDOW:],
    }


def vocabulary(data: str) -> list[str]:
    """The characters of a text in order of first appearance."""
    return list(dict.fromkeys(TEXTS[data][1]))


def one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    """One-hot rows for integer ``indices`` (any shape) → shape (*indices.shape, size)."""
    return np.eye(size, dtype=np.float32)[np.asarray(indices)]


def encode(data: str) -> np.ndarray:
    """The text ``data`` as integer indices into its vocabulary."""
    vocab = {c: i for i, c in enumerate(vocabulary(data))}
    return np.array([vocab[c] for c in TEXTS[data][1]], dtype=np.int64)


def text_windows(
    data: str, rng: np.random.Generator, count: int = TEXT_SAMPLES
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random windows of TEXT_WINDOW one-hot characters and the next character."""
    codes = encode(data)
    size = len(vocabulary(data))
    starts = rng.integers(0, len(codes) - TEXT_WINDOW, size=count)
    idx = starts[:, None] + np.arange(TEXT_WINDOW + 1)
    windows = codes[idx]
    return one_hot(windows[:, :TEXT_WINDOW], size), one_hot(windows[:, TEXT_WINDOW], size)


def text_test_window(data: str, rng: np.random.Generator) -> dict:
    """A random test window: TEXT_WINDOW input characters and the TEXT_HORIZON that follow."""
    text = TEXTS[data][1]
    start = int(rng.integers(0, len(text) - TEXT_WINDOW - TEXT_HORIZON))
    return {
        "start": start,
        "input_text": text[start : start + TEXT_WINDOW],
        "target_text": text[start + TEXT_WINDOW : start + TEXT_WINDOW + TEXT_HORIZON],
    }


def display_char(char: str) -> str:
    """A character as drawn in the plot (space as ␣)."""
    return SPACE_SYMBOL if char == " " else char


def data_label(data: str) -> str:
    """Human label of a data key."""
    return FUNCTIONS[data].label if data in FUNCTIONS else TEXTS[data][0]
