"""Export the current analysis in memory: CSV tables and TensorBoard projector files as bytes.

The reference for the files the server builds a chunk at a time (``model.export_stream``, which
gives the same values); fine for small analyses and tests. Every text cell of a CSV or TSV is
neutralised against spreadsheet formulas (:func:`neutralise`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable

import numpy as np

from model.artifacts import Analysis

FORMULA_START = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: object) -> str:
    """A text cell no spreadsheet runs as a formula: ``'`` before a leading ``= + - @``, tab or CR.

    Plain numbers written as text (a class named ``-1``) stay as they are: they are no formula."""
    text = str(value)
    if text[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def neutralise_all(values: Iterable[object]) -> list[str]:
    """:func:`neutralise` of each value (text columns: words, texts, class names)."""
    return [neutralise(v) for v in values]


def states_table(analysis: Analysis, points: np.ndarray | None = None, hidden: np.ndarray | None = None):
    """One row per hidden state: sequence, step, word, EP per class, distance, x/y, h_0 … h_n."""
    import pandas as pd

    names = neutralise_all(analysis.class_names)
    columns = {
        "sequence": analysis.sequence_of_state(),
        "step": analysis.step_of_state(),
        "word": neutralise_all(word for words in analysis.words for word in words),
        "actual": np.repeat([names[i] for i in analysis.labels], np.diff(analysis.offsets)),
        "predicted_here": [names[i] for i in analysis.ep.argmax(axis=1)],
        **{f"ep_{name}": analysis.ep[:, c] for c, name in enumerate(analysis.class_names)},
        "distance": analysis.distance,
    }
    if points is not None:
        columns["x"], columns["y"] = points[:, 0], points[:, 1]
    frame = pd.DataFrame(columns)
    if hidden is not None:
        frame = pd.concat(
            [frame, pd.DataFrame(hidden, columns=[f"h_{i}" for i in range(hidden.shape[1])])], axis=1
        )
    return frame


def states_csv(
    analysis: Analysis, points: np.ndarray | None = None, hidden: np.ndarray | None = None
) -> bytes:
    return states_table(analysis, points, hidden).to_csv(index=False, float_format="%.6g").encode()


def sequences_csv(analysis: Analysis) -> bytes:
    """One row per sequence: id, length, actual, predicted, confidence, correct, text."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "sequence": np.arange(analysis.n_sequences),
            "length": np.diff(analysis.offsets),
            "actual": [neutralise(analysis.class_names[i]) for i in analysis.labels],
            "predicted": [neutralise(analysis.class_names[i]) for i in analysis.predicted],
            "confidence": analysis.confidence,
            "correct": analysis.labels == analysis.predicted,
            "text": neutralise_all(analysis.texts),
        }
    )
    return frame.to_csv(index=False, float_format="%.6g").encode()


def tsv_cell(value: object) -> str:
    """A TSV cell: neutralised (:func:`neutralise`), then tabs and line breaks made spaces."""
    cell = neutralise(value) if isinstance(value, str) else str(value)
    return cell.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def tensorboard_projector(analysis: Analysis, hidden: np.ndarray) -> bytes:
    """A zip with ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.pbtxt`` for the TensorBoard projector."""
    table = states_table(analysis)
    vectors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in hidden) + "\n"
    meta_columns = ["word", "sequence", "step", "actual", "predicted_here", "distance"]
    lines = ["\t".join(meta_columns)]
    lines += ["\t".join(tsv_cell(v) for v in row) for row in table[meta_columns].itertuples(index=False)]
    config = (
        'embeddings {\n  tensor_name: "hidden_states"\n  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n}\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("vectors.tsv", vectors)
        archive.writestr("metadata.tsv", "\n".join(lines) + "\n")
        archive.writestr("projector_config.pbtxt", config)
    return buffer.getvalue()
