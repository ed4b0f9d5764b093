"""An ONNX text classifier's graph, read safely: checks, its recurrent ops, and the surgery the analysis needs.

A graph is accepted when it uses only the standard operator set (no custom domain, no local
functions), holds at most :data:`MAX_NODES` nodes, takes one integer input (token ids) and
has at least one forward ``LSTM``, ``GRU`` or ``RNN`` op at its top level. Weights stored
in external data files are read only from plain file names beside the model (never a path
outside its folder), and only where the caller allows them (never for a page upload).
Every problem a user can cause raises :class:`model.byo_csv.InputError`. No onnxruntime here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from model.byo_csv import InputError, check_file, check_size, upload_limit_bytes

RECURRENT_OPS = {"LSTM": "lstm", "GRU": "gru", "RNN": "simplernn"}
STANDARD_DOMAINS = {"", "ai.onnx"}
MAX_NODES = 20_000
MAX_EXTERNAL_FILES = 64
NOT_ONNX = "This is not a readable ONNX model (.onnx): {why}."
NO_RECURRENT = (
    "This ONNX model has no LSTM, GRU or RNN op at its top level; hidden-state analytics needs one "
    "(export nn.LSTM, nn.GRU or nn.RNN with torch.onnx.export)."
)
INT_TYPES = {6: np.int32, 7: np.int64}  # TensorProto.INT32, INT64


@dataclass(frozen=True)
class Layer:
    """One recurrent op of the graph."""

    name: str  # the node's name, else "<op>_<k>" (k counts that op type)
    op: str  # LSTM, GRU or RNN
    cell_type: str  # lstm, gru, simplernn
    hidden_size: int
    layout: int  # 0: Y is (T, dirs, B, H); 1: Y is (B, T, dirs, H)
    node_index: int


@dataclass
class Graph:
    """A checked ONNX classifier: the model, its recurrent layers, its token-id input and its output."""

    model: object  # onnx.ModelProto, weights loaded
    layers: list[Layer]
    input_name: str
    input_dtype: type
    input_shape: tuple  # int for a fixed axis, None for a dynamic one
    output_name: str
    vocab_size: int | None  # rows of the embedding table the ids index, when it can be told
    external: bool = False  # whether its weights were read from external data files

    def layer(self, name: str | None) -> Layer:
        """The layer called ``name``; the last recurrent op when ``name`` is None (as for Keras)."""
        if name is None:
            return self.layers[-1]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(layer.name for layer in self.layers)
        raise InputError(
            f"This model has no recurrent layer named {name!r}; its recurrent layers are: {names}."
        )


def _onnx():
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - a dependency of requirements.txt
        raise InputError("ONNX models need the onnx package: pip install -r requirements.txt.") from error
    return onnx


def looks_like_onnx(path: str | Path) -> bool:
    """Whether a file starts as a serialized ONNX ModelProto (field 1, ir_version, a varint)."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    return len(head) == 2 and head[0] == 0x08 and 0 < head[1] < 0x80


def _all_nodes(graph):
    """Every node of ``graph`` and of its subgraphs (If, Loop, Scan bodies)."""
    onnx = _onnx()
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for sub in attribute.graphs:
                    yield from _all_nodes(sub)


def _check_domains(model) -> None:
    custom = sorted({o.domain for o in model.opset_import} - STANDARD_DOMAINS)
    if model.functions:
        raise InputError(
            "This ONNX model defines its own functions; only graphs of standard ONNX ops are accepted "
            "(export without export_modules_as_functions)."
        )
    for count, node in enumerate(_all_nodes(model.graph), start=1):
        if node.domain not in STANDARD_DOMAINS:
            custom.append(node.domain)
        if count > MAX_NODES:
            raise InputError(f"This ONNX model has more than {MAX_NODES:,} nodes, over the limit.")
    if custom:
        raise InputError(
            f"This ONNX model uses ops of a custom domain ({', '.join(sorted(set(custom))[:3])}); only the "
            "standard ONNX operator set is accepted."
        )


def _external_tensors(model):
    onnx = _onnx()
    from onnx import external_data_helper

    for tensor in external_data_helper._get_all_tensors(model):
        if tensor.HasField("data_location") and tensor.data_location == onnx.TensorProto.EXTERNAL:
            yield tensor


