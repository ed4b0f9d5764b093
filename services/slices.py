"""Slice metrics: the classification scores of the sequences a user has filtered down to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model import metrics
from model.artifacts import Analysis, concatenated_ranges
from services import table


@dataclass(frozen=True)
class SliceReport:
    """Scores of one slice: which sequences, per-class scores, their macro average, calibration."""

    n_sequences: int
    n_total: int
    accuracy: float | None
    scores: metrics.ClassScores
    macro: dict[str, float]
    calibration: metrics.Calibration


def slice_rows(
    analysis: Analysis, xy: np.ndarray | None, query: dict, shown: Callable[[Analysis], list[str]]
) -> np.ndarray:
    """The sequence indices of a slice: the table's rows after every filter of ``query`` (all pages).

    ``query`` is the table's published filter state (validated); ``services.table.select`` computes
    the rows, the same function the table itself pages. InvalidInput when it names no valid slice.
    """
    return table.select(analysis, xy, query, shown).indices


def slice_states(analysis: Analysis, rows: np.ndarray, final_only: bool = False) -> np.ndarray:
    """The state rows of the sequences ``rows`` (each one's last state with ``final_only``), in order."""
    rows = np.asarray(rows, dtype=np.int64)
    offsets = np.asarray(analysis.offsets, dtype=np.int64)
    if final_only:
        return offsets[rows + 1] - 1
    return concatenated_ranges(offsets[rows], offsets[rows + 1] - offsets[rows])


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
