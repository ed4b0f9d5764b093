"""The files the server builds a chunk at a time hold the in-memory table's values; text cells are
neutralised against spreadsheet formulas; the projector zip is sampled to a bound and says so."""

from __future__ import annotations

import dataclasses
import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from model import export, export_stream
from model.artifacts import Analysis
from tests.support import synthetic

FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def planted(n_sequences: int = 30) -> Analysis:
    """A synthetic analysis whose words, texts and a class name begin like formulas."""
    analysis = synthetic.synthetic_analysis("imdb", n_sequences)
    words = [list(w) for w in analysis.words]
    for i, formula in enumerate(FORMULAS):
        words[i][0] = formula
    texts = list(analysis.texts)
    texts[0], texts[1] = "=cmd|' /C calc'!A0 great film", "-1"
    return dataclasses.replace(analysis, words=words, texts=texts, class_names=["=evil()", "-1"])


def mapped(array: np.ndarray, folder: Path, name: str) -> np.ndarray:
    """``array`` stored as .npy and read back memory-mapped (as the cache serves it)."""
    np.save(folder / f"{name}.npy", array)
    return np.load(folder / f"{name}.npy", mmap_mode="r")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Analysis, np.ndarray, np.ndarray]:
    folder = tmp_path_factory.mktemp("mapped")
    analysis = planted()
    points = synthetic.synthetic_projection(analysis) - 5.0  # negative coordinates stay numbers
    hidden = np.tanh(np.random.default_rng(2).normal(size=(analysis.n_states, 6))).astype(np.float16)
    analysis = dataclasses.replace(
        analysis, ep=mapped(analysis.ep, folder, "ep"), distance=mapped(analysis.distance, folder, "d")
    )
    return analysis, mapped(points.astype(np.float32), folder, "xy"), mapped(hidden, folder, "h")


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert got.columns.tolist() == want.columns.tolist()
    assert len(got) == len(want)
    for column in want.columns:
        if want[column].dtype == object or str(want[column].dtype) in ("str", "string"):
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column
        else:
            np.testing.assert_allclose(got[column].to_numpy(float), want[column].to_numpy(float), atol=1e-6)


@pytest.mark.parametrize("with_hidden", [True, False])
def test_streamed_states_match_the_in_memory_table(data, tmp_path, with_hidden) -> None:
    analysis, points, hidden = data
    hidden = hidden if with_hidden else None
    want = export.states_table(analysis, np.asarray(points), None if hidden is None else np.asarray(hidden))
    csv_path, parquet_path = tmp_path / "s.csv.gz", tmp_path / "s.parquet"
    seen: list[float] = []
    chunk = 97  # chunks that cut sequences in two
    export_stream.write_states_csv_gz(csv_path, analysis, points, hidden, lambda f, _s: seen.append(f), chunk)
    export_stream.write_states_parquet(parquet_path, analysis, points, hidden, chunk_rows=chunk)
    from_csv = pd.read_csv(csv_path, keep_default_na=False)
    assert_same_table(from_csv, want)
    assert_same_table(pq.read_table(parquet_path).to_pandas(), want)
    assert pq.ParquetFile(parquet_path).metadata.num_row_groups == -(-analysis.n_states // chunk)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == -(-analysis.n_states // chunk)
    assert from_csv["x"].min() < 0 and from_csv["x"].dtype == np.float64  # negative numbers stay numbers
    with gzip.open(csv_path, "rt") as handle:
        assert handle.readline().startswith('"sequence","step","word","actual","predicted_here","ep_=evil()"')


def test_formula_cells_are_neutralised_in_every_csv_and_tsv(data, tmp_path) -> None:
    analysis, points, hidden = data
    export_stream.write_states_csv_gz(tmp_path / "s.csv.gz", analysis, points, None, chunk_rows=50)
    states = pd.read_csv(tmp_path / "s.csv.gz", keep_default_na=False)
    firsts = states[states["step"] == 0]["word"].tolist()[: len(FORMULAS)]
    assert firsts == ["'" + f for f in FORMULAS]
    assert set(states["actual"]) == {"'=evil()", "-1"}  # a class named -1 is a number, not a formula
    export_stream.write_sequences_csv(tmp_path / "q.csv", analysis, chunk=7)
    sequences = pd.read_csv(tmp_path / "q.csv", keep_default_na=False)
    assert sequences["text"][0].startswith("'=cmd|") and sequences["text"][1] == "-1"
    assert sequences["confidence"].dtype == np.float64 and len(sequences) == analysis.n_sequences
    want = pd.read_csv(io.BytesIO(export.sequences_csv(analysis)), keep_default_na=False)
    assert_same_table(sequences, want)
    assert export.neutralise(-3.5) == "-3.5" and export.neutralise("+7") == "+7"
    assert export.neutralise("=1+1") == "'=1+1" and export.neutralise("'=x") == "'=x"
    export_stream.write_projector_zip(tmp_path / "p.zip", analysis, hidden, limit=10**6)
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        metadata = archive.read("metadata.tsv").decode().split("\n")
    cells = [line.split("\t")[0] for line in metadata[1:] if line]
    assert '\'=HYPERLINK("http://x")' in cells and "' cmd" in cells  # tab made a space after the quote


def test_the_projector_zip_holds_a_seeded_sample_and_says_so(data, tmp_path) -> None:
    analysis, _points, hidden = data
    limit = 40
    written = export_stream.write_projector_zip(tmp_path / "a.zip", analysis, hidden, limit=limit, seed=3)
    export_stream.write_projector_zip(tmp_path / "b.zip", analysis, hidden, limit=limit, seed=3)
    assert (tmp_path / "a.zip").read_bytes() != b""
    with zipfile.ZipFile(tmp_path / "a.zip") as a, zipfile.ZipFile(tmp_path / "b.zip") as b:
        assert a.read("vectors.tsv") == b.read("vectors.tsv")  # deterministic
        vectors = np.loadtxt(io.StringIO(a.read("vectors.tsv").decode()), delimiter="\t")
        metadata = pd.read_csv(io.BytesIO(a.read("metadata.tsv")), sep="\t", keep_default_na=False)
        readme = a.read("README.txt").decode()
        assert "tensor_path" in a.read("projector_config.pbtxt").decode()
    assert written.rows == limit and vectors.shape == (limit, hidden.shape[1]) and len(metadata) == limit
    rows = np.asarray(analysis.offsets)[metadata["sequence"]] + metadata["step"]
    assert np.all(np.diff(rows) > 0)  # in reading order
    np.testing.assert_allclose(vectors, np.asarray(hidden, np.float32)[rows], atol=1e-6)
    assert written.note and f"{limit:,} of the {analysis.n_states:,}" in written.note and "seed 3" in readme
    assert written.note in readme
    whole = export_stream.write_projector_zip(tmp_path / "c.zip", analysis, hidden, limit=10**6)
    assert whole.rows == analysis.n_states and whole.note is None
    with zipfile.ZipFile(tmp_path / "c.zip") as archive:
        assert f"all {analysis.n_states:,} hidden states" in archive.read("README.txt").decode()


def test_release_hands_pages_back_and_keeps_the_values(data) -> None:
    _analysis, _points, hidden = data
    before = np.array(hidden)
    export_stream.release(hidden, 0, len(hidden))
    export_stream.release(before, 0, len(before))  # an array in memory: nothing happens
    np.testing.assert_array_equal(np.asarray(hidden), before)
    picked = np.sort(np.random.default_rng(0).choice(len(before), 25, replace=False))
    np.testing.assert_array_equal(export_stream._picked(hidden, picked, span=7), before[picked])
