"""Bring your own model and data: a recurrent Keras text classifier and a CSV of texts and labels.

The model may take raw strings (a TextVectorization layer inside) or token ids
with a vocabulary file (JSON ``{"word": id}`` or one token per line, line i = id i).
A ``.keras`` archive is checked from its zip directory before anything in it is
read (:func:`check_keras_archive`), then loaded in Keras safe mode, so a file
with a Lambda layer (arbitrary code) is refused. Every problem a user can cause
raises :class:`InputError` with a message meant for them. The CSV side lives in
:mod:`model.byo_csv` and is re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config, loaded, nesting, textmodels, upload_store
from model.byo_archive import NOT_KERAS, config_dict, config_layers, config_recurrent_names, walk_config
from model.byo_archive import check_keras_archive as check_keras_archive
from model.byo_archive import keras_config_limit_bytes as keras_config_limit_bytes
from model.byo_archive import read_keras_config as read_keras_config
from model.byo_archive import recurrent_layer_names as recurrent_layer_names
from model.byo_csv import LABEL_COLUMN_NAMES as LABEL_COLUMN_NAMES
from model.byo_csv import TEXT_COLUMN_NAMES as TEXT_COLUMN_NAMES
from model.byo_csv import InputError as InputError
from model.byo_csv import LabelledTexts as LabelledTexts
from model.byo_csv import check_file as check_file
from model.byo_csv import check_size as check_size
from model.byo_csv import csv_columns as csv_columns
from model.byo_csv import decode_text
from model.byo_csv import encode_labels as encode_labels
from model.byo_csv import read_csv as read_csv
from model.byo_csv import upload_limit_bytes as upload_limit_bytes

UPLOAD_PREFIX = "upload-"
SESSION_PATTERN = re.compile(r"[0-9a-f]{32}")
NO_RECURRENT = (
    "This model has no recurrent layer (LSTM, GRU, SimpleRNN, or one inside Bidirectional); "
    "hidden-state analytics needs one."
)
VOCABULARY_FORMATS = 'a JSON object {"word": id} or one token per line (line i is id i) is expected'


def is_upload(dataset: str) -> bool:
    return dataset.startswith(UPLOAD_PREFIX)


def valid_session(session: object) -> bool:
    """A browser session id (32 lowercase hex digits, as ``uuid4().hex``) or ``"cli"``."""
    return isinstance(session, str) and (session == "cli" or bool(SESSION_PATTERN.fullmatch(session)))


def uploads_dir(session: str = "cli") -> Path:
    """Where a session's uploads live (inside the cache folder, one folder per session)."""
    if not valid_session(session):
        raise InputError("Invalid session id: expected 32 lowercase hexadecimal characters (or 'cli').")
    path = config.cache_dir() / "uploads" / session
    path.mkdir(parents=True, exist_ok=True)
    return path


def float_inputs_message(dtype: str | None) -> str:
    return (
        f"This model takes float inputs{f' ({dtype})' if dtype else ''}, not token ids, and has no "
        "TextVectorization layer, so texts cannot be fed to it. Upload a model whose input is a "
        "TextVectorization layer (raw strings) or integer token ids going into an Embedding layer."
    )


UNSAFE_CODE = (
    "This model was refused: it contains a Lambda layer or other arbitrary Python code, "
    "which Keras safe mode does not load. Replace the Lambda layer with a built-in layer."
)


def unknown_layer_message(layer_name: str, names: list[str]) -> str:
    return (
        f"This model has no recurrent layer named {layer_name!r}; its recurrent layers are: "
        f"{', '.join(names) or 'none'}."
    )