def _load_external(model, folder: Path, allow: bool) -> bool:
    """Read external weights from plain file names in ``folder``; refuse them when not ``allow``ed."""
    tensors = list(_external_tensors(model))
    if not tensors:
        return False
    locations = {entry.value for t in tensors for entry in t.external_data if entry.key == "location"}
    if not allow:
        raise InputError(
            "This ONNX model keeps its weights in separate files, which an upload cannot bring: save it "
            "with its weights inside (onnx.save(model, path, save_as_external_data=False))."
        )
    if len(locations) > MAX_EXTERNAL_FILES:
        raise InputError(f"This ONNX model names more than {MAX_EXTERNAL_FILES} external data files.")
    total = 0
    root = folder.resolve()
    for location in locations:
        target = (folder / location).resolve()
        if Path(location).is_absolute() or ".." in Path(location).parts or target.parent != root:
            raise InputError(
                f"This ONNX model's external data file {location!r} is not a plain file name beside the "
                "model; it was refused."
            )
        if not target.is_file():
            raise InputError(f"This ONNX model's external data file {location!r} is missing.")
        total += target.stat().st_size
    check_size(total, "ONNX model's external data")
    from onnx import external_data_helper

    try:
        external_data_helper.load_external_data_for_model(model, str(root))
    except Exception as error:  # noqa: BLE001 - any read failure is the user's file
        raise InputError(
            f"This ONNX model's external data could not be read ({type(error).__name__})."
        ) from error
    return True


def _shape(value_info) -> tuple:
    dims = value_info.type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)


def _vocab_size(model, input_name: str) -> int | None:
    """Rows of the table a ``Gather`` takes the token ids from (the embedding), when there is one."""
    tables = {t.name: tuple(t.dims) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) > 1 and node.input[1] == input_name:
            dims = tables.get(node.input[0])
            if dims and len(dims) == 2:
                return int(dims[0])
    return None


def _layers(model) -> list[Layer]:
    layers, counts = [], {}
    for index, node in enumerate(model.graph.node):
        if node.op_type not in RECURRENT_OPS or node.domain not in STANDARD_DOMAINS:
            continue
        attributes = {a.name: a for a in node.attribute}
        direction = attributes["direction"].s.decode() if "direction" in attributes else "forward"
        k = counts[node.op_type] = counts.get(node.op_type, -1) + 1
        name = node.name or f"{node.op_type.lower()}_{k}"
        if direction != "forward":
            raise InputError(
                f"The recurrent op {name!r} runs {direction}; only forward LSTM, GRU and RNN ops are "
                "analysed (a bidirectional layer has no single state per step to take the output from)."
            )
        if "hidden_size" not in attributes:
            raise InputError(f"The recurrent op {name!r} does not state its hidden_size.")
        layout = attributes["layout"].i if "layout" in attributes else 0
        layers.append(
            Layer(
                name,
                node.op_type,
                RECURRENT_OPS[node.op_type],
                int(attributes["hidden_size"].i),
                layout,
                index,
            )
        )
    if len({layer.name for layer in layers}) != len(layers):
        layers = [replace(layer, name=f"{layer.name}#{i}") for i, layer in enumerate(layers)]
    return layers


def read(path: str | Path, allow_external: bool = False) -> Graph:
    """A checked :class:`Graph` of the ``.onnx`` file at ``path``; InputError for anything unusable or unsafe."""
    onnx = _onnx()
    path = check_file(path, "model file")
    check_size(path.stat().st_size, "model file")
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception as error:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise InputError(NOT_ONNX.format(why=f"{type(error).__name__}")) from error
    if not model.graph.node:
        raise InputError(NOT_ONNX.format(why="its graph has no nodes"))
    _check_domains(model)
    external = _load_external(model, path.parent, allow_external)
    try:
        onnx.checker.check_model(model)
    except Exception as error:  # noqa: BLE001 - ValidationError: the graph itself is malformed
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise InputError(NOT_ONNX.format(why=f"the graph is not valid ({first})")) from error
    layers = _layers(model)
    if not layers:
        raise InputError(NO_RECURRENT)
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise InputError(
            f"This ONNX model takes {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); it must take "
            "one: the token ids of a batch of texts."
        )
    elem = inputs[0].type.tensor_type.elem_type
    if elem not in INT_TYPES:
        kind = onnx.TensorProto.DataType.Name(elem).lower() if elem else "unknown"
        raise InputError(
            f"This ONNX model takes {kind} inputs, not token ids: export the model from its Embedding "
            "layer on (an integer input of token ids)."
        )
    shape = _shape(inputs[0])
    if len(shape) != 2:
        raise InputError(
            f"This ONNX model's input has {len(shape)} axes; token ids of (batch, time) are expected."
        )
    return Graph(
        model, layers, inputs[0].name, INT_TYPES[elem], shape, model.graph.output[0].name,
        _vocab_size(model, inputs[0].name), external,
    )  # fmt: skip


