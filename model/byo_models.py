"""One interface over the kinds of model a user brings: Keras (``.keras``) and ONNX (``.onnx``).

The kind is told by the file's content (the page keeps every upload under one name): a zip
archive is Keras, a serialized ONNX ModelProto is ONNX. :func:`load` gives an object with
what the preparation needs (``n_outputs``, ``max_len``, ``encode``, ``run``, ``describe``);
:func:`uploaded` gives the one of a prepared upload (loaded once per process), with what-if
states, predictions over word lists (counterfactuals) and attributions. ONNX models have no
gradients here: their attributions are by occlusion (leave one token out).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np

from model import byo, memo, onnx_graph, onnx_text

NEEDS_VOCABULARY = (
    "This ONNX model takes token ids: give its vocabulary too (JSON word→id, one token per line, "
    "or a Hugging Face tokenizer.json)."
)
OCCLUSION = "occlusion"


def is_onnx(path: str | Path) -> bool:
    """Whether the model file at ``path`` is ONNX (by its content, or an ``.onnx`` name)."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        return True
    return path.is_file() and not zipfile.is_zipfile(path) and onnx_graph.looks_like_onnx(path)


def recurrent_layer_names(path: str | Path) -> list[str]:
    """Names of the model's recurrent layers (read without running it); InputError if unusable or unsafe."""
    if is_onnx(path):
        return [layer.name for layer in onnx_graph.read(path).layers]
    return byo.recurrent_layer_names(path)


def vocabulary_size(path: str | Path) -> int:
    """Tokens in a vocabulary file or a ``tokenizer.json``; InputError when unusable."""
    return onnx_text.read_encoder(path).size


def check_model_file(
    path: str | Path, layer_name: str | None, vocab_path: str | Path | None, allow_external: bool = False
) -> None:
    """What the files tell before a model runs: safety, the layer's name, the vocabulary's ids."""
    if is_onnx(path):
        graph = onnx_graph.read(path, allow_external)
        graph.layer(layer_name)
        if vocab_path is None:
            raise byo.InputError(NEEDS_VOCABULARY)
        onnx_text.check_range(onnx_text.read_encoder(vocab_path), graph.vocab_size)
        return
    if vocab_path is not None and onnx_text.is_tokenizer_file(vocab_path):
        raise byo.InputError(
            "A tokenizer.json goes with ONNX models; a Keras model takes a vocabulary file (JSON word→id "
            "or one token per line) or has a TextVectorization layer."
        )
    byo.check_model_file(path, layer_name, byo.read_vocabulary(vocab_path) if vocab_path else None)


class KerasUpload:
    """A Keras model with its vocabulary: the existing ``model.byo`` path."""

    has_gradients = True

    def __init__(self, model, vocab_path: str | Path | None, layer_name: str | None) -> None:
        from model.extraction import StateExtractor

        self.model = model
        if isinstance(vocab_path, dict):  # the Python API's vocabulary
            vocab_path = onnx_text.read_encoder(vocab_path).vocabulary
        self.vocabulary = vocab_path if isinstance(vocab_path, dict) else None
        if vocab_path is not None and self.vocabulary is None:
            self.vocabulary = byo.read_vocabulary(vocab_path)
        self.extractor = StateExtractor(model, layer_name)
        self.n_outputs = byo.n_outputs(model)
        self.max_len = byo.model_max_len(model)

    def encode(self, texts: list[str]) -> tuple:
        return byo.encode_for_model(self.model, texts, self.vocabulary, self.max_len)

    def run(self, ids, inputs=None, on_batch=None):
        return self.extractor.run(ids, inputs, on_batch=on_batch)

    def describe(self) -> dict:
        from model import extraction

        return {
            "cell_type": extraction.cell_type_of(self.extractor.layer),
            "units": self.extractor.units,
            "layer": self.extractor.layer.name,
            "recurrent_layers": [lay.name for lay in extraction.recurrent_layers(self.model)],
        }

    def file_to_keep(self, path: Path) -> Path:
        return path


