"""Checks of a bring-your-own upload: what the card may ask about a dropped model, CSV or vocabulary.

The one way the bring-your-own card reaches ``model.byo``. Every problem a user can cause raises
:class:`InputError` (a ``ValueError``) with a message meant for them; keeping a file or the session's
record can fail with :class:`CacheWriteError` (an ``OSError``, its message also for the user). Nothing
here imports Dash; storing the files is ``services.uploads``.
"""

from __future__ import annotations

from pathlib import Path

from model import byo, byo_models, byo_table, cache

InputError = byo.InputError  # the user's file is unusable; str(error) says why and what to do
CacheWriteError = cache.CacheWriteError  # the server could not store it; str(error) says why
LabelledTexts = byo.LabelledTexts  # a parsed CSV: texts, labels, class names, the columns used


def check_size(n_bytes: int, what: str) -> None:
    """InputError when a file of ``n_bytes`` is empty or over the upload limit (``what``: "CSV file", …)."""
    byo.check_size(n_bytes, what)


def csv_columns(data: bytes) -> list[str]:
    """The column names of a CSV (its header only), JSON Lines or Parquet file; InputError if unreadable."""
    return byo_table.columns(data)


def read_csv(data: bytes) -> LabelledTexts:
    """Texts and integer labels of CSV, JSON Lines or Parquet bytes, the columns guessed; InputError if not."""
    return byo_table.read_table(data)


def recurrent_layer_names(path: str | Path) -> list[str]:
    """Names of the recurrent layers of a ``.keras`` or ``.onnx`` file, read without running it; InputError if unsafe."""
    return byo_models.recurrent_layer_names(path)


def vocabulary_size(path: str | Path) -> int:
    """How many tokens a vocabulary (JSON ``{"word": id}``, one per line, or a tokenizer.json) holds; InputError if unusable."""
    return byo_models.vocabulary_size(path)


def describe(slot: str, path: Path) -> dict:
    """What the upload panel shows about a received file (JSON-safe, no paths); InputError if unusable.

    ``slot``: ``"csv"`` (columns, the guessed text and label columns, rows and classes),
    ``"model"`` (its recurrent layers) or ``"vocab"`` (its size).
    """
    if slot == "csv":
        data = Path(path).read_bytes()
        columns = csv_columns(data)  # the encoding and header first
        try:
            parsed = read_csv(data)
        except InputError as error:  # columns not guessed: the user picks them
            return {"columns": columns, "text": None, "label": None, "detail": "", "note": str(error)}
        return {
            "columns": columns,
            "text": parsed.text_column,
            "label": parsed.label_column,
            "detail": f"{len(parsed.texts):,} rows · classes {', '.join(parsed.class_names[:6])}",
        }
    if slot == "model":
        layers = recurrent_layer_names(path)
        return {"layers": layers, "detail": f"{len(layers)} recurrent layer(s)" if layers else ""}
    return {"detail": f"{vocabulary_size(path):,} tokens"}
