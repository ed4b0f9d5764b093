"""The analysis artefact: what extraction produces and the analytics page reads.

All hidden states of all analysed sequences are stored flat; sequence ``k``
owns rows ``offsets[k]:offsets[k + 1]`` of every per-state array, one row per
non-padding time step, in reading order (row ``offsets[k] + t`` is the state
after reading ``words[k][t]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def concatenated_ranges(first: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The flat rows ``first[i] .. first[i] + length[i] - 1`` of every run ``i``, one run after another."""
    first, length = np.asarray(first, dtype=np.int64), np.asarray(length, dtype=np.int64)
    return np.repeat(first - np.cumsum(length) + length, length) + np.arange(int(length.sum()))


@dataclass
class Analysis:
    dataset: str  # "imdb", "reuters", or an upload's id
    class_names: list[str]
    texts: list[str]  # the raw text of each analysed sequence
    words: list[list[str]]  # per sequence, the tokens read (aligned with its states)
    labels: np.ndarray  # (n_seq,) int, actual class
    predicted: np.ndarray  # (n_seq,) int, the model's class for the full sequence
    confidence: np.ndarray  # (n_seq,) float, probability of the predicted class
    offsets: np.ndarray  # (n_seq + 1,) int64
    ep: np.ndarray  # (n_states, n_classes) float32, expected prediction per state (binary: [1-p, p])
    distance: np.ndarray  # (n_states,) float32, Euclidean distance to the previous state (first: to zeros)
    summary: dict = field(default_factory=dict)  # cell_type, units, test_accuracy, counts, ...

    @property
    def n_sequences(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_states(self) -> int:
        return int(self.offsets[-1])

    def rows(self, k: int) -> slice:
        """The rows of sequence ``k`` in every per-state array."""
        return slice(int(self.offsets[k]), int(self.offsets[k + 1]))

    def sequence_of_state(self) -> np.ndarray:
        """(n_states,) index of the sequence each state belongs to."""
        return np.repeat(np.arange(self.n_sequences), np.diff(self.offsets))

    def step_of_state(self) -> np.ndarray:
        """(n_states,) time step of each state within its sequence."""
        return np.arange(self.n_states) - np.repeat(self.offsets[:-1], np.diff(self.offsets))