class OnnxUpload:
    """An ONNX classifier (:class:`model.onnx_model.OnnxClassifier`) with its vocabulary or tokenizer."""

    has_gradients = False

    def __init__(
        self, path: str | Path, vocab_path: str | Path | None, layer_name: str | None, allow_external: bool
    ) -> None:
        from model.onnx_model import OnnxClassifier

        if vocab_path is None:
            raise byo.InputError(NEEDS_VOCABULARY)
        self.classifier = OnnxClassifier(path, layer_name, allow_external)
        self.encoder = onnx_text.read_encoder(vocab_path)
        onnx_text.check_range(self.encoder, self.classifier.graph.vocab_size)
        self.n_outputs = max(2, self.classifier.n_outputs)
        self.max_len = self.classifier.max_len

    def encode(self, texts: list[str]) -> tuple:
        """(inputs, ids, words): ids unpadded per text (the inputs are the same ids)."""
        ids, words = self.encoder.encode(texts, self.max_len)
        return ids, ids, words

    def run(self, ids, inputs=None, on_batch=None):
        return self.classifier.run(ids, on_batch=on_batch)

    def describe(self) -> dict:
        return {
            "cell_type": self.classifier.cell_type,
            "units": self.classifier.units,
            "layer": self.classifier.layer.name,
            "recurrent_layers": list(self.classifier.names),
            "model_format": "onnx",
            "attribution_method": OCCLUSION,
        }

    def file_to_keep(self, path: Path) -> Path:
        """``path``, or a copy with its external weights inside (the kept file stands alone)."""
        if not self.classifier.graph.external:
            return path
        import onnx

        folder = Path(tempfile.mkdtemp(prefix="rnnx-onnx-"))
        whole = folder / "model.onnx"
        onnx.save_model(self.classifier.graph.model, str(whole), save_as_external_data=False)
        return whole

    def text_states(self, text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        ids, [words] = self.encoder.encode([text], self.max_len)
        states = self.classifier.run(ids)
        return words, states.hidden, states.ep

    def predict_words(self, texts: list[list[str]]) -> np.ndarray:
        """Class probabilities of lists of tokens (counterfactual candidates)."""
        return self.classifier.predict(self.encoder.ids_of([list(t)[-self.max_len :] for t in texts]))

    def occlusion(self, text: str, target: int | None = None):
        """Each token's attribution by leaving it out: f(text) - f(text without it), for the target class."""
        from model.attribution import Attribution, AttributionError

        ids, [words] = self.encoder.encode([text], self.max_len)
        row = ids[0]
        if not len(row):
            raise AttributionError(
                "This text has no token the model reads, so there is nothing to attribute."
            )
        variants = [row, *(np.delete(row, i) for i in range(len(row)))]
        probs = self.classifier.predict(variants)
        target = int(np.argmax(probs[0])) if target is None else int(target)
        if not 0 <= target < probs.shape[1]:
            raise AttributionError(f"There is no class {target} (the model has {probs.shape[1]}).")
        scores = probs[0, target] - probs[1:, target]
        return Attribution(
            words=list(words),
            scores=scores.astype(np.float32),
            target=target,
            prediction=float(probs[0, target]),
            baseline=1.0 / probs.shape[1],
            steps=0,
            method=OCCLUSION,
        )


def load(
    path: str | Path, layer_name: str | None, vocab_path: str | Path | None, allow_external: bool = False
) -> KerasUpload | OnnxUpload:
    """The user's model, ready to encode texts and give their states."""
    if is_onnx(path):
        return OnnxUpload(path, vocab_path, layer_name, allow_external)
    return KerasUpload(byo.load_model(path), vocab_path, layer_name)


# ---------------------------------------------------------------- prepared uploads


def _spec(upload_id: str) -> byo.UploadSpec:
    from model import cache

    spec = cache.get(byo.spec_key(upload_id))
    if spec is None:
        raise LookupError(f"Upload {upload_id} is not prepared.")
    return spec


def is_onnx_upload(dataset: str) -> bool:
    """Whether ``dataset`` is a prepared upload of an ONNX model (False for anything else)."""
    if not byo.is_upload(dataset):
        return False
    try:
        return is_onnx(_spec(dataset).model_path)
    except LookupError:
        return False


def onnx_upload(upload_id: str) -> OnnxUpload:
    """The prepared ONNX upload's model, loaded once per process; LookupError when not prepared."""
    spec = _spec(upload_id)
    key = (spec.model_path, spec.layer_name, spec.vocab_path)
    return memo.remember(
        "upload-onnx", key, lambda: OnnxUpload(spec.model_path, spec.vocab_path, spec.layer_name, False)
    )


def text_states(upload_id: str, text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, hidden states, EP) of one text under an uploaded model of either kind (what-if)."""
    if is_onnx_upload(upload_id):
        return onnx_upload(upload_id).text_states(text)
    return byo.text_states(upload_id, text)


def onnx_scorer(upload_id: str) -> tuple:
    """(predict over word lists, frequency-ranked vocabulary sample) of an ONNX upload (counterfactuals)."""
    from model.counterfactual import vocabulary_sample

    upload = onnx_upload(upload_id)
    return upload.predict_words, tuple(vocabulary_sample(upload.encoder.ranked_words()))
