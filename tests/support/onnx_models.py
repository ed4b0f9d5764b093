"""Small ONNX text classifiers built with ``onnx.helper`` (no PyTorch), and their numpy reference.

The graphs look like what ``torch.onnx.export`` writes for ``nn.Embedding -> nn.LSTM/GRU/RNN ->
nn.Linear``: ids (batch, time) -> Gather -> Transpose -> the recurrent op(s) -> the last step
(``Y[-1]`` or ``Y_h``) -> Gemm -> Softmax (or raw logits, or a Sigmoid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
OPS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@dataclass
class Built:
    model: object  # onnx.ModelProto
    cell: str
    embedding: np.ndarray
    layers: list[dict] = field(default_factory=list)  # W, R, B per layer (ONNX shapes, one direction)
    dense: tuple = ()
    final: str = "softmax"
    linear_before_reset: int = 0

    def save(self, path: Path) -> Path:
        import onnx

        onnx.save(self.model, str(path))
        return path


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def reference_states(built: Built, ids: np.ndarray) -> list[np.ndarray]:
    """Every layer's hidden state at every step of one text's ids, (T, H) each, in numpy."""
    x = built.embedding[np.asarray(ids)].astype(np.float64)
    out = []
    for weights in built.layers:
        w, r, b = (np.asarray(weights[k], np.float64)[0] for k in ("W", "R", "B"))
        hidden = r.shape[1]
        wb, rb = b[: len(w)], b[len(w) :]
        h, c, states = np.zeros(hidden), np.zeros(hidden), []
        for step in x:
            if built.cell == "lstm":  # gate order i, o, f, c
                gates = step @ w.T + h @ r.T + wb + rb
                i, o, f, g = np.split(gates, 4)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
            elif built.cell == "gru":  # gate order z, r, h
                xw = step @ w.T + wb
                z = _sigmoid(xw[:hidden] + h @ r[:hidden].T + rb[:hidden])
                reset = _sigmoid(
                    xw[hidden : 2 * hidden] + h @ r[hidden : 2 * hidden].T + rb[hidden : 2 * hidden]
                )
                if built.linear_before_reset:
                    candidate = np.tanh(xw[2 * hidden :] + reset * (h @ r[2 * hidden :].T + rb[2 * hidden :]))
                else:
                    candidate = np.tanh(xw[2 * hidden :] + (reset * h) @ r[2 * hidden :].T + rb[2 * hidden :])
                h = (1 - z) * candidate + z * h
            else:
                h = np.tanh(step @ w.T + h @ r.T + wb + rb)
            states.append(h)
        out.append(np.array(states))
        x = out[-1]
    return out


def reference_probabilities(built: Built, state: np.ndarray) -> np.ndarray:
    """The head on (n, H) states of the last layer, as class probabilities."""
    weight, bias = built.dense
    logits = np.asarray(state, np.float64) @ weight.T + bias
    if built.final == "sigmoid":
        p = _sigmoid(logits)
        return np.concatenate([1 - p, p], axis=1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def build(
    cell: str = "lstm",
    vocab: int = 30,
    embed: int = 4,
    hidden: int = 5,
    classes: int = 3,
    layers: int = 1,
    final: str = "softmax",
    head_from: str = "Y",
    fixed: tuple[int, int] | None = None,
    linear_before_reset: int = 0,
    seed: int = 0,
    opset: int = 17,
) -> Built:
    """An ONNX classifier: ``final`` is softmax, logits or sigmoid (``classes`` 1); ``head_from`` Y or Y_h;
    ``fixed``: (batch, time) fixed in the input's shape (as a torch export without dynamic axes)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    gates = GATES[cell]
    embedding = rng.normal(0, 1, (vocab, embed)).astype(np.float32)
    inits = [numpy_helper.from_array(embedding, "embedding.weight")]
    shape = list(fixed) if fixed else ["batch", "time"]
    nodes = [
        helper.make_node("Gather", ["embedding.weight", "ids"], ["emb"], name="/embedding/Gather"),
        helper.make_node("Transpose", ["emb"], ["x0"], perm=[1, 0, 2], name="/Transpose"),
    ]
    built = Built(None, cell, embedding, final=final, linear_before_reset=linear_before_reset)
    x, size = "x0", embed
    for k in range(layers):
        weights = {
            "W": rng.normal(0, 0.6, (1, gates * hidden, size)).astype(np.float32),
            "R": rng.normal(0, 0.6, (1, gates * hidden, hidden)).astype(np.float32),
            "B": rng.normal(0, 0.2, (1, 2 * gates * hidden)).astype(np.float32),
        }
        built.layers.append(weights)
        names = [f"l{k}.{n}" for n in ("W", "R", "B")]
        inits += [numpy_helper.from_array(weights[n], name) for n, name in zip("WRB", names, strict=True)]
        extra = {"linear_before_reset": linear_before_reset} if cell == "gru" else {}
        outputs = [f"Y{k}", f"Yh{k}"] + ([f"Yc{k}"] if cell == "lstm" else [])
        suffix = f"_{k}" if k else ""
        nodes.append(
            helper.make_node(
                OPS[cell], [x, *names], outputs, hidden_size=hidden, name=f"/rnn/{OPS[cell]}{suffix}", **extra
            )
        )
        inits.append(numpy_helper.from_array(np.array([1], np.int64), f"axis1_{k}"))
        nodes.append(helper.make_node("Squeeze", [f"Y{k}", f"axis1_{k}"], [f"seq{k}"], name=f"/Squeeze{k}"))
        x, size = f"seq{k}", hidden
    last = layers - 1
    if head_from == "Y":
        inits.append(numpy_helper.from_array(np.array(-1, np.int64), "minus_one"))
        nodes.append(helper.make_node("Gather", [x, "minus_one"], ["final"], axis=0, name="/Gather_last"))
    else:
        inits.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
        nodes.append(helper.make_node("Squeeze", [f"Yh{last}", "axis0"], ["final"], name="/Squeeze_h"))
    width = 1 if final == "sigmoid" else classes
    dense = (
        rng.normal(0, 1, (width, hidden)).astype(np.float32),
        rng.normal(0, 0.3, width).astype(np.float32),
    )
    built.dense = dense
    inits += [numpy_helper.from_array(dense[0], "fc.weight"), numpy_helper.from_array(dense[1], "fc.bias")]
    head_out = "logits" if final != "logits" else "output"
    nodes.append(
        helper.make_node("Gemm", ["final", "fc.weight", "fc.bias"], [head_out], transB=1, name="/fc/Gemm")
    )
    if final == "softmax":
        nodes.append(helper.make_node("Softmax", ["logits"], ["output"], axis=-1, name="/Softmax"))
    elif final == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["output"], name="/Sigmoid"))
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [shape[0], width])],
        inits,
    )
    built.model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    built.model.ir_version = 8
    return built


def write_vocabulary(path: Path, words: list[str]) -> Path:
    """One token a line: line i is id i (0 padding, 1 unknown, then ``words``)."""
    path.write_text("\n".join(["<pad>", "<unk>", *words]) + "\n", encoding="utf-8")
    return path
