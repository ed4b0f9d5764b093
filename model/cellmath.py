"""Recurrent cells recomputed in numpy from Keras weights, with every gate exposed.

Keras returns only a layer's output; the trainer's cell view and the per-step
cell states of the analytics extraction need the inner values, so they are
recomputed here from ``layer.get_weights()`` (and tested against Keras).

Weight layouts (Keras 3):
- LSTM: kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u); gate order i, f, c~, o.
- GRU (reset_after=True): kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u);
  gate order z, r, h~.
- SimpleRNN: kernel (in, u), recurrent_kernel (u, u), bias (u).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CELL_TYPES = ("lstm", "gru", "simplernn")  # the one list of recurrent cells the app knows
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}  # how they are named to users


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _activation(name: str):
    return {"sigmoid": sigmoid, "tanh": np.tanh, "linear": lambda x: x, "relu": lambda x: np.maximum(x, 0)}[
        name
    ]


def lstm_step(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    weights: Sequence[np.ndarray],
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> dict[str, np.ndarray]:
    """One LSTM step for a batch: returns input/forget/output gates, candidate, c and h."""
    kernel, recurrent, bias = weights
    act, rec = _activation(activation), _activation(recurrent_activation)
    z = x @ kernel + h @ recurrent + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    i, f, o, g = rec(i), rec(f), rec(o), act(g)
    c_new = f * c + i * g
    h_new = o * act(c_new)
    return {"input_gate": i, "forget_gate": f, "candidate": g, "output_gate": o, "c": c_new, "h": h_new}


def gru_step(
    x: np.ndarray,
    h: np.ndarray,
    weights: Sequence[np.ndarray],
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> dict[str, np.ndarray]:
    """One GRU step (Keras ``reset_after=True`` variant): update/reset gates, candidate, h."""
    kernel, recurrent, bias = weights
    act, rec = _activation(activation), _activation(recurrent_activation)
    bias = np.asarray(bias).reshape(2, -1)
    xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ recurrent + bias[1], 3, axis=-1)
    z = rec(xz + hz)
    r = rec(xr + hr)
    g = act(xh + r * hh)
    h_new = z * h + (1.0 - z) * g
    return {"update_gate": z, "reset_gate": r, "candidate": g, "h": h_new}


def simplernn_step(
    x: np.ndarray, h: np.ndarray, weights: Sequence[np.ndarray], activation: str = "tanh"
) -> dict[str, np.ndarray]:
    """One Elman step: h = act(x W + h U + b)."""
    kernel, recurrent, bias = weights
    h_new = _activation(activation)(x @ kernel + h @ recurrent + bias)
    return {"h": h_new}


def run_sequence(
    cell_type: str,
    inputs: np.ndarray,
    weights: Sequence[np.ndarray],
    mask: np.ndarray | None = None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
) -> dict[str, np.ndarray]:
    """Run a cell over ``inputs`` of shape (batch, steps, features).

    Returns a dict of arrays of shape (batch, steps, units), one per gate or state.
    Where ``mask`` (batch, steps) is False the state is carried over unchanged,
    as Keras does for masked (padding) steps.
    """
    cell_type = cell_type.lower()
    inputs = np.asarray(inputs, dtype=np.float64)
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    batch, steps, _ = inputs.shape
    units = weights[1].shape[0]
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    trace: dict[str, list[np.ndarray]] = {}
    for t in range(steps):
        x = inputs[:, t, :]
        if cell_type == "lstm":
            out = lstm_step(x, h, c, weights, activation, recurrent_activation)
        elif cell_type == "gru":
            out = gru_step(x, h, weights, activation, recurrent_activation)
        elif cell_type == "simplernn":
            out = simplernn_step(x, h, weights, activation)
        else:
            raise ValueError(f"unknown cell type {cell_type!r}; expected one of {CELL_TYPES}")
        if mask is not None:
            keep = ~np.asarray(mask[:, t], dtype=bool)[:, None]
            out["h"] = np.where(keep, h, out["h"])
            if "c" in out:
                out["c"] = np.where(keep, c, out["c"])
        h = out["h"]
        c = out.get("c", c)
        for name, value in out.items():
            trace.setdefault(name, []).append(value)
    return {name: np.stack(values, axis=1) for name, values in trace.items()}
