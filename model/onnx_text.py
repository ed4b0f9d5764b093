"""Texts to token ids for a model that takes ids: a vocabulary file or a Hugging Face ``tokenizer.json``.

A vocabulary (JSON ``{"word": id}`` or one token per line) is applied to the app's word tokens
(:func:`model.textmodels.tokenize`), unknown words taking ``[UNK]``'s or ``<unk>``'s id (else 1).
A ``tokenizer.json`` is applied with the ``tokenizers`` package, special tokens included as the
tokenizer adds them. A text keeps its last ``max_len`` tokens. Ids are returned unpadded, one
array per text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model import byo, nesting, textmodels
from model.byo_csv import InputError, check_file, check_size, decode_text

TOKENIZER_DEPTH = 8  # how deeply a tokenizer.json may nest
UNKNOWN_NAMES = ("[UNK]", "<unk>", "<UNK>", "[unk]")


# A tokenizer.json's own keys, whose values are never the whole numbers of a vocabulary's ids.
_TOKENIZER_KEY = re.compile(
    r'"(version|truncation|padding|added_tokens|normalizer|pre_tokenizer|model)"\s*:\s*[\[{"n]'
)


def is_tokenizer_file(path: str | Path) -> bool:
    """Whether ``path`` holds a Hugging Face ``tokenizer.json`` rather than a vocabulary (read from its start)."""
    with open(path, "rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    return head.startswith("{") and bool(_TOKENIZER_KEY.search(head))


@dataclass
class Encoder:
    """What turns texts into token ids for one model (see the module's doc)."""

    vocabulary: dict[str, int] | None = None
    tokenizer: object | None = None  # tokenizers.Tokenizer
    unknown: int = 1
    _words: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        if self.tokenizer is not None:
            return int(self.tokenizer.get_vocab_size(with_added_tokens=True))
        return len(self.vocabulary or {})

    @property
    def top_id(self) -> int:
        """The largest id this encoder gives."""
        if self.tokenizer is not None:
            return max(self.tokenizer.get_vocab(with_added_tokens=True).values(), default=0)
        return max((self.vocabulary or {}).values(), default=0)

    def encode(self, texts: list[str], max_len: int) -> tuple[list[np.ndarray], list[list[str]]]:
        """(ids per text, tokens per text): each text's last ``max_len`` tokens."""
        if self.tokenizer is not None:
            texts = [str(t) for t in texts]
            encodings = self.tokenizer.encode_batch(texts)
            ids = [np.asarray(e.ids[-max_len:], dtype=np.int64) for e in encodings]
            return ids, [_surface(text, e, max_len) for text, e in zip(texts, encodings, strict=True)]
        words = [textmodels.tokenize(str(text))[-max_len:] for text in texts]
        return self.ids_of(words), words

    def ids_of(self, words: list[list[str]]) -> list[np.ndarray]:
        """Ids of lists of tokens as :meth:`encode` gives them (for edited texts)."""
        if self.tokenizer is not None:
            lookup = self.tokenizer.token_to_id
            return [
                np.asarray([_or(lookup(w), _or(lookup(w.lower()), self.unknown)) for w in row], np.int64)
                for row in words
            ]
        vocabulary = self.vocabulary or {}
        return [np.asarray([vocabulary.get(w, self.unknown) for w in row], np.int64) for row in words]

    def ranked_words(self) -> list[str]:
        """Tokens by id (frequency order for most vocabularies): where counterfactuals look for substitutes."""
        if not self._words:
            table = (
                self.tokenizer.get_vocab(with_added_tokens=False)
                if self.tokenizer is not None
                else self.vocabulary or {}
            )
            self._words = [w for w, _i in sorted(table.items(), key=lambda item: item[1])]
        return self._words


def _surface(text: str, encoding, max_len: int) -> list[str]:
    """Each token as written in the text (its offsets), or the token itself where it has no span ([CLS])."""
    pairs = zip(encoding.tokens[-max_len:], encoding.offsets[-max_len:], strict=True)
    return [text[start:end] if end > start else token for token, (start, end) in pairs]


def _or(value: int | None, default: int) -> int:
    return default if value is None else int(value)


def read_tokenizer(path: str | Path) -> Encoder:
    """An :class:`Encoder` of a Hugging Face ``tokenizer.json``; InputError when it cannot be used."""
    path = check_file(path, "tokenizer file")
    check_size(path.stat().st_size, "tokenizer file")
    raw = decode_text(path.read_bytes(), "tokenizer file")
    try:
        parsed = nesting.loads(raw, TOKENIZER_DEPTH, "The tokenizer file")
    except ValueError as error:
        raise InputError(f"The tokenizer file is not valid JSON ({str(error)[:120]}).") from error
    if not isinstance(parsed, dict) or not isinstance(parsed.get("model"), dict):
        raise InputError("The tokenizer file is not a Hugging Face tokenizer.json (no 'model' object).")
    try:
        from tokenizers import Tokenizer
    except ImportError as error:
        raise InputError(
            "A tokenizer.json needs the tokenizers package (pip install tokenizers); or give a vocabulary "
            "file instead (JSON word→id, or one token per line)."
        ) from error
    try:
        tokenizer = Tokenizer.from_str(raw)
    except Exception as error:  # noqa: BLE001 - the Rust side's errors are the file's
        raise InputError(f"The tokenizer file could not be read: {str(error)[:200]}") from error
    unknown = next(
        (tokenizer.token_to_id(n) for n in UNKNOWN_NAMES if tokenizer.token_to_id(n) is not None), 0
    )
    return Encoder(tokenizer=tokenizer, unknown=int(unknown))


def read_encoder(path: str | Path | dict) -> Encoder:
    """An :class:`Encoder` of a vocabulary file, a ``tokenizer.json`` or a dict word→id; InputError when unusable."""
    if isinstance(path, dict):
        vocabulary = {str(word): byo._vocabulary_id(word, value) for word, value in path.items()}
        if not vocabulary:
            raise InputError("The vocabulary is empty.")
    elif is_tokenizer_file(path):
        return read_tokenizer(path)
    else:
        vocabulary = byo.read_vocabulary(path)
    unknown = next((vocabulary[n] for n in UNKNOWN_NAMES if n in vocabulary), 1)
    return Encoder(vocabulary=vocabulary, unknown=unknown)


def check_range(encoder: Encoder, vocab_size: int | None) -> None:
    """InputError when the encoder gives ids beyond the model's embedding table."""
    if vocab_size is None:
        return
    top = max(encoder.top_id, encoder.unknown)
    if top >= vocab_size:
        raise InputError(
            f"The vocabulary's ids go up to {top}, but the model's embedding takes ids below {vocab_size}: "
            "use the vocabulary or tokenizer the model was trained with."
        )