def check_model_file(
    path: str | Path, layer_name: str | None = None, vocabulary: dict[str, int] | None = None
) -> None:
    """What the ``.keras`` file's config tells before TensorFlow starts: archive, layer, inputs, ids."""
    layers = config_layers(read_keras_config(path))
    if not layers:  # a config this reader does not understand: Keras decides when it loads the model
        return
    if any(layer.get("class_name") == "Lambda" for layer in walk_config(layers)):
        raise InputError(UNSAFE_CODE)  # safety first: said before anything else is wrong with it
    names = config_recurrent_names(layers)
    if not names:
        raise InputError(NO_RECURRENT)
    if layer_name and layer_name not in names:
        raise InputError(unknown_layer_message(layer_name, names))
    if any(layer.get("class_name") == "TextVectorization" for layer in layers):
        return  # the model takes raw strings
    embeddings = [
        config_dict(lay.get("config")) for lay in walk_config(layers) if lay.get("class_name") == "Embedding"
    ]
    if not embeddings:
        inputs = [config_dict(lay.get("config")) for lay in layers if lay.get("class_name") == "InputLayer"]
        dtype = inputs[0].get("dtype") if inputs else None
        raise InputError(float_inputs_message(dtype if isinstance(dtype, str) else None))
    if vocabulary is None:
        raise InputError(NEEDS_VOCABULARY)
    input_dim = embeddings[0].get("input_dim")
    if isinstance(input_dim, int):
        check_vocabulary_range(vocabulary, input_dim)


# ---------------------------------------------------------------- model


def _without_paths(text: str, path: Path) -> str:
    """``text`` with the server's folder names taken out: messages reach the browser."""
    return (
        text.replace(str(path.resolve()), path.name)
        .replace(str(path), path.name)
        .replace(str(path.parent), "…")
    )


def load_model(path: str | Path):
    """Load a ``.keras`` file in safe mode; InputError for anything unreadable or unsafe."""
    path = check_file(path, "model file")
    check_size(path.stat().st_size, "model file")
    if not zipfile.is_zipfile(path):
        raise InputError(NOT_KERAS)
    check_keras_archive(path)
    textmodels._tf()
    import keras

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as error:
        text = _without_paths(str(error), path)
        if "unsafe" in text.lower() or "lambda" in text.lower() or "safe_mode" in text:
            raise InputError(UNSAFE_CODE) from error
        raise InputError(
            f"This is not a Keras model file that can be read ({(text.splitlines() or [''])[0]})."
        ) from error
    except Exception as error:  # zip, h5 and config errors all mean "not a usable .keras file"
        raise InputError(
            "This is not a readable Keras model file (.keras): "
            f"{type(error).__name__}: {_without_paths(str(error), path)[:200]}"
        ) from error
    from model.extraction import recurrent_layers

    if not recurrent_layers(model):
        raise InputError(NO_RECURRENT)
    if vectorizer_of(model) is None and embedding_input_dim(model) is None:
        raise InputError(float_inputs_message(str(model.inputs[0].dtype)))
    return model


def vectorizer_of(model):
    """The model's TextVectorization layer, or None when it takes token ids."""
    for layer in model.layers:
        if type(layer).__name__ == "TextVectorization":
            return layer
    return None


def _all_layers(model) -> Iterator:
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _all_layers(layer)


def embedding_input_dim(model) -> int | None:
    """``input_dim`` of the model's first Embedding layer (ids must be below it), None without one."""
    for layer in _all_layers(model):
        if type(layer).__name__ == "Embedding":
            return int(layer.input_dim)
    return None


def n_outputs(model) -> int:
    """Number of classes the model distinguishes (a single sigmoid output means two)."""
    units = int(model.outputs[0].shape[-1] or 1)
    return 2 if units == 1 else units


# ---------------------------------------------------------------- vocabulary

NEEDS_VOCABULARY = (
    "This model takes token ids: upload its vocabulary too (JSON word→id, or one token per line)."
)


