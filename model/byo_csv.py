"""The user's CSV of texts and labels, and the checks every uploaded file shares.

:class:`InputError` lives here (re-exported by :mod:`model.byo`) so that both
modules raise the same error without importing each other in a circle.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config

LABEL_COLUMN_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y")
TEXT_COLUMN_NAMES = ("text", "review", "sentence", "document", "content", "body")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
MAX_COLUMNS = 1000  # more is no table of texts and labels, and costs a worker seconds to parse
HEADER_SCAN_CHARS = 4 << 20  # the header row is counted in this much of the text


class InputError(ValueError):
    """A problem with the user's model or data; the message says what and what to do."""


def upload_limit_bytes() -> int:
    """Largest accepted upload (``RNNX_UPLOAD_LIMIT_MB``, default 200)."""
    return config.upload_limit_bytes()


def check_size(n_bytes: int, what: str) -> None:
    limit = upload_limit_bytes()
    if n_bytes > limit:
        raise InputError(
            f"The {what} is {n_bytes / 2**20:.1f} MB, more than the limit of {limit / 2**20:.0f} MB "
            "(RNNX_UPLOAD_LIMIT_MB)."
        )
    if n_bytes == 0:
        raise InputError(f"The {what} is empty.")


def check_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path; InputError unless it names an existing regular file."""
    path = Path(path)
    if path.is_dir():  # the name only: messages reach the browser, never a server folder
        raise InputError(f"The {what} {path.name!r} is a folder, not a file: give the file itself.")
    if not path.is_file():
        raise InputError(f"The {what} {path.name!r} was not found.")
    return path


def decode_text(data: bytes, what: str) -> str:
    """Text of an uploaded file: UTF-8 (with or without a BOM), or UTF-16 with a BOM."""
    if data.startswith(UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise InputError(f"The {what} starts like UTF-16 text but is not valid UTF-16.") from error
        if not text.strip():
            raise InputError(f"The {what} is empty.")
        return text
    if not data.strip():
        raise InputError(f"The {what} is empty.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"The {what} is not UTF-8 text (byte 0x{data[error.start]:02x} at position {error.start}). "
            "Save it as UTF-8 and try again."
        ) from error


@dataclass
class LabelledTexts:
    texts: list[str]
    labels: np.ndarray
    class_names: list[str]
    text_column: str
    label_column: str
    rows_without_label: int = 0


def check_columns(text: str) -> None:
    """InputError when the CSV's header row has more than MAX_COLUMNS columns, before any parsing.

    Only the header row is read (a cut one still counts at least its columns)."""
    try:
        header = next(csv.reader(io.StringIO(text[:HEADER_SCAN_CHARS])), [])
    except csv.Error:
        return  # pandas says what is wrong with it
    if len(header) > MAX_COLUMNS:
        more = " or more" if len(text) > HEADER_SCAN_CHARS else ""
        raise InputError(
            f"The CSV file has {len(header):,}{more} columns, more than the limit of {MAX_COLUMNS:,}: "
            "keep the text and label columns (and a few others) and try again."
        )


def _frame(text: str, **options):
    import pandas as pd

    check_columns(text)
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        message = (str(error).splitlines() or [type(error).__name__])[0]
        raise InputError(f"The CSV file could not be parsed: {message}") from error


def csv_columns(data: bytes) -> list[str]:
    """The CSV's column names (its header only), decoded exactly as :func:`read_csv` decodes it."""
    check_size(len(data), "CSV file")
    columns = [str(c) for c in _frame(decode_text(data, "CSV file"), nrows=0).columns]
    if not columns:
        raise InputError("The CSV file has no header row.")
    return columns


