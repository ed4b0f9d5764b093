"""What each recurrent cell of a trained stack really computes on one input window.

``trace_model`` runs a Keras stack of recurrent layers (then dense layers) on one
window and returns, per recurrent layer and per time step, the values the cell
view shows in its four forward sub-steps:

1. receive the layer input: ``x`` (x_t) and ``a_prev`` (a_{t-1});
2. gate activations: LSTM ``i``, ``f``, ``g`` (candidate), ``o``; GRU ``z``, ``r``, ``g``;
3. cell-state update: LSTM ``c`` (and ``c_prev``); GRU the mixed state;
4. output: ``a`` (a_t).

Forward values come from :mod:`model.cellmath` (numpy, from the layer's weights)
and are checked against the layer's own Keras output (``check_error``).  The
backward phase is the gradient of the loss with respect to each hidden state
a_t (and c_t), through all later steps and layers, computed with
``tf.GradientTape`` over an explicit unroll of the layer's own Keras cell: its
norm per step shows how far back in time the error signal reaches.

TensorFlow is imported lazily; the result is plain JSON-ready lists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model import cellmath

# Keys of the per-step vectors shown for each cell type, in diagram order.
PARTS: dict[str, tuple[str, ...]] = {
    "lstm": ("x", "a_prev", "f", "i", "g", "o", "c_prev", "c", "a"),
    "gru": ("x", "a_prev", "z", "r", "g", "a"),
    "simplernn": ("x", "a_prev", "a"),
}

_CELLMATH_NAMES = {
    "input_gate": "i",
    "forget_gate": "f",
    "candidate": "g",
    "output_gate": "o",
    "update_gate": "z",
    "reset_gate": "r",
    "c": "c",
    "h": "a",
}


def cell_type_of(layer: Any) -> str | None:
    """``"lstm"``, ``"gru"`` or ``"simplernn"`` for a Keras recurrent layer, else None."""
    name = type(layer).__name__.lower()
    return name if name in cellmath.CELL_TYPES else None


def _layer_config(layer: Any) -> dict[str, str]:
    config = layer.get_config()
    if cell_type_of(layer) == "gru" and not config.get("reset_after", True):
        raise ValueError("only GRU layers with reset_after=True are supported")
    return {
        "activation": config.get("activation", "tanh"),
        "recurrent_activation": config.get("recurrent_activation", "sigmoid"),
    }


def numpy_layer_trace(cell_type: str, inputs: np.ndarray, weights: list[np.ndarray], **acts: str) -> dict:
    """Per-step part vectors of one layer for one sequence ``inputs`` (steps, features)."""
    run = cellmath.run_sequence(cell_type, np.asarray(inputs)[None], weights, **acts)
    values = {_CELLMATH_NAMES[name]: array[0] for name, array in run.items()}
    units = values["a"].shape[-1]
    zeros = np.zeros((1, units))
    values["x"] = np.asarray(inputs, dtype=np.float64)
    values["a_prev"] = np.concatenate([zeros, values["a"][:-1]], axis=0)
    if cell_type == "lstm":
        values["c_prev"] = np.concatenate([zeros, values["c"][:-1]], axis=0)
    return {key: values[key] for key in PARTS[cell_type]}


def _recurrent_indices(model: Any) -> list[int]:
    return [i for i, layer in enumerate(model.layers) if cell_type_of(layer)]


def _unroll(layer: Any, sequence: Any, tape: Any) -> tuple[Any, list[Any], list[Any]]:
    """Run ``layer``'s own cell step by step; returns its output and the watched states."""
    import tensorflow as tf

    cell = layer.cell
    batch = tf.shape(sequence)[0]
    units = cell.units
    states = [tf.zeros((batch, units))]
    if cell_type_of(layer) == "lstm":
        states.append(tf.zeros((batch, units)))
    hs, cs = [], []
    for t in range(sequence.shape[1]):
        h, states = cell(sequence[:, t, :], states, training=False)
        states = list(states) if isinstance(states, list | tuple) else [states]
        tape.watch(h)
        hs.append(h)
        if len(states) == 2:
            tape.watch(states[1])
            cs.append(states[1])
    out = tf.stack(hs, axis=1) if layer.return_sequences else hs[-1]
    return out, hs, cs


def _loss(prediction: Any, target: np.ndarray | None, loss: str) -> Any:
    import tensorflow as tf

    if prediction.shape.rank == 3:  # sequence output: the last step is the prediction
        prediction = prediction[:, -1, :]
    if target is None:
        return tf.reduce_sum(prediction)
    target_t = tf.reshape(tf.constant(target, dtype=prediction.dtype), tf.shape(prediction))
    if loss == "crossentropy":
        return -tf.reduce_sum(target_t * tf.math.log(tf.clip_by_value(prediction, 1e-7, 1.0)))
    return tf.reduce_mean(tf.square(prediction - target_t))


