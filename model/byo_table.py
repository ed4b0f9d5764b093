"""Texts and labels as people keep them: CSV, JSON Lines (or a JSON array of records) and Parquet.

The format is told by the file's name (``.csv``, ``.jsonl``/``.ndjson``/``.json``, ``.parquet``)
or, for a name that does not say (the page keeps every data upload as ``.csv``), by its content:
Parquet's ``PAR1`` magic, a first ``{`` or ``[``. A Hugging Face dataset written with
``to_parquet`` or ``to_json`` works as is. Columns are guessed or chosen exactly as for a CSV
(:func:`model.byo_csv.from_frame`). A Parquet file is checked from its footer before it is
read: at most :data:`model.byo_csv.MAX_COLUMNS` columns and an uncompressed size of at most
:data:`EXPANSION` times the upload limit.
"""

from __future__ import annotations

import io
from pathlib import Path

from model import byo_csv
from model.byo_csv import InputError, LabelledTexts, check_size, decode_text

FORMATS = {"csv": "CSV file", "jsonl": "JSON Lines file", "json": "JSON file", "parquet": "Parquet file"}
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}
EXPANSION = 4  # a Parquet file may hold up to this many times the upload limit, uncompressed
PARQUET_MAGIC = b"PAR1"


def sniff(data: bytes, name: str | None = None) -> str:
    """``"csv"``, ``"jsonl"`` or ``"parquet"``: from the content first (Parquet, JSON), then the name."""
    if data[:4] == PARQUET_MAGIC:
        return "parquet"
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"["):
        return "jsonl"
    return SUFFIXES.get(Path(name or "").suffix.lower(), "csv")


def _parquet(data: bytes):
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - pyarrow's errors are the file's
        raise InputError(f"The Parquet file could not be read: {str(error)[:200]}") from error
    meta = handle.metadata
    if meta.num_columns > byo_csv.MAX_COLUMNS:
        raise InputError(
            f"The Parquet file has {meta.num_columns:,} columns, more than the limit of {byo_csv.MAX_COLUMNS:,}."
        )
    expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if expanded > EXPANSION * byo_csv.upload_limit_bytes():
        raise InputError(
            f"The Parquet file holds {expanded / 2**20:,.0f} MB uncompressed, more than {EXPANSION} times the "
            "upload limit: keep the text and label columns and fewer rows."
        )
    try:
        return handle.read().to_pandas()
    except Exception as error:  # noqa: BLE001
        raise InputError(f"The Parquet file could not be read: {str(error)[:200]}") from error


def _json(data: bytes):
    import pandas as pd

    text = decode_text(data, "JSON Lines file")
    array = text.lstrip("\ufeff \t\r\n").startswith("[")
    try:
        frame = pd.read_json(io.StringIO(text), lines=not array, orient="records", dtype=False)
    except (ValueError, RecursionError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise InputError(
            f"The JSON Lines file could not be parsed ({first}): one JSON object per line is expected."
        ) from error
    if len(frame.columns) > byo_csv.MAX_COLUMNS:
        raise InputError(f"The JSON Lines file has more than {byo_csv.MAX_COLUMNS:,} fields.")
    return frame


def frame_of(data: bytes, name: str | None = None):
    """(a pandas frame of the table in ``data``, its format); InputError when it cannot be read."""
    kind = sniff(data, name)
    check_size(len(data), FORMATS[kind])
    if kind == "parquet":
        return _parquet(data), kind
    if kind == "jsonl":
        return _json(data), kind
    return byo_csv._frame(decode_text(data, "CSV file")), kind


def _renamed(error: InputError, kind: str) -> InputError:
    what = FORMATS[kind]
    text = str(error).replace("The CSV file", f"The {what}").replace("the CSV", f"the {what}")
    return InputError(text.replace("The CSV", f"The {what}").replace("CSV rows", "rows"))


def columns(data: bytes, name: str | None = None) -> list[str]:
    """The table's column names; InputError for a bad size, encoding or header."""
    if sniff(data, name) == "csv":
        return byo_csv.csv_columns(data)
    frame, _kind = frame_of(data, name)
    return [str(c) for c in frame.columns]


def read_table(
    data: bytes,
    name: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    class_names: list[str] | None = None,
) -> LabelledTexts:
    """Texts and integer labels of a CSV, JSON Lines or Parquet file (see the module's doc)."""
    frame, kind = frame_of(data, name)
    frame.columns = [str(c) for c in frame.columns]
    try:
        return byo_csv.from_frame(frame, text_column, label_column, class_names)
    except InputError as error:
        raise (error if kind == "csv" else _renamed(error, kind)) from None
