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

``rollout_trace`` follows the trainer's autoregressive prediction past the
window: window k drops the oldest value and appends prediction k, and the
model runs on it afresh (its states start at zero); the cell view shows each
window's last time step, the one that reads the fed-back prediction.

TensorFlow is imported lazily; the result is plain JSON-ready lists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model import cellmath, signals

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


def _last_step_parts(cell_type: str, inputs: np.ndarray, run: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Part vectors at the last time step of each sequence of a batch (``run`` from cellmath)."""
    values = {_CELLMATH_NAMES[name]: array[:, -1] for name, array in run.items()}
    values["x"] = np.asarray(inputs, dtype=np.float64)[:, -1]
    for part, state in (("a_prev", "h"), ("c_prev", "c")):
        if state in run:
            previous = run[state][:, -2] if run[state].shape[1] > 1 else np.zeros_like(run[state][:, -1])
            values[part] = previous
    return {key: values[key] for key in PARTS[cell_type]}


_DENSE_ACTIVATIONS = {
    "linear": lambda v: v,
    "tanh": np.tanh,
    "sigmoid": cellmath.sigmoid,
    "relu": lambda v: np.maximum(v, 0.0),
    "softmax": lambda v: (
        np.exp(v - v.max(-1, keepdims=True)) / np.exp(v - v.max(-1, keepdims=True)).sum(-1, keepdims=True)
    ),
}


def _numpy_plan(model: Any) -> list[tuple[str, Any, Any]]:
    """Each layer of ``model`` as (kind, weights or layer, config) for :func:`_numpy_stack`."""
    plan: list[tuple[str, Any, Any]] = []
    for layer in model.layers:
        cell_type = cell_type_of(layer)
        kind = type(layer).__name__
        if cell_type:
            weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
            plan.append((cell_type, weights, (_layer_config(layer), layer.return_sequences)))
        elif kind == "Dense" and layer.get_config().get("activation") in _DENSE_ACTIVATIONS:
            kernel, *bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            plan.append(("dense", (kernel, sum(bias)), layer.get_config()["activation"]))
        elif kind != "InputLayer":
            plan.append(("keras", layer, None))
    return plan


def _numpy_stack(
    plan: list[tuple[str, Any, Any]], windows: np.ndarray
) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """The model (as :func:`_numpy_plan`) on a batch of windows: output and each recurrent layer's
    last-step parts.  Recurrent and Dense layers are recomputed from their weights in numpy (no
    TensorFlow call per step of the rollout); any other layer is called through Keras."""
    tensor = np.asarray(windows, dtype=np.float64)
    parts = []
    for kind, weights, config in plan:
        if kind in cellmath.CELL_TYPES:
            acts, sequences = config
            run = cellmath.run_sequence(kind, tensor, weights, **acts)
            parts.append(_last_step_parts(kind, tensor, run))
            tensor = run["h"] if sequences else run["h"][:, -1]
        elif kind == "dense":
            tensor = _DENSE_ACTIVATIONS[config](tensor @ weights[0] + weights[1])
        else:
            tensor = np.asarray(weights(tensor.astype(np.float32), training=False), dtype=np.float64)
    return (tensor[:, -1] if tensor.ndim == 3 else tensor), parts


def rollout_windows(
    model: Any, window: np.ndarray, horizon: int, one_hot: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The sliding windows of the autoregressive rollout and the predictions they give.

    As the trainer's rollout: window 0 is ``window``; window k drops the oldest
    value and appends prediction k, the output of window k-1 (for text its
    one-hot arg-max).  Returns windows 1..horizon, shape (horizon, steps,
    features), and predictions 1..horizon+1, shape (horizon + 1, outputs).
    """
    plan = _numpy_plan(model)
    current = np.asarray(window, dtype=np.float64)
    windows, predictions = [], []
    for _ in range(horizon):
        y = _numpy_stack(plan, current[None])[0][0]
        predictions.append(y)
        fed = np.eye(y.shape[-1])[int(np.argmax(y))] if one_hot else y
        current = np.concatenate([current[1:], fed[None]], axis=0)
        windows.append(current)
    if horizon:
        predictions.append(_numpy_stack(plan, current[None])[0][0])
    stacked = np.stack(windows) if windows else np.zeros((0, *current.shape))
    return stacked, np.asarray(predictions, dtype=np.float64)


def rollout_trace(model: Any, window: np.ndarray, horizon: int, one_hot: bool = False) -> dict[str, Any]:
    """Every recurrent layer's parts at the last step of rollout windows 1..``horizon`` (numpy).

    Predicted step k (1-based) is time step ``steps + k`` of the window and its
    continuation: the cell reads prediction k (fed back) and, at the top of
    the stack, yields prediction k+1.  Returns ``{"layers": [part -> (horizon,
    units) array], "predictions": (horizon + 1, outputs)}``; prediction 1 is the
    window's own, which :func:`trace_model` checks against Keras.
    """
    windows, predictions = rollout_windows(model, window, horizon, one_hot)
    parts = _numpy_stack(_numpy_plan(model), windows)[1] if horizon else []
    return {"layers": parts, "predictions": predictions}


def default_horizon(loss: str) -> int:
    """How far the trainer predicts ahead: characters for text (cross-entropy), else values."""
    return signals.TEXT_HORIZON if loss == "crossentropy" else signals.HORIZON


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
    model: Any,
    inputs: np.ndarray,
    target: np.ndarray | None = None,
    loss: str = "mse",
    horizon: int | None = None,
) -> dict[str, Any]:
    """Forward and backward trace of every recurrent layer of ``model`` on one window.

    ``inputs`` is (steps, features) or (1, steps, features); ``target`` the value
    (or one-hot character) that should follow the window; ``loss`` ``"mse"`` or
    ``"crossentropy"`` (text: predictions are fed back one-hot); ``horizon``
    the predicted steps past the window (default: the trainer's; none when the
    output is no input, e.g. 2 features in, 1 value out).
    Returns ``{"layers": [...], "prediction", "loss", "check_error",
    "rollout_predictions"}`` where each layer holds ``cell_type``, ``units``,
    ``steps``, ``values`` (part -> steps x units lists), ``rollout`` (part ->
    horizon x units lists, see :func:`rollout_trace`), ``grad_a``/``grad_c``
    and ``grad_norm`` (per step) and its own ``check_error``.
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
    horizon = default_horizon(loss) if horizon is None else horizon
    if prediction.shape[-1] != window.shape[-1]:  # the output cannot be fed back as the next input
        horizon = 0
    ahead = rollout_trace(model, window[0], horizon, one_hot=loss == "crossentropy")
    # the numpy stack (recurrent and dense layers) that rolls out gives the window's own prediction
    ahead_error = float(np.max(np.abs(ahead["predictions"][0] - prediction[0]))) if horizon else 0.0
    for info, parts in zip(layers, ahead["layers"], strict=False):
        info["rollout"] = {key: np.round(val, 6).tolist() for key, val in parts.items()}
        info["check_error"] = max(info["check_error"], ahead_error)
    return {
        "layers": layers,
        "prediction": prediction[0].tolist(),
        "loss": float(loss_value.numpy()),
        "check_error": max(worst, ahead_error),
        "rollout_predictions": np.round(ahead["predictions"], 6).tolist(),
    }


def _gradients(tape: Any, loss_value: Any, tensors: list[Any]) -> np.ndarray:
    grads = tape.gradient(loss_value, tensors, unconnected_gradients="zero")
    return np.stack([g.numpy()[0] for g in grads]).astype(np.float64)


def forward_substeps() -> tuple[str, ...]:
    """The four forward sub-steps of every time step, in order."""
    return ("input", "gates", "state", "output")


PHASES = ("forward", "error", "backward", "predict")


def frames(steps: int, predicted: int = 0) -> list[dict[str, Any]]:
    """The step-through sequence of one window: forward sub-steps, error, backward, predict ahead.

    Forward: for each time step t = 0..steps-1 the four sub-steps; then one error
    frame; then the backward pass from the last time step back to the first;
    then one frame per predicted step, t = steps..steps+predicted-1 (the cell
    reads prediction t-steps+1 and computes all four sub-steps).
    """
    sequence = [
        {"phase": "forward", "t": t, "sub": sub}
        for t in range(steps)
        for sub in range(len(forward_substeps()))
    ]
    sequence.append({"phase": "error", "t": steps - 1, "sub": 0})
    sequence += [{"phase": "backward", "t": t, "sub": 0} for t in reversed(range(steps))]
    sequence += [{"phase": "predict", "t": steps + k, "sub": 3} for k in range(predicted)]
    return sequence


def phase_start(steps: int, phase: str, predicted: int = 0) -> int:
    """Index into :func:`frames` where ``phase`` begins (the target of a phase jump)."""
    if phase not in PHASES or (phase == "predict" and not predicted):
        raise ValueError(f"unknown phase {phase!r}")
    return {"forward": 0, "error": 4 * steps, "backward": 4 * steps + 1, "predict": 5 * steps + 1}[phase]
