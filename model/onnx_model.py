"""An ONNX recurrent text classifier on onnxruntime (CPU): per-step hidden states, EP, predictions.

The graph (checked by :mod:`model.onnx_graph`) gets the ``Y`` output of two recurrent ops as
extra outputs: the analysed layer's (the last one by default, or the one named, as for Keras)
and the last layer's. The classifier head, the part of the graph from the last step's state
to the output, is found by running the model once on a probe batch and taking the tensor
downstream of the last recurrent op that equals ``Y``'s last step and from which alone the
output follows; it runs on every step's state of the last layer to give the expected
prediction (EP) of every prefix. Texts run unpadded, grouped by length, unless the graph fixes
the time axis (then ids are pre-padded and only the text's own steps are kept).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from model import onnx_graph
from model.byo_csv import InputError
from model.extraction import States, step_distances

MAX_STEPS = 400  # tokens read per text by a graph with a dynamic time axis
PROBE = (2, 3)  # (batch, time) of the probe run: unequal, so the axes can be told apart
TOLERANCE = 1e-4
BATCH = 64


def _session(model_bytes: bytes):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, min(4, (os.cpu_count() or 2) // 2))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def as_steps(y: np.ndarray, layout: int) -> np.ndarray:
    """A recurrent op's ``Y`` as (T, B, H): (T, 1, B, H) for layout 0, (B, T, 1, H) for layout 1."""
    return y[:, 0] if layout == 0 else np.swapaxes(y[:, :, 0], 0, 1)


def to_probabilities(raw: np.ndarray, last_op: str | None) -> np.ndarray:
    """Class probabilities from the graph's output: kept after Softmax, exp after LogSoftmax, a
    sigmoid column becomes [1 - p, p], and logits get a softmax (one logit column: a sigmoid)."""
    raw = np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)
    if last_op == "LogSoftmax":
        raw = np.exp(raw)
    elif last_op not in ("Softmax", "Sigmoid"):
        if raw.shape[1] == 1:
            raw = 1.0 / (1.0 + np.exp(-raw))
        else:
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            raw = shifted / shifted.sum(axis=1, keepdims=True)
    if raw.shape[1] == 1:
        raw = np.concatenate([1.0 - raw, raw], axis=1)
    return raw.astype(np.float32)


