"""Hidden states, cell states, expected predictions (EP) and jumps of a recurrent classifier.

The recurrent layer is re-run with ``return_sequences=True`` (same weights) on
the inputs it sees inside the model, so every step's hidden state comes from
Keras itself; padding steps are masked, so they neither shape the states nor
appear in the result. LSTM cell states, which Keras does not return per step,
are recomputed in numpy (``model.cellmath``). The EP of a state is the model's
output head (the layers after the recurrent layer) applied to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model import cellmath
from model.textmodels import class_probabilities

RECURRENT_CLASSES = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simplernn"}


class NotRecurrentError(ValueError):
    """The model has no recurrent layer to analyse."""


@dataclass
class States:
    hidden: np.ndarray  # (n_states, units) float32
    cell: np.ndarray | None  # (n_states, units) float32 for LSTM, else None
    ep: np.ndarray  # (n_states, n_classes) float32
    distance: np.ndarray  # (n_states,) float32
    offsets: np.ndarray  # (n_seq + 1,) int64
    predicted: np.ndarray  # (n_seq,) int64
    confidence: np.ndarray  # (n_seq,) float32


def recurrent_layers(model) -> list:
    """The model's recurrent layers (LSTM, GRU, SimpleRNN, or Bidirectional around one)."""
    found = []
    for layer in model.layers:
        inner = getattr(layer, "forward_layer", None) or layer
        if type(inner).__name__ in RECURRENT_CLASSES:
            found.append(layer)
    return found


def find_recurrent_layer(model, name: str | None = None):
    """The recurrent layer to analyse: the one named ``name``, else the last one."""
    layers = recurrent_layers(model)
    if not layers:
        raise NotRecurrentError(
            "This model has no recurrent layer (LSTM, GRU, SimpleRNN or Bidirectional); "
            "hidden-state analytics needs one."
        )
    if name is None:
        return layers[-1]
    for layer in layers:
        if layer.name == name:
            return layer
    raise NotRecurrentError(f"No recurrent layer named {name!r}; found {[layer.name for layer in layers]}.")


def cell_type_of(layer) -> str:
    inner = getattr(layer, "forward_layer", None) or layer
    return RECURRENT_CLASSES[type(inner).__name__]


def _sequence_copy(layer):
    """A copy of ``layer`` that returns its output at every step."""
    import keras

    config = layer.get_config()
    if "layer" in config:  # Bidirectional: switch the wrapped layer (and its backward twin)
        config["layer"]["config"]["return_sequences"] = True
        config["layer"]["config"]["return_state"] = False
        if config.get("backward_layer"):
            config["backward_layer"]["config"]["return_sequences"] = True
            config["backward_layer"]["config"]["return_state"] = False
        copy = keras.layers.Bidirectional.from_config(config)
    else:
        config.update(return_sequences=True, return_state=False)
        copy = type(layer).from_config(config)
    return copy


def _apply_head(model, layer, hidden: np.ndarray) -> np.ndarray:
    """The layers after ``layer`` applied, in inference mode, to (n, units) states."""
    head = model.layers[model.layers.index(layer) + 1 :]
    out = hidden
    for block in head:
        out = block(out, training=False)
    return class_probabilities(np.asarray(out))


def extract_states(
    model,
    token_ids: np.ndarray,
    layer_name: str | None = None,
    batch_size: int = 250,
    on_batch: Callable[[int, int], None] | None = None,
    inputs: np.ndarray | None = None,
) -> States:
    """Per-step states of every sequence in ``token_ids`` (pre-padded, 0 = padding).

    ``inputs`` are what the model takes (token ids by default; raw strings for a
    model with a TextVectorization layer, whose vectorised ids are then ``token_ids``).
    """
    return StateExtractor(model, layer_name).run(token_ids, inputs, batch_size, on_batch)


