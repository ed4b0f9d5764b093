"""Classification metrics of a slice of the analysed sequences: per-class scores and calibration (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall, F1 and support per class (arrays aligned with the class names)."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # sequences of each actual class in the slice
    predicted: np.ndarray  # sequences predicted as each class in the slice


@dataclass(frozen=True)
class Calibration:
    """A reliability diagram: per confidence bin, the mean confidence, the accuracy and the count."""

    edges: np.ndarray  # (bins + 1,)
    confidence: np.ndarray  # (bins,) mean confidence in the bin (NaN when empty)
    accuracy: np.ndarray  # (bins,) fraction correct in the bin (NaN when empty)
    count: np.ndarray  # (bins,)
    ece: float  # expected calibration error: count-weighted |accuracy - confidence|


def class_scores(actual: np.ndarray, predicted: np.ndarray, n_classes: int) -> ClassScores:
    """Per-class precision, recall and F1 (0 where undefined, as scikit-learn's ``zero_division=0``)."""
    actual = np.asarray(actual, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    hits = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    called = matrix.sum(axis=0)
    precision = np.divide(hits, called, out=np.zeros(n_classes), where=called > 0)
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(n_classes), where=total > 0)
    return ClassScores(precision=precision, recall=recall, f1=f1, support=support, predicted=called)


def calibration(confidence: np.ndarray, correct: np.ndarray, n_classes: int) -> Calibration:
    """Reliability of the predicted class's probability, in equal-width bins from 1/n_classes to 1."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    edges = np.linspace(1.0 / max(n_classes, 1), 1.0, CALIBRATION_BINS + 1)
    # The top edge belongs to the last bin; anything below the first edge (rounding) to the first.
    bins = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, CALIBRATION_BINS - 1)
    count = np.bincount(bins, minlength=CALIBRATION_BINS)
    conf_sum = np.bincount(bins, weights=confidence, minlength=CALIBRATION_BINS)
    hit_sum = np.bincount(bins, weights=correct.astype(np.float64), minlength=CALIBRATION_BINS)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
        accuracy = np.where(count > 0, hit_sum / count, np.nan)
    total = int(count.sum())
    gaps = np.abs(np.nan_to_num(accuracy) - np.nan_to_num(mean_conf)) * count
    ece = float(gaps.sum() / total) if total else 0.0
    return Calibration(edges=edges, confidence=mean_conf, accuracy=accuracy, count=count, ece=ece)


def macro_average(scores: ClassScores) -> dict[str, float]:
    """The unweighted mean of each score over the classes present in the slice (actual or predicted)."""
    present = (scores.support > 0) | (scores.predicted > 0)
    if not present.any():
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    return {name: float(getattr(scores, name)[present].mean()) for name in ("precision", "recall", "f1")}
