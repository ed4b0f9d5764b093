"""Bring your own model and data: a recurrent Keras text classifier and a CSV of texts and labels.

The model may take raw strings (a TextVectorization layer inside) or token ids
with a vocabulary file (JSON ``{"word": id}`` or one token per line, line i = id i).
Models are loaded in Keras safe mode, so a file with a Lambda layer (arbitrary
code) is refused. Every problem a user can cause raises :class:`InputError`
with a message meant for them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from model import config, textmodels

UPLOAD_PREFIX = "upload-"
LABEL_COLUMN_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y")
TEXT_COLUMN_NAMES = ("text", "review", "sentence", "document", "content", "body")


class InputError(ValueError):
    """A problem with the user's model or data; the message says what and what to do."""


def is_upload(dataset: str) -> bool:
    return dataset.startswith(UPLOAD_PREFIX)


def upload_limit_bytes() -> int:
    """Largest accepted upload (``RNNX_UPLOAD_LIMIT_MB``, default 200)."""
    return int(float(os.environ.get("RNNX_UPLOAD_LIMIT_MB", "200")) * 1024 * 1024)


def check_size(n_bytes: int, what: str) -> None:
    limit = upload_limit_bytes()
    if n_bytes > limit:
        raise InputError(
            f"The {what} is {n_bytes / 2**20:.1f} MB, more than the limit of {limit / 2**20:.0f} MB "
            "(RNNX_UPLOAD_LIMIT_MB)."
        )
    if n_bytes == 0:
        raise InputError(f"The {what} is empty.")


def uploads_dir(session: str = "cli") -> Path:
    """Where a session's uploads live (inside the cache folder, one folder per session)."""
    safe = "".join(ch for ch in session if ch.isalnum() or ch in "-_") or "anonymous"
    path = config.cache_dir() / "uploads" / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- model


def load_model(path: str | Path):
    """Load a ``.keras`` file in safe mode; InputError for anything unreadable or unsafe."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Model file {path} not found.")
    check_size(path.stat().st_size, "model file")
    if not zipfile.is_zipfile(path):
        raise InputError(
            "This is not a readable Keras model file: a .keras file is a zip archive saved by "
            "model.save('name.keras')."
        )
    textmodels._tf()
    import keras

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as error:
        text = str(error)
        if "unsafe" in text.lower() or "lambda" in text.lower() or "safe_mode" in text:
            raise InputError(
                "This model was refused: it contains a Lambda layer or other arbitrary Python code, "
                "which Keras safe mode does not load. Replace the Lambda layer with a built-in layer."
            ) from error
        raise InputError(
            f"This is not a Keras model file that can be read ({text.splitlines()[0]})."
        ) from error
    except Exception as error:  # zip, h5 and config errors all mean "not a usable .keras file"
        raise InputError(
            f"This is not a readable Keras model file (.keras): {type(error).__name__}: {str(error)[:200]}"
        ) from error
    from model.extraction import recurrent_layers

    if not recurrent_layers(model):
        raise InputError(
            "This model has no recurrent layer (LSTM, GRU, SimpleRNN, or one inside Bidirectional); "
            "hidden-state analytics needs one."
        )
    return model


def vectorizer_of(model):
    """The model's TextVectorization layer, or None when it takes token ids."""
    for layer in model.layers:
        if type(layer).__name__ == "TextVectorization":
            return layer
    return None


def n_outputs(model) -> int:
    """Number of classes the model distinguishes (a single sigmoid output means two)."""
    units = int(model.outputs[0].shape[-1] or 1)
    return 2 if units == 1 else units


def read_vocabulary(path: str | Path) -> dict[str, int]:
    """A vocabulary file: JSON word→id, or one token per line (line i is id i)."""
    raw = _decode(Path(path).read_bytes(), "vocabulary file")
    if raw.lstrip().startswith("{"):
        try:
            vocab = json.loads(raw)
        except json.JSONDecodeError as error:
            raise InputError(f"The vocabulary file is not valid JSON: {error}.") from error
        return {str(k): int(v) for k, v in vocab.items()}
    return {line.strip(): i for i, line in enumerate(raw.splitlines()) if line.strip()}


# ---------------------------------------------------------------- encoding texts for the model


@dataclass
class UploadSpec:
    """Everything needed to rebuild an upload's inputs (kept in the cache)."""

    upload_id: str
    model_path: str
    vocab_path: str | None
    layer_name: str | None
    class_names: list[str]
    max_len: int


def encode_for_model(model, texts: list[str], vocabulary: dict[str, int] | None, max_len: int):
    """(model inputs, token ids (n, T), words per text) for ``texts``."""
    vectorizer = vectorizer_of(model)
    if vectorizer is not None:
        strings = np.array(texts, dtype=object)
        ids = np.asarray(vectorizer(strings))
        if len(model.inputs[0].shape) == 2:  # Input(shape=(1,), dtype="string")
            strings = strings[:, None]
        vocab = vectorizer.get_vocabulary()
        words = [[vocab[i] for i in row if i != 0] for row in ids]
        return strings, ids, words
    if vocabulary is None:
        raise InputError(
            "This model takes token ids: upload its vocabulary too (JSON word→id, or one token per line)."
        )
    oov = vocabulary.get("[UNK]", vocabulary.get("<unk>", 1))
    ids = np.zeros((len(texts), max_len), dtype=np.int32)
    words = []
    for row, text in enumerate(texts):
        tokens = textmodels.tokenize(text)[-max_len:]
        words.append(tokens)
        if tokens:
            ids[row, max_len - len(tokens) :] = [vocabulary.get(t, oov) for t in tokens]
    return ids, ids, words


def model_max_len(model) -> int:
    shape = model.inputs[0].shape
    return int(shape[1]) if len(shape) > 1 and shape[1] else 100


def upload_id_for(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return UPLOAD_PREFIX + digest.hexdigest()[:12]


def store_files(
    upload_id: str, model_path: Path, vocab_path: Path | None, session: str
) -> tuple[Path, Path | None]:
    """Copy the user's files into the session's upload folder (kept for what-if)."""
    folder = uploads_dir(session) / upload_id
    folder.mkdir(parents=True, exist_ok=True)
    kept_model = folder / "model.keras"
    if model_path.resolve() != kept_model.resolve():
        shutil.copyfile(model_path, kept_model)
    kept_vocab = None
    if vocab_path is not None:
        kept_vocab = folder / "vocabulary"
        if vocab_path.resolve() != kept_vocab.resolve():
            shutil.copyfile(vocab_path, kept_vocab)
    return kept_model, kept_vocab


@lru_cache(maxsize=4)
def _extractor(model_path: str, layer_name: str | None):
    """The upload's model and its state extractor, built once per process (files never change)."""
    from model.extraction import StateExtractor

    return StateExtractor(load_model(model_path), layer_name)


def text_states(upload_id: str, text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, hidden states, EP) of one text under an uploaded model (for what-if)."""
    from model import cache

    spec: UploadSpec | None = cache.get(spec_key(upload_id))
    if spec is None:
        raise LookupError(f"Upload {upload_id} is not prepared.")
    extractor = _extractor(spec.model_path, spec.layer_name)
    vocabulary = read_vocabulary(spec.vocab_path) if spec.vocab_path else None
    inputs, ids, [words] = encode_for_model(extractor.model, [text], vocabulary, spec.max_len)
    states = extractor.run(ids, inputs)
    return words, states.hidden, states.ep


def spec_key(upload_id: str) -> str:
    from model import cache

    return cache.make_key("upload-spec", upload=upload_id)