class StateExtractor:
    """What reads per-step states out of one model, built once and reusable (what-if calls it per keystroke)."""

    def __init__(self, model, layer_name: str | None = None) -> None:
        import keras

        self.model = model
        self.layer = find_recurrent_layer(model, layer_name)
        self.feeder = keras.Model(model.inputs, self.layer.input)
        self.copy = _sequence_copy(self.layer)
        self.weights = self.layer.get_weights()
        self.units = int(np.asarray(self.weights[1]).shape[0]) * (
            2 if hasattr(self.layer, "forward_layer") else 1
        )
        self.is_lstm = cell_type_of(self.layer) == "lstm" and not hasattr(self.layer, "forward_layer")
        # A lower layer's states have no head of their own (the layers after it are recurrent): its
        # EP is the model's answer at each step, read from the last recurrent layer (as for ONNX).
        last = recurrent_layers(model)[-1]
        self.ep_source = None if last is self.layer else StateExtractor(model, last.name)

    def run(
        self,
        token_ids: np.ndarray,
        inputs: np.ndarray | None = None,
        batch_size: int = 250,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> States:
        layer = self.layer
        model_inputs = token_ids if inputs is None else inputs
        hidden_parts, cell_parts, masks, n = [], [], [], len(model_inputs)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            layer_in, mask = _layer_input(self.feeder, model_inputs[start:stop], token_ids, start, stop)
            masks.append(mask)
            if not self.copy.built:
                self.copy.build(layer_in.shape)
                self.copy.set_weights(self.weights)
            sequence = np.asarray(self.copy(layer_in, mask=mask, training=False))
            hidden_parts.append(sequence[mask].astype(np.float32))
            if self.is_lstm:
                trace = cellmath.run_sequence(
                    "lstm",
                    layer_in,
                    self.weights,
                    mask=mask,
                    activation=layer.activation.__name__,
                    recurrent_activation=layer.recurrent_activation.__name__,
                )
                cell_parts.append(trace["c"][mask].astype(np.float32))
            if on_batch:
                on_batch(stop, n)
        lengths = np.concatenate(masks).sum(axis=1) if masks else np.zeros(0, np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        hidden = np.concatenate(hidden_parts) if hidden_parts else np.zeros((0, self.units), np.float32)
        if len(hidden) and self.ep_source is not None:
            ep = self.ep_source.run(token_ids, inputs, batch_size).ep
        elif len(hidden):
            ep = _apply_head(self.model, layer, hidden).astype(np.float32)
        else:
            n_out = int(self.model.outputs[0].shape[-1] or 1)
            ep = np.zeros((0, 2 if n_out == 1 else n_out), np.float32)
        last = offsets[1:] - 1
        has_states = lengths > 0
        final_ep = (
            np.where(has_states[:, None], ep[np.maximum(last, 0)], np.nan)
            if len(ep)
            else np.full((n, ep.shape[1]), np.nan)
        )
        return States(
            hidden=hidden,
            cell=np.concatenate(cell_parts) if cell_parts else None,
            ep=ep,
            distance=step_distances(hidden, offsets),
            offsets=offsets,
            predicted=np.nan_to_num(final_ep).argmax(axis=1).astype(np.int64),
            confidence=np.nanmax(np.nan_to_num(final_ep), axis=1).astype(np.float32)
            if n
            else np.zeros(0, np.float32),
        )


def _layer_input(feeder, batch, token_ids, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """The recurrent layer's input for a batch and its mask (from the model, else ids != 0)."""
    out = feeder(batch, training=False)
    if isinstance(out, (list, tuple)):
        values, mask = out[0], out[1]
        if mask is not None:
            return np.asarray(values), np.asarray(mask, dtype=bool)
        out = values
    values = np.asarray(out)
    if token_ids is None:
        return values, np.ones(values.shape[:2], dtype=bool)
    return values, np.asarray(token_ids[start:stop]) != 0


def step_distances(hidden: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Euclidean distance of each state to the previous one in its sequence (first: to zeros)."""
    previous = np.zeros_like(hidden)
    previous[1:] = hidden[:-1]
    previous[offsets[:-1][offsets[:-1] < len(hidden)]] = 0.0
    return np.linalg.norm(hidden - previous, axis=1).astype(np.float32)
