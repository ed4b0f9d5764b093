"""Slice metrics: the classification scores of the sequences a user has filtered down to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model import metrics
from model.artifacts import Analysis
from services.validation import InvalidInput

MAX_ROWS = 1_000_000  # a row-id list longer than any analysis is refused before it is read


@dataclass(frozen=True)
class SliceReport:
    """Scores of one slice: which sequences, per-class scores, their macro average, calibration."""

    n_sequences: int
    n_total: int
    accuracy: float | None
    scores: metrics.ClassScores
    macro: dict[str, float]
    calibration: metrics.Calibration


def slice_rows(analysis: Analysis, row_ids: object) -> np.ndarray:
    """The sequence indices of a slice from the table's row ids; every sequence when None.

    InvalidInput when the list is malformed, too long, or names a sequence outside the analysis.
    """
    if row_ids is None:
        return np.arange(analysis.n_sequences)
    if not isinstance(row_ids, list) or len(row_ids) > min(MAX_ROWS, analysis.n_sequences):
        raise InvalidInput("The table's rows are malformed or more than the analysis holds.")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in row_ids):
        raise InvalidInput("The table's row ids must be whole numbers.")
    rows = np.asarray(row_ids, dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= analysis.n_sequences):
        raise InvalidInput("The table names a sequence that is not in this analysis.")
    return np.unique(rows)


def report(analysis: Analysis, rows: np.ndarray) -> SliceReport:
    """Per-class precision, recall, F1, support and a reliability diagram of the sequences ``rows``."""
    n_classes = len(analysis.class_names)
    actual = np.asarray(analysis.labels)[rows]
    predicted = np.asarray(analysis.predicted)[rows]
    confidence = np.asarray(analysis.confidence, dtype=np.float64)[rows]
    scores = metrics.class_scores(actual, predicted, n_classes)
    return SliceReport(
        n_sequences=len(rows),
        n_total=analysis.n_sequences,
        accuracy=float((actual == predicted).mean()) if len(rows) else None,
        scores=scores,
        macro=metrics.macro_average(scores),
        calibration=metrics.calibration(confidence, actual == predicted, n_classes),
    )