def read_csv(
    data: bytes,
    text_column: str | None = None,
    label_column: str | None = None,
    class_names: list[str] | None = None,
) -> LabelledTexts:
    """Texts and integer labels from CSV bytes; columns guessed when not given.

    Rows without a text are dropped; rows without a label are dropped and counted
    (``rows_without_label``); when no row has a label, InputError.
    """
    check_size(len(data), "CSV file")
    frame = _frame(decode_text(data, "CSV file"))
    return from_frame(frame, text_column, label_column, class_names)


def from_frame(
    frame,
    text_column: str | None = None,
    label_column: str | None = None,
    class_names: list[str] | None = None,
) -> LabelledTexts:
    """:func:`read_csv` on a parsed table (CSV, JSON Lines or Parquet: :mod:`model.byo_table`)."""
    if frame.empty:
        raise InputError("The CSV file has a header but no rows.")
    text_column = text_column or _guess_text_column(frame, label_column)
    label_column = label_column or _guess_label_column(frame, text_column)
    for column in (text_column, label_column):
        if column not in frame.columns:
            raise InputError(f"The CSV has no column {column!r}; its columns are {_names(frame)}.")
    if text_column == label_column:
        raise InputError(f"The text and label columns must differ (both are {text_column!r}).")
    has_label = frame[label_column].notna()
    if not has_label.any():
        raise InputError(
            f"No row of the CSV has a label in column {label_column!r} (all {len(frame)} are empty): "
            f"fill in the labels or choose another label column among {_names(frame)}."
        )
    frame = frame[has_label]
    rows_without_label = int((~has_label).sum())
    frame = frame[frame[text_column].notna()]
    if frame.empty:
        raise InputError(f"No labelled row of the CSV has a text in column {text_column!r}.")
    labels, names = encode_labels(frame[label_column].tolist(), class_names)
    texts = frame[text_column].astype(str).tolist()
    return LabelledTexts(texts, labels, names, text_column, label_column, rows_without_label)


def _names(frame) -> list[str]:
    return [str(c) for c in frame.columns]


def _is_text(series) -> bool:
    """True for text columns: object dtype (pandas 2) or the string dtype (pandas 3)."""
    import pandas as pd

    return pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)


def _guess_text_column(frame, label_column: str | None = None) -> str:
    for name in frame.columns:
        if str(name).lower() in TEXT_COLUMN_NAMES and name != label_column:
            return name
    text_like = [
        c
        for c in frame.columns
        if _is_text(frame[c]) and c != label_column and str(c).lower() not in LABEL_COLUMN_NAMES
    ]
    if not text_like:
        raise InputError(
            f"Could not tell which column holds the texts among {_names(frame)}: choose the text column "
            "and the label column (on the command line: --text-column and --label-column)."
        )
    return max(text_like, key=lambda c: frame[c].astype(str).str.len().mean())


def _guess_label_column(frame, text_column: str) -> str:
    others = [c for c in frame.columns if c != text_column]
    for name in others:
        if str(name).lower() in LABEL_COLUMN_NAMES:
            return name
    if not others:
        raise InputError(
            f"The CSV needs a label column besides the text column {text_column!r}; its columns are "
            f"{_names(frame)}: choose the text column and the label column."
        )
    return min(others, key=lambda c: frame[c].nunique())


def encode_labels(values: list, class_names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer labels and class names from string or integer labels."""
    if all(isinstance(v, (int, np.integer)) or (isinstance(v, float) and v.is_integer()) for v in values):
        ints = np.array([int(v) for v in values], dtype=np.int64)
        if ints.min() < 0:
            raise InputError("Integer labels must be 0 or larger.")
        names = class_names or [f"class {i}" for i in range(int(ints.max()) + 1)]
        if ints.max() >= len(names):
            raise InputError(f"Label {ints.max()} has no name in the class list {names}.")
        return ints, list(names)
    strings = [str(v) for v in values]
    names = class_names or sorted(set(strings))
    unknown = sorted(set(strings) - set(names))
    if unknown:
        raise InputError(f"Labels {unknown[:5]} are not in the class list {names}.")
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[s] for s in strings], dtype=np.int64), list(names)
