"""ONNX classifiers on onnxruntime: per-step states against numpy, EP against the model's own output, refusals.

The graphs are built with ``onnx.helper`` (tests/support/onnx_models.py), shaped like a
``torch.onnx.export`` of Embedding -> LSTM/GRU/RNN -> Linear; the reference recomputes the
recurrent op in numpy with ONNX's gate order (LSTM i, o, f, c; GRU z, r, h).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model import byo, byo_models, onnx_graph, onnx_text
from model.onnx_model import OnnxClassifier
from tests.support import onnx_models as om

TEXTS = [np.array([3, 4, 5, 6, 7]), np.array([8, 9]), np.array([], np.int64), np.array([10, 3, 4, 5, 2])]


def check_against_reference(built: om.Built, classifier: OnnxClassifier, layer: int = -1) -> None:
    states = classifier.run(TEXTS)
    kept = [ids for ids in TEXTS if len(ids)]
    reference = [om.reference_states(built, ids) for ids in kept]
    expected = np.concatenate([r[layer] for r in reference])
    np.testing.assert_allclose(states.hidden, expected, atol=2e-5)
    assert list(np.diff(states.offsets)) == [len(ids) for ids in TEXTS]
    # EP of every step: the head on the last layer's state, as if the text ended there
    every = np.concatenate([r[-1] for r in reference])
    np.testing.assert_allclose(states.ep, om.reference_probabilities(built, every), atol=2e-5)
    # EP at the last step is the model's own output on the whole text
    own = classifier.predict(TEXTS)
    last = states.offsets[1:][[0, 1, 3]] - 1
    np.testing.assert_allclose(states.ep[last], own[[0, 1, 3]], atol=1e-5)
    np.testing.assert_allclose(own[2], 0.5 if own.shape[1] == 2 else 1 / own.shape[1])
    assert list(states.predicted[[0, 1, 3]]) == list(own[[0, 1, 3]].argmax(axis=1))


@pytest.mark.parametrize(
    "options",
    [
        {"cell": "lstm"},
        {"cell": "gru"},
        {"cell": "gru", "linear_before_reset": 1},
        {"cell": "rnn"},
        {"cell": "lstm", "head_from": "Y_h", "final": "logits"},
        {"cell": "gru", "final": "sigmoid", "classes": 1},
    ],
    ids=["lstm", "gru", "gru-lbr", "rnn", "lstm-yh-logits", "gru-sigmoid"],
)
def test_states_and_ep_match_numpy(tmp_path: Path, options: dict) -> None:
    built = om.build(**options)
    classifier = OnnxClassifier(built.save(tmp_path / "m.onnx"))
    assert classifier.cell_type == {"lstm": "lstm", "gru": "gru", "rnn": "simplernn"}[options["cell"]]
    assert classifier.n_outputs == (1 if options.get("classes") == 1 else 3)
    check_against_reference(built, classifier)


def test_stacked_layers_choose_like_keras(tmp_path: Path) -> None:
    built = om.build(layers=2, seed=3)
    path = built.save(tmp_path / "m.onnx")
    last = OnnxClassifier(path)
    assert last.names == ["/rnn/LSTM", "/rnn/LSTM_1"] and last.layer.name == "/rnn/LSTM_1"
    check_against_reference(built, last, layer=-1)
    first = OnnxClassifier(path, "/rnn/LSTM")
    check_against_reference(built, first, layer=0)  # the first layer's states, EP still the model's
    with pytest.raises(byo.InputError, match="no recurrent layer named 'lstm9'.*LSTM_1"):
        OnnxClassifier(path, "lstm9")


def test_fixed_shape_export_is_prepadded(tmp_path: Path) -> None:
    """A torch export without dynamic axes fixes (batch, time): ids are pre-padded, their own steps kept."""
    built = om.build(fixed=(1, 8))
    classifier = OnnxClassifier(built.save(tmp_path / "m.onnx"))
    assert (classifier.fixed_batch, classifier.max_len) == (1, 8)
    states = classifier.run(TEXTS)
    padded = [np.concatenate([np.zeros(8 - len(ids), np.int64), ids]) for ids in TEXTS if len(ids)]
    expected = np.concatenate(
        [om.reference_states(built, p)[-1][8 - n :] for p, n in zip(padded, [5, 2, 5], strict=True)]
    )
    np.testing.assert_allclose(states.hidden, expected, atol=2e-5)


# ---------------------------------------------------------------- refusals


def _model_with(tmp_path: Path, change) -> Path:
    built = om.build()
    change(built.model)
    path = tmp_path / "m.onnx"
    import onnx

    onnx.save(built.model, str(path))
    return path


def test_custom_domain_is_refused(tmp_path: Path) -> None:
    from onnx import helper

    def add_custom(model):
        model.opset_import.append(helper.make_opsetid("com.example", 1))
        model.graph.node.append(helper.make_node("Evil", ["output"], ["spare"], domain="com.example"))

    with pytest.raises(byo.InputError, match="custom domain.*com.example"):
        onnx_graph.read(_model_with(tmp_path, add_custom))


def test_no_recurrent_op_is_refused(tmp_path: Path) -> None:
    def no_rnn(model):
        for node in model.graph.node:
            if node.op_type == "LSTM":
                node.op_type = "Identity"
                del node.attribute[:]
                del node.input[1:]
                del node.output[1:]

    with pytest.raises(byo.InputError, match="no LSTM, GRU or RNN op"):
        onnx_graph.read(_model_with(tmp_path, no_rnn))


def test_float_input_and_bidirectional_are_refused(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    def float_input(model):
        model.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT

    with pytest.raises(byo.InputError, match="float inputs, not token ids"):
        onnx_graph.read(_model_with(tmp_path, float_input))

    def both_ways(model):
        lstm = next(n for n in model.graph.node if n.op_type == "LSTM")
        lstm.attribute.append(helper.make_attribute("direction", "reverse"))

    with pytest.raises(byo.InputError, match="runs reverse"):
        onnx_graph.read(_model_with(tmp_path, both_ways))


def test_external_data_stays_beside_the_model(tmp_path: Path) -> None:
    import onnx

    built = om.build()
    (tmp_path / "inner").mkdir()
    path = tmp_path / "inner" / "m.onnx"
    onnx.save(built.model, str(path), save_as_external_data=True, location="m.weights", size_threshold=0)
    with pytest.raises(byo.InputError, match="weights in separate files"):
        onnx_graph.read(path)  # a page upload: never
    assert onnx_graph.read(path, allow_external=True).external  # the command line: beside the model
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../secret.bin"
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4096)
    onnx.save(model, str(path))
    with pytest.raises(byo.InputError, match="not a plain file name beside the model"):
        onnx_graph.read(path, allow_external=True)


def test_not_onnx_and_layer_names(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07 this is not protobuf at all \xff\xff\xff")
    with pytest.raises(byo.InputError, match="not a readable ONNX model|not valid"):
        onnx_graph.read(junk)
    path = om.build(cell="gru", layers=2).save(tmp_path / "model.keras")  # the page's name for uploads
    assert byo_models.is_onnx(path)
    assert byo_models.recurrent_layer_names(path) == ["/rnn/GRU", "/rnn/GRU_1"]


# ---------------------------------------------------------------- token ids


def test_vocabulary_and_tokenizer_json(tmp_path: Path) -> None:
    vocab = om.write_vocabulary(tmp_path / "v.txt", ["good", "movie"])
    encoder = onnx_text.read_encoder(vocab)
    ids, words = encoder.encode(["A good, GOOD movie!"], 10)
    assert words == [["a", "good", "good", "movie"]] and list(ids[0]) == [1, 2, 2, 3]
    as_json = tmp_path / "v.json"
    as_json.write_text(json.dumps({"<pad>": 0, "[UNK]": 1, "model": 2, "version": 3}))
    assert not onnx_text.is_tokenizer_file(as_json)
    assert onnx_text.read_encoder(as_json).encode(["model version x"], 5)[0][0].tolist() == [2, 3, 1]
    with pytest.raises(byo.InputError, match="ids go up to 3.*below 3"):
        onnx_text.check_range(onnx_text.read_encoder(as_json), 3)

    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers

    tokenizer = tokenizers.Tokenizer(models.WordLevel({"[UNK]": 0, "good": 1, "movie": 2}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    assert onnx_text.is_tokenizer_file(path)
    encoder = onnx_text.read_encoder(path)
    ids, words = encoder.encode(["good bad movie"], 10)
    assert words == [["good", "bad", "movie"]] and list(ids[0]) == [1, 0, 2] and encoder.size == 3
    assert [list(row) for row in encoder.ids_of([["movie", "zzz"]])] == [[2, 0]]


def test_occlusion_attribution(tmp_path: Path) -> None:
    built = om.build(vocab=5, classes=2, seed=5)
    path = built.save(tmp_path / "m.onnx")
    vocab = om.write_vocabulary(tmp_path / "v.txt", ["good", "bad", "movie"])
    upload = byo_models.load(path, None, vocab)
    found = upload.occlusion("good bad movie")
    assert found.method == "occlusion" and found.words == ["good", "bad", "movie"]
    ids = [np.array([2, 3, 4]), np.array([3, 4]), np.array([2, 4]), np.array([2, 3])]
    probs = upload.classifier.predict(ids)
    np.testing.assert_allclose(found.scores, probs[0, found.target] - probs[1:, found.target], atol=1e-6)
    words, hidden, ep = upload.text_states("good bad movie")
    np.testing.assert_allclose(hidden, om.reference_states(built, ids[0])[-1], atol=2e-5)
    np.testing.assert_allclose(ep[-1], probs[0], atol=1e-5)
