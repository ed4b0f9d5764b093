"""Texts and labels as people keep them: CSV, JSON Lines, a JSON array and Parquet read alike, and refusals."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import byo, byo_table
from rnnx import api

FRAME = pd.DataFrame(
    {"idx": [0, 1, 2, 3], "text": ["good film", "bad film", "fine plot", "dull plot"], "label": [1, 0, 1, 0]}
)


def as_bytes(kind: str, frame: pd.DataFrame = FRAME) -> bytes:
    buffer = io.BytesIO()
    if kind == "csv":
        return frame.to_csv(index=False).encode()
    if kind == "jsonl":  # what a Hugging Face dataset's to_json writes
        return frame.to_json(orient="records", lines=True).encode()
    if kind == "json":
        return frame.to_json(orient="records").encode()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["csv", "jsonl", "json", "parquet"])
def test_every_format_reads_the_same(kind: str) -> None:
    data = as_bytes(kind)
    for name in (f"data.{kind}", "upload.csv", None):  # the page keeps every data file as .csv
        parsed = byo_table.read_table(data, name)
        assert parsed.texts == list(FRAME["text"]) and list(parsed.labels) == [1, 0, 1, 0]
        assert (parsed.text_column, parsed.label_column) == ("text", "label")
        assert parsed.class_names == ["class 0", "class 1"]
    chosen = byo_table.read_table(data, None, "text", "idx", ["a", "b", "c", "d"])
    assert chosen.class_names == ["a", "b", "c", "d"] and list(chosen.labels) == [0, 1, 2, 3]
    assert byo_table.columns(data, None) == ["idx", "text", "label"]


def test_messages_name_the_format(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(byo.InputError, match="The JSON Lines file could not be parsed"):
        byo_table.read_table(b'{"text": "a", "label": 1}\n{"text": oops}\n', "d.jsonl")
    with pytest.raises(byo.InputError, match="Parquet file has no column 'nope'"):
        byo_table.read_table(as_bytes("parquet"), None, "nope")
    with pytest.raises(byo.InputError, match="The Parquet file could not be read"):
        byo_table.read_table(b"PAR1 not really parquet", None)
    big = pd.DataFrame({"text": ["a" * 1000 + str(i) for i in range(400)], "label": [0, 1] * 200})
    monkeypatch.setenv("RNNX_UPLOAD_LIMIT_MB", "0.02")
    buffer = io.BytesIO()
    big.to_parquet(buffer, index=False, compression="zstd")
    small = buffer.getvalue()
    assert len(small) < 0.02 * 2**20  # compresses well ...
    with pytest.raises(byo.InputError, match="uncompressed, more than 4 times the upload limit"):
        byo_table.read_table(small, None)  # ... but would expand past the limit


def test_rnnx_table_from_files_and_frames(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    path.write_bytes(as_bytes("parquet"))
    texts, labels, names = api.table(path)
    assert texts == list(FRAME["text"]) and labels == ["class 1", "class 0", "class 1", "class 0"]
    texts, labels, names = api.table(FRAME.assign(label=["p", "n", "p", "n"]), "text", "label")
    assert labels == ["p", "n", "p", "n"] and names == ["n", "p"]
    with pytest.raises(byo.InputError, match="a path to a CSV, JSON Lines or Parquet file"):
        api.table(np.zeros(3))
