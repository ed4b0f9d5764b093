"""The adapter protocol: any recurrent text classifier in three small methods.

An adapter is any object with these methods (no base class needed)::

    class MyAdapter:
        class_names = ["negative", "positive"]          # optional: names in output order

        def tokenize(self, texts: list[str]) -> tuple[list[list[int]], list[list[str]]]:
            '''Token ids per text, and the tokens as they are shown (same lengths).'''

        def states(self, token_ids: list[list[int]]) -> list[np.ndarray]:
            '''Per text, its hidden state after each token: an array (len(ids), units).'''

        def probabilities(self, states: np.ndarray) -> np.ndarray:
            '''Class probabilities (n, classes) of (n, units) states: the classifier head, run on
            each step's state, gives the expected prediction (EP) of every prefix.'''

``rnnx.analyse(adapter, texts, labels)`` calls ``tokenize`` once, ``states`` on batches of
texts and ``probabilities`` on all their states. docs/own-model.md shows one for a PyTorch
``nn.LSTM``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from model.extraction import States, step_distances

BATCH = 256
METHODS = ("tokenize", "states", "probabilities")


@runtime_checkable
class Adapter(Protocol):
    """See the module's doc."""

    def tokenize(self, texts: list[str]) -> tuple[list[list[int]], list[list[str]]]: ...

    def states(self, token_ids: list[list[int]]) -> list[np.ndarray]: ...

    def probabilities(self, states: np.ndarray) -> np.ndarray: ...


class AdapterError(ValueError):
    """An adapter broke the protocol; the message says how."""


def is_adapter(model: Any) -> bool:
    return all(callable(getattr(model, name, None)) for name in METHODS)


class AdapterRunner:
    """An adapter with the shape of the app's extractors: ``encode`` then ``run`` -> :class:`States`."""

    has_gradients = False

    def __init__(self, adapter: Any) -> None:
        if not is_adapter(adapter):
            missing = [name for name in METHODS if not callable(getattr(adapter, name, None))]
            raise AdapterError(f"This adapter lacks {', '.join(missing)} (see rnnx.adapter).")
        self.adapter = adapter
        self.class_names = list(getattr(adapter, "class_names", None) or [])
        self.n_outputs: int | None = None

    def encode(self, texts: list[str]) -> tuple:
        result = self.adapter.tokenize(list(texts))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AdapterError("tokenize(texts) must return (token ids per text, tokens per text).")
        ids, words = result
        if len(ids) != len(texts) or len(words) != len(texts):
            raise AdapterError(
                f"tokenize gave {len(ids)} id lists and {len(words)} token lists for {len(texts)} texts."
            )
        ids = [np.asarray(row, dtype=np.int64).reshape(-1) for row in ids]
        words = [[str(w) for w in row] for row in words]
        for k, (row, shown) in enumerate(zip(ids, words, strict=True)):
            if len(row) != len(shown):
                raise AdapterError(f"Text {k}: {len(row)} token ids but {len(shown)} tokens.")
        return ids, ids, words

    def _states(self, ids: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = list(self.adapter.states([row.tolist() for row in ids]))
        if len(out) != len(ids):
            raise AdapterError(f"states gave {len(out)} arrays for {len(ids)} texts.")
        arrays = [np.asarray(s, dtype=np.float32) for s in out]
        for k, (row, state) in enumerate(zip(ids, arrays, strict=True)):
            if state.ndim != 2 or len(state) != len(row):
                raise AdapterError(
                    f"states must give (steps, units) per text; text {k} has {len(row)} tokens and an array "
                    f"of shape {state.shape}."
                )
        return arrays

    def probabilities(self, hidden: np.ndarray) -> np.ndarray:
        probs = np.asarray(self.adapter.probabilities(np.asarray(hidden, np.float32)), dtype=np.float32)
        if probs.ndim != 2 or len(probs) != len(hidden) or not np.all(np.isfinite(probs)):
            raise AdapterError(
                f"probabilities gave shape {probs.shape} for {len(hidden)} states (finite values)."
            )
        if probs.shape[1] == 1:
            probs = np.concatenate([1 - probs, probs], axis=1)
        self.n_outputs = probs.shape[1]
        return probs

    def run(self, ids, inputs=None, on_batch: Callable[[int, int], None] | None = None) -> States:
        del inputs
        n = len(ids)
        parts = []
        for start in range(0, n, BATCH):
            parts.extend(self._states(ids[start : start + BATCH]))
            if on_batch:
                on_batch(min(start + BATCH, n), n)
        units = next((p.shape[1] for p in parts if p.size), 0)
        hidden = (
            np.concatenate([p.reshape(-1, units) for p in parts]) if parts else np.zeros((0, 0), np.float32)
        )
        ep = self.probabilities(hidden) if len(hidden) else np.zeros((0, 2), np.float32)
        lengths = np.array([len(row) for row in ids], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        final = np.zeros((n, ep.shape[1]), np.float32)
        has = lengths > 0
        final[has] = ep[offsets[1:][has] - 1]
        return States(
            hidden=hidden,
            cell=None,
            ep=ep,
            distance=step_distances(hidden, offsets),
            offsets=offsets,
            predicted=final.argmax(axis=1).astype(np.int64),
            confidence=final.max(axis=1).astype(np.float32),
        )

    def describe(self) -> dict:
        return {"cell_type": "adapter", "layer": type(self.adapter).__name__, "recurrent_layers": []}
