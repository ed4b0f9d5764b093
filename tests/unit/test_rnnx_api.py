"""``rnnx.analyse`` on an ONNX file and on an adapter of the same network: the same numbers, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnx
from model import byo, textmodels
from rnnx.adapter import AdapterError
from tests.support import onnx_models as om

WORDS = ["good", "bad", "movie", "plot", "fine", "dull"]
TEXTS = ["good movie", "bad plot, dull", "a fine fine movie", "zzz", "plot"]
LABELS = ["pos", "neg", "pos", "neg", "neg"]
VOCABULARY = {"<pad>": 0, "<unk>": 1, **{w: i + 2 for i, w in enumerate(WORDS)}}


class NumpyAdapter:
    """The adapter protocol over the numpy reference of an ONNX-built network."""

    class_names = ["neg", "pos"]

    def __init__(self, built: om.Built) -> None:
        self.built = built

    def tokenize(self, texts):
        words = [textmodels.tokenize(t) for t in texts]
        return [[VOCABULARY.get(w, 1) for w in row] for row in words], words

    def states(self, token_ids):
        return [om.reference_states(self.built, ids)[-1] if ids else np.zeros((0, 5)) for ids in token_ids]

    def probabilities(self, states):
        return om.reference_probabilities(self.built, states)


@pytest.fixture(scope="module")
def built() -> om.Built:
    return om.build(vocab=len(VOCABULARY), classes=2, final="logits", seed=4)


def test_analyse_onnx_and_adapter_agree(built: om.Built, tmp_path: Path) -> None:
    path = built.save(tmp_path / "m.onnx")
    found = rnnx.analyse(path, TEXTS, LABELS, vocabulary=VOCABULARY)
    assert found.class_names == ["neg", "pos"] and found.info["model_format"] == "onnx"
    assert found.words[1] == ["bad", "plot", "dull"] and list(np.diff(found.offsets)) == [2, 3, 4, 1, 1]
    assert found.hidden.shape == (11, 5) and found.ep.shape == (11, 2) and found.projection.shape == (11, 2)
    assert found.states(2).shape == (4, 5)
    frame = found.frame
    assert list(frame.columns) == ["text", "label", "predicted", "confidence", "correct", "steps"]
    assert list(frame["label"]) == LABELS and frame["steps"].sum() == 11
    via_adapter = rnnx.analyse(NumpyAdapter(built), TEXTS, LABELS)
    np.testing.assert_allclose(via_adapter.hidden, found.hidden, atol=2e-5)
    np.testing.assert_allclose(via_adapter.ep, found.ep, atol=2e-5)
    assert list(via_adapter.predicted) == list(found.predicted)
    assert via_adapter.info["cell_type"] == "adapter"


def test_bad_adapters_and_inputs_are_refused(built: om.Built, tmp_path: Path) -> None:
    class Short(NumpyAdapter):
        def states(self, token_ids):
            return [np.zeros((1, 5)) for _ in token_ids]

    with pytest.raises(AdapterError, match="text 0 has 2 tokens"):
        rnnx.analyse(Short(built), TEXTS, LABELS)
    with pytest.raises(byo.InputError, match="Cannot analyse a int"):
        rnnx.analyse(3, TEXTS, LABELS)
    with pytest.raises(byo.InputError, match="5 texts but 2 labels"):
        rnnx.analyse(NumpyAdapter(built), TEXTS, LABELS[:2])
    with pytest.raises(byo.InputError, match="3 classes.*2 outputs"):
        rnnx.analyse(NumpyAdapter(built), TEXTS, ["a", "b", "c", "a", "a"])
    with pytest.raises(byo.InputError, match="takes token ids: give its vocabulary"):
        rnnx.analyse(built.save(tmp_path / "m.onnx"), TEXTS, LABELS)
