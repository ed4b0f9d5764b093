"""The synthetic prepare stand-in of :mod:`tests.support.synthetic` plus hidden and cell states.

Serve it with ``RNNX_TEST_PIPELINE=tests.support.synthetic_units`` (``tests/support/serve.py``). IMDB behaves as an LSTM (hidden and
cell states), Reuters as a GRU (hidden states only). Units 0-3 switch on after the word "not" and
stay on for two more words, so the same units are on in many places and the search finds them.
"""

from __future__ import annotations

import numpy as np

from model.artifacts import Analysis
from tests.support import synthetic
from tests.support.synthetic import (  # noqa: F401  (the rest of the stand-in, re-exported)
    DATASETS,
    PROJECTIONS,
    PrepareError,
    run_prepare_subprocess,
)

UNITS = 12
UPLOAD = "upload-00c0ffee"  # a bring-your-own model: a SimpleRNN of 7 units (no cell state)
UPLOAD_UNITS = 7
TRIGGER = "not"
TRIGGER_UNITS = (0, 1, 2, 3)


def synthetic_states(words: list[list[str]], seed: int = 3) -> np.ndarray:
    """(n_states, UNITS) values in (-1, 1): noise, with the trigger units high after TRIGGER."""
    rng = np.random.default_rng(seed)
    n = sum(len(w) for w in words)
    hidden = np.tanh(rng.normal(0, 0.35, size=(n, UNITS))).astype(np.float32)
    row = 0
    for seq in words:
        for t, word in enumerate(seq):
            if word == TRIGGER:
                for u in TRIGGER_UNITS:
                    hidden[row + t : row + min(t + 3, len(seq)), u] = 0.8 + 0.01 * u
        row += len(seq)
    return hidden


def load_analysis(dataset: str, n_sequences: int | None = None) -> Analysis | None:
    if dataset == UPLOAD:
        analysis = synthetic.synthetic_analysis("imdb", 25, seed=9)
        analysis.dataset = UPLOAD
        return analysis
    return synthetic.load_analysis(dataset, n_sequences)


def load_projection(dataset: str, method: str, n_sequences: int | None = None) -> np.ndarray | None:
    if dataset == UPLOAD:
        return synthetic.synthetic_projection(load_analysis(dataset))
    return synthetic.load_projection(dataset, method, n_sequences)


def is_prepared(dataset: str, method: str, n_sequences: int | None = None) -> bool:
    return load_projection(dataset, method, n_sequences) is not None


def load_states(dataset: str, n_sequences: int | None = None) -> dict | None:
    analysis = load_analysis(dataset, n_sequences)
    if analysis is None:
        return None
    if dataset == UPLOAD:
        return {"hidden": synthetic_states(analysis.words)[:, :UPLOAD_UNITS], "cell": None}
    hidden = synthetic_states(analysis.words)
    cell = (hidden * 2.5).astype(np.float32) if dataset == "imdb" else None
    return {"hidden": hidden, "cell": cell}