def limit_note() -> str:
    return f"{upload_limit_bytes() / 2**20:.0f} MB"


# ---------------------------------------------------------------- surgery


def with_outputs(graph: Graph, names: list[str]):
    """A copy of the model whose graph also outputs the tensors ``names`` (types from shape inference)."""
    onnx = _onnx()
    from onnx import helper, shape_inference

    model = onnx.ModelProto()
    model.CopyFrom(graph.model)
    known = {o.name for o in model.graph.output}
    try:
        inferred = shape_inference.infer_shapes(model)
        types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    except Exception:  # noqa: BLE001 - inference is a help, not a need
        types = {}
    for name in names:
        if name and name not in known:
            elem = types.get(name) or onnx.TensorProto.FLOAT
            model.graph.output.append(helper.make_tensor_value_info(name, elem, None))
            known.add(name)
    return model


def state_output(graph: Graph, layer: Layer) -> str:
    """The name of ``layer``'s ``Y`` (its state at every step), given a name in the graph if it had none."""
    node = graph.model.graph.node[layer.node_index]
    if len(node.output) == 0:
        node.output.append("")
    if not node.output[0]:
        node.output[0] = f"rnnx_Y_{layer.node_index}"
    return node.output[0]


def downstream(graph: Graph, sources: list[str]) -> list[str]:
    """Every tensor computed (in graph order) from ``sources``."""
    reached, order = set(sources), []
    for node in graph.model.graph.node:
        if any(name in reached for name in node.input if name):
            for out in node.output:
                if out and out not in reached:
                    reached.add(out)
                    order.append(out)
    return order


def head_model(graph: Graph, state: str, hidden_size: int):
    """The part of the graph from tensor ``state`` (n, H) to the output, as a model of its own, or None.

    None when the output depends on anything else than ``state`` and constants (the token ids, say).
    """
    onnx = _onnx()
    from onnx import helper

    nodes = list(graph.model.graph.node)
    producer = {out: i for i, node in enumerate(nodes) for out in node.output if out}
    weights = {t.name: t for t in graph.model.graph.initializer}
    needed, used, stack, reached = set(), set(), [graph.output_name], False
    while stack:
        name = stack.pop()
        reached = reached or name == state
        if name == state or name in used or not name:
            continue
        used.add(name)
        if name in weights:
            continue
        if name not in producer:
            return None  # a graph input (the token ids) feeds the output around the state
        index = producer[name]
        if index not in needed:
            needed.add(index)
            stack.extend(nodes[index].input)
    if not reached:
        return None
    head = helper.make_graph(
        [nodes[i] for i in sorted(needed)],
        "rnnx_head",
        [helper.make_tensor_value_info(state, onnx.TensorProto.FLOAT, [None, hidden_size])],
        [helper.make_tensor_value_info(graph.output_name, onnx.TensorProto.FLOAT, None)],
        [weights[name] for name in sorted(used & set(weights))],
    )
    model = helper.make_model(head, opset_imports=list(graph.model.opset_import))
    model.ir_version = graph.model.ir_version
    return model


def final_op(graph: Graph) -> str | None:
    """The op type that computes the model's output (Softmax, Sigmoid, LogSoftmax, Gemm, ...)."""
    for node in graph.model.graph.node:
        if graph.output_name in node.output:
            return node.op_type
    return None
