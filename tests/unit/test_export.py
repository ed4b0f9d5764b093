"""Exports carry exactly the analysis' numbers."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd

from model import export
from model.artifacts import Analysis


def tiny_analysis() -> Analysis:
    return Analysis(
        dataset="tiny",
        class_names=["neg", "pos"],
        texts=["good film", "bad\tday here"],
        words=[["good", "film"], ["bad", "day", "here"]],
        labels=np.array([1, 0]),
        predicted=np.array([1, 1]),
        confidence=np.array([0.9, 0.6], np.float32),
        offsets=np.array([0, 2, 5]),
        ep=np.array([[0.4, 0.6], [0.1, 0.9], [0.7, 0.3], [0.5, 0.5], [0.4, 0.6]], np.float32),
        distance=np.array([1.0, 0.5, 1.2, 0.1, 0.3], np.float32),
    )


def test_states_csv_has_one_row_per_state_with_ep_and_position() -> None:
    analysis = tiny_analysis()
    points = np.arange(10, dtype=np.float32).reshape(5, 2)
    hidden = np.ones((5, 3), np.float32)
    frame = pd.read_csv(io.BytesIO(export.states_csv(analysis, points, hidden)))
    assert frame["word"].tolist() == ["good", "film", "bad", "day", "here"]
    assert frame["sequence"].tolist() == [0, 0, 1, 1, 1] and frame["step"].tolist() == [0, 1, 0, 1, 2]
    np.testing.assert_allclose(frame["ep_pos"], analysis.ep[:, 1], atol=1e-6)
    np.testing.assert_allclose(frame[["x", "y"]].to_numpy(), points)
    assert [c for c in frame.columns if c.startswith("h_")] == ["h_0", "h_1", "h_2"]
    assert frame["predicted_here"].tolist() == ["pos", "pos", "neg", "neg", "pos"]


def test_sequences_csv_marks_correctness() -> None:
    frame = pd.read_csv(io.BytesIO(export.sequences_csv(tiny_analysis())))
    assert frame["correct"].tolist() == [True, False]
    assert frame["length"].tolist() == [2, 3]


def test_tensorboard_projector_files_align() -> None:
    hidden = np.arange(15, dtype=np.float32).reshape(5, 3)
    with zipfile.ZipFile(io.BytesIO(export.tensorboard_projector(tiny_analysis(), hidden))) as archive:
        vectors = archive.read("vectors.tsv").decode().strip().split("\n")
        metadata = archive.read("metadata.tsv").decode().strip().split("\n")
        assert "tensor_path" in archive.read("projector_config.pbtxt").decode()
    assert len(vectors) == 5 and vectors[1].split("\t") == ["3", "4", "5"]
    assert len(metadata) == 6 and metadata[0].startswith("word\tsequence")
    assert metadata[3].split("\t")[:3] == ["bad", "1", "0"]