class OnnxClassifier:
    """One ONNX classifier, ready to run (``run`` has :class:`model.extraction.StateExtractor`'s shape)."""

    def __init__(self, path: str | Path, layer_name: str | None = None, allow_external: bool = False) -> None:
        self.graph = onnx_graph.read(path, allow_external)
        self.layer = self.graph.layer(layer_name)
        self.last = self.graph.layers[-1]
        self.names = [layer.name for layer in self.graph.layers]
        self.cell_type = self.layer.cell_type
        self.units = self.layer.hidden_size
        self.last_op = onnx_graph.final_op(self.graph)
        y_layer = onnx_graph.state_output(self.graph, self.layer)
        y_last = onnx_graph.state_output(self.graph, self.last)
        candidates = onnx_graph.downstream(self.graph, [y_last, *self._last_outputs()])
        probe_model = onnx_graph.with_outputs(self.graph, [y_layer, y_last, *candidates])
        try:
            probe = _session(probe_model.SerializeToString())
        except Exception as error:  # noqa: BLE001 - onnxruntime refuses the graph
            raise InputError(
                f"onnxruntime cannot run this ONNX model: {str(error).splitlines()[0][:200]}"
            ) from error
        self._outputs = [self.graph.output_name, y_layer, y_last]
        self._axes(probe)
        self._find_head(probe, candidates)
        self.session = _session(onnx_graph.with_outputs(self.graph, self._outputs[1:]).SerializeToString())
        self.n_outputs = int(self._probe_output.shape[1])

    # ------------------------------------------------------------ set-up

    def _last_outputs(self) -> list[str]:
        node = self.graph.model.graph.node[self.last.node_index]
        return [name for name in list(node.output)[1:] if name]

    def _feed(self, ids: np.ndarray) -> dict:
        """The input for (batch, time) ids in the graph's axis order."""
        ids = ids.astype(self.graph.input_dtype)
        return {self.graph.input_name: ids if self.batch_first else ids.T.copy()}

    def _axes(self, probe) -> None:
        """Which input axis is time, and which axes the graph fixes (from the probe's ``Y``)."""
        shape = self.graph.input_shape
        top = max(2, min(self.graph.vocab_size or 50, 50))
        for batch_first in (True, False):
            dims = shape if batch_first else shape[::-1]
            batch, steps = (dims[0] or PROBE[0]), (dims[1] or PROBE[1])
            ids = (np.arange(batch * steps).reshape(batch, steps) % (top - 1)) + 1
            self.batch_first = batch_first
            try:
                outputs = probe.run(None, self._feed(ids))
            except Exception:  # noqa: BLE001 - the other axis order, or a fixed shape
                continue
            named = {o.name: v for o, v in zip(probe.get_outputs(), outputs, strict=True)}
            y = np.asarray(named[self._outputs[2]])
            if y.ndim == 4 and as_steps(y, self.last.layout).shape[:2] == (steps, batch):
                self.fixed_batch, self.fixed_steps = dims[0], dims[1]
                self._probe = (ids, outputs)
                return
        raise InputError(
            "This ONNX model could not be run on a (batch, time) array of token ids: its input axes "
            f"{shape} do not match the recurrent op's steps."
        )

    def _find_head(self, probe, candidates: list[str]) -> None:
        """The head (state -> output) as a session of its own; InputError when the output has no such head."""
        ids, outputs = self._probe
        named = {o.name: v for o, v in zip(probe.get_outputs(), outputs, strict=True)}
        last_state = as_steps(np.asarray(named[self._outputs[2]]), self.last.layout)[-1]  # (B, H)
        self._probe_output = np.asarray(named[self.graph.output_name]).reshape(len(ids), -1)
        for name in reversed(candidates):
            value = np.asarray(named.get(name))
            if value.shape != last_state.shape or not np.allclose(value, last_state, atol=TOLERANCE):
                continue
            head = onnx_graph.head_model(self.graph, name, self.last.hidden_size)
            if head is None:
                continue
            try:
                session = _session(head.SerializeToString())
                out = np.asarray(session.run(None, {name: last_state.astype(np.float32)})[0])
            except Exception:  # noqa: BLE001 - not a head that runs on its own
                continue
            if np.allclose(out.reshape(self._probe_output.shape), self._probe_output, atol=TOLERANCE):
                self.head, self.head_input = session, name
                return
        raise InputError(
            "The output of this ONNX model does not follow from the last recurrent op's state at the last "
            "step alone (it may read other inputs, pool over steps, or use attention), so the expected "
            "prediction of each step cannot be computed."
        )

    # ------------------------------------------------------------ running

    @property
    def max_len(self) -> int:
        return int(self.fixed_steps or MAX_STEPS)

    def head_probabilities(self, states: np.ndarray) -> np.ndarray:
        """EP of (n, H) states of the last recurrent layer (the head, in batches if it fixes one)."""
        states = np.asarray(states, dtype=np.float32)
        if not len(states):
            return np.zeros((0, max(2, self.n_outputs)), np.float32)
        batch = self.fixed_batch or 4096
        parts = []
        for start in range(0, len(states), batch):
            chunk = states[start : start + batch]
            short = len(chunk)
            if self.fixed_batch and short < batch:
                chunk = np.concatenate([chunk, np.zeros((batch - short, chunk.shape[1]), np.float32)])
            out = np.asarray(self.head.run(None, {self.head_input: chunk})[0]).reshape(len(chunk), -1)
            parts.append(out[:short])
        return to_probabilities(np.concatenate(parts), self.last_op)

    def _groups(self, lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
        """Indices of texts run together: equal lengths (dynamic time axis) or fixed-size batches."""
        order = np.argsort(lengths, kind="stable")
        size = self.fixed_batch or batch_size
        if self.fixed_steps:
            return [order[i : i + size] for i in range(0, len(order), size)]
        groups = []
        for length in np.unique(lengths[lengths > 0]):
            same = order[lengths[order] == length]
            groups.extend(same[i : i + size] for i in range(0, len(same), size))
        return groups

    def _run_group(self, ids: list[np.ndarray], rows: np.ndarray) -> tuple[list, list, np.ndarray]:
        """(analysed layer's states, last layer's states, model outputs) of texts ``rows``, unpadded."""
        width = self.fixed_steps or max(len(ids[r]) for r in rows)
        count = self.fixed_batch or len(rows)
        batch = np.zeros((count, width), np.int64)
        for i, r in enumerate(rows):
            if len(ids[r]):
                batch[i, width - len(ids[r]) :] = ids[r]
        output, y_layer, y_last = self.session.run(self._outputs, self._feed(batch))
        layer = as_steps(np.asarray(y_layer), self.layer.layout)
        last = as_steps(np.asarray(y_last), self.last.layout)
        own = np.asarray(output).reshape(len(batch), -1)
        mine = [layer[width - len(ids[r]) :, i] for i, r in enumerate(rows)]
        theirs = [last[width - len(ids[r]) :, i] for i, r in enumerate(rows)]
        return mine, theirs, own[: len(rows)]

    def run(
        self,
        token_ids: list[np.ndarray],
        inputs=None,
        batch_size: int = BATCH,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> States:
        """Per-step states of every text's ids (unpadded arrays), in :class:`States` form."""
        del inputs
        ids = [np.asarray(row, dtype=np.int64)[-self.max_len :] for row in token_ids]
        self._check_ids(ids)
        n = len(ids)
        lengths = np.array([len(row) for row in ids], dtype=np.int64)
        layer_parts: list = [None] * n
        last_parts: list = [None] * n
        done = 0
        for rows in self._groups(lengths, batch_size):
            rows = rows[lengths[rows] > 0]
            if len(rows):
                mine, theirs, _own = self._run_group(ids, rows)
                for i, r in enumerate(rows):
                    layer_parts[r], last_parts[r] = mine[i], theirs[i]
            done += len(rows)
            if on_batch:
                on_batch(min(done, n), n)
        empty = np.zeros((0, self.units), np.float32)
        hidden = np.concatenate([p if p is not None else empty for p in layer_parts] or [empty])
        last_empty = np.zeros((0, self.last.hidden_size), np.float32)
        last = np.concatenate([p if p is not None else last_empty for p in last_parts] or [last_empty])
        ep = self.head_probabilities(last)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        final = np.full((n, ep.shape[1] if len(ep) else max(2, self.n_outputs)), np.nan, np.float32)
        has = lengths > 0
        final[has] = ep[offsets[1:][has] - 1]
        clean = np.nan_to_num(final)
        return States(
            hidden=hidden.astype(np.float32),
            cell=None,
            ep=ep,
            distance=step_distances(hidden.astype(np.float32), offsets),
            offsets=offsets,
            predicted=clean.argmax(axis=1).astype(np.int64),
            confidence=clean.max(axis=1).astype(np.float32) if n else np.zeros(0, np.float32),
        )

    def predict(self, token_ids: list[np.ndarray], batch_size: int = BATCH) -> np.ndarray:
        """The model's own class probabilities for each text's ids (an empty text: uniform)."""
        ids = [np.asarray(row, dtype=np.int64)[-self.max_len :] for row in token_ids]
        self._check_ids(ids)
        lengths = np.array([len(row) for row in ids], dtype=np.int64)
        classes = max(2, self.n_outputs)
        out = np.full((len(ids), classes), 1.0 / classes, np.float32)
        for rows in self._groups(lengths, batch_size):
            rows = rows[lengths[rows] > 0]
            if len(rows):
                _mine, _theirs, own = self._run_group(ids, rows)
                out[rows] = to_probabilities(own, self.last_op)
        return out

    def _check_ids(self, ids: list[np.ndarray]) -> None:
        size = self.graph.vocab_size
        if size is None:
            return
        for row in ids:
            if len(row) and (row.min() < 0 or row.max() >= size):
                raise InputError(
                    f"A token id ({int(row.max())}) is beyond the model's embedding ({size} rows)."
                )