def read_vocabulary(path: str | Path) -> dict[str, int]:
    """A vocabulary file: a JSON object word→id, or one token per line (line i is id i)."""
    path = check_file(path, "vocabulary file")
    check_size(path.stat().st_size, "vocabulary file")
    raw = decode_text(path.read_bytes(), "vocabulary file")
    start = raw.lstrip()[:1]
    if start in ("{", "["):
        try:
            parsed = nesting.loads(raw, 2, "The vocabulary file")
        except nesting.TooDeep:
            raise InputError(f"The vocabulary file nests lists or objects; {VOCABULARY_FORMATS}.") from None
        except ValueError as error:
            if start == "{":
                raise InputError(
                    f"The vocabulary file is not valid JSON ({error}); {VOCABULARY_FORMATS}."
                ) from error
            parsed = None  # a token list whose first token starts with "[", such as "[PAD]"
        if isinstance(parsed, list):
            raise InputError(f"The vocabulary file is a JSON array; {VOCABULARY_FORMATS}.")
        if isinstance(parsed, dict):
            vocabulary = {str(word): _vocabulary_id(word, value) for word, value in parsed.items()}
            if not vocabulary:
                raise InputError(f"The vocabulary file is an empty JSON object; {VOCABULARY_FORMATS}.")
            return vocabulary
    vocabulary = {line.strip(): i for i, line in enumerate(raw.splitlines()) if line.strip()}
    if not vocabulary:
        raise InputError("The vocabulary file has no tokens.")
    return vocabulary


def _vocabulary_id(word: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        kind = {str: "a string", list: "a list", dict: "an object", float: "a decimal number"}.get(
            type(value), type(value).__name__
        )
        raise InputError(
            f"Vocabulary ids must be whole numbers, but {word!r} maps to {json.dumps(value)[:40]} ({kind}); "
            f"{VOCABULARY_FORMATS}."
        )
    if value < 0:
        raise InputError(f"Vocabulary ids must be 0 or larger, but {word!r} maps to {value}.")
    return value


def check_vocabulary_range(vocabulary: dict[str, int], input_dim: int) -> None:
    """InputError when an id is beyond what the model's Embedding layer takes."""
    word, top = max(vocabulary.items(), key=lambda item: item[1])
    if top >= input_dim:
        raise InputError(
            f"The vocabulary's ids go up to {top} ({word!r}), but the model's Embedding layer takes ids "
            f"below {input_dim} (input_dim {input_dim}): use the vocabulary the model was trained with."
        )


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
        raise InputError(NEEDS_VOCABULARY)
    dim = embedding_input_dim(model)
    if dim is not None:
        check_vocabulary_range(vocabulary, dim)
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
    """Keep the user's files for what-if, in the upload's content-addressed folder of the uploads cache.

    Every session preparing the same files (the same ``upload_id``) shares that one copy, which stays
    as long as the upload's results (``model.upload_store``), so the spec's path never points into a
    folder that one session's eviction could remove. ``session``: checked (who asks), not the place.
    """
    if not valid_session(session):
        raise InputError("Invalid session id: expected 32 lowercase hexadecimal characters (or 'cli').")
    return upload_store.keep_files(upload_id, Path(model_path), Path(vocab_path) if vocab_path else None)


def _upload_extractor(upload_id: str):
    """(spec, the model's state extractor) of a prepared upload, the model loaded once per process.

    LookupError when the upload is not prepared."""
    from model import cache

    spec: UploadSpec | None = cache.get(spec_key(upload_id))
    if spec is None:
        raise LookupError(f"Upload {upload_id} is not prepared.")
    return spec, loaded.upload_extractor(spec.model_path, spec.layer_name)


def upload_model(upload_id: str) -> tuple[UploadSpec, object]:
    """(spec, loaded Keras model) of a prepared upload; LookupError when it is not prepared."""
    spec, extractor = _upload_extractor(upload_id)
    return spec, extractor.model


def text_states(upload_id: str, text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, hidden states, EP) of one text under an uploaded model (for what-if)."""
    spec, extractor = _upload_extractor(upload_id)
    vocabulary = read_vocabulary(spec.vocab_path) if spec.vocab_path else None
    inputs, ids, [words] = encode_for_model(extractor.model, [text], vocabulary, spec.max_len)
    states = extractor.run(ids, inputs)
    return words, states.hidden, states.ep


def spec_key(upload_id: str) -> str:
    from model import cache

    return cache.make_key("upload-spec", upload=upload_id)