def trace_model(
    model: Any, inputs: np.ndarray, target: np.ndarray | None = None, loss: str = "mse"
) -> dict[str, Any]:
    """Forward and backward trace of every recurrent layer of ``model`` on one window.

    ``inputs`` is (steps, features) or (1, steps, features); ``target`` the value
    (or one-hot character) that should follow the window; ``loss`` ``"mse"`` or
    ``"crossentropy"``.  Returns ``{"layers": [...], "prediction", "loss",
    "check_error"}`` where each layer holds ``cell_type``, ``units``, ``steps``,
    ``values`` (part -> steps x units lists), ``grad_a``/``grad_c`` and
    ``grad_norm`` (per step) and its own ``check_error``.
    """
    import tensorflow as tf

    window = np.asarray(inputs, dtype=np.float32)
    if window.ndim == 2:
        window = window[None]
    recurrent = set(_recurrent_indices(model))
    if not recurrent:
        raise ValueError("the model has no recurrent layer")

    # Backward (and Keras' own forward): explicit unroll under a gradient tape.
    per_layer: list[dict[str, Any]] = []
    with tf.GradientTape(persistent=True) as tape:
        tensor = tf.constant(window)
        for index, layer in enumerate(model.layers):
            if index in recurrent:
                layer_input = tensor
                tensor, hs, cs = _unroll(layer, tensor, tape)
                per_layer.append({"layer": layer, "input": layer_input, "hs": hs, "cs": cs})
            elif type(layer).__name__ != "InputLayer":
                tensor = layer(tensor, training=False)
        loss_value = _loss(tensor, target, loss)
    prediction = tensor.numpy()
    if prediction.ndim == 3:
        prediction = prediction[:, -1, :]

    layers = []
    worst = 0.0
    for entry in per_layer:
        layer = entry["layer"]
        cell_type = cell_type_of(layer)
        layer_input = entry["input"].numpy()[0]
        values = numpy_layer_trace(cell_type, layer_input, layer.get_weights(), **_layer_config(layer))
        keras_h = np.stack([h.numpy()[0] for h in entry["hs"]])
        own = layer(entry["input"], training=False).numpy()[0]
        own_h = own if layer.return_sequences else own[None]
        error = max(
            float(np.max(np.abs(values["a"] - keras_h))),
            float(np.max(np.abs(values["a"][-own_h.shape[0] :] - own_h))),
        )
        if entry["cs"]:
            keras_c = np.stack([c.numpy()[0] for c in entry["cs"]])
            error = max(error, float(np.max(np.abs(values["c"] - keras_c))))
        grad_a = _gradients(tape, loss_value, entry["hs"])
        grad_c = _gradients(tape, loss_value, entry["cs"]) if entry["cs"] else None
        worst = max(worst, error)
        layers.append(
            {
                "cell_type": cell_type,
                "units": int(layer.cell.units),
                "steps": int(layer_input.shape[0]),
                "values": {key: np.round(val, 6).tolist() for key, val in values.items()},
                "grad_a": grad_a.tolist(),
                "grad_c": None if grad_c is None else grad_c.tolist(),
                "grad_norm": np.linalg.norm(grad_a, axis=1).tolist(),
                "check_error": error,
            }
        )
    del tape
    return {
        "layers": layers,
        "prediction": prediction[0].tolist(),
        "loss": float(loss_value.numpy()),
        "check_error": worst,
    }


def _gradients(tape: Any, loss_value: Any, tensors: list[Any]) -> np.ndarray:
    grads = tape.gradient(loss_value, tensors, unconnected_gradients="zero")
    return np.stack([g.numpy()[0] for g in grads]).astype(np.float64)


def forward_substeps() -> tuple[str, ...]:
    """The four forward sub-steps of every time step, in order."""
    return ("input", "gates", "state", "output")


PHASES = ("forward", "error", "backward")


def frames(steps: int) -> list[dict[str, Any]]:
    """The step-through sequence of one window: forward sub-steps, error, backward in time.

    Forward: for each time step t = 0..steps-1 the four sub-steps; then one error
    frame; then the backward pass from the last time step back to the first.
    """
    sequence = [
        {"phase": "forward", "t": t, "sub": sub}
        for t in range(steps)
        for sub in range(len(forward_substeps()))
    ]
    sequence.append({"phase": "error", "t": steps - 1, "sub": 0})
    sequence += [{"phase": "backward", "t": t, "sub": 0} for t in reversed(range(steps))]
    return sequence


def phase_start(steps: int, phase: str) -> int:
    """Index into :func:`frames` where ``phase`` begins (the target of a phase jump)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}")
    return {"forward": 0, "error": 4 * steps, "backward": 4 * steps + 1}[phase]
