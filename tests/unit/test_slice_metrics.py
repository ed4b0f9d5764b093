"""Slice metrics against scikit-learn, and the slice: the table's rows after its filters."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_fscore_support

from model import metrics
from model.artifacts import Analysis
from services import slices
from services.validation import InvalidInput


def _analysis(n: int = 300, n_classes: int = 3, seed: int = 0) -> Analysis:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    predicted = np.where(rng.random(n) < 0.7, labels, rng.integers(0, n_classes, n))
    confidence = rng.uniform(1 / n_classes, 1.0, n)
    offsets = np.arange(n + 1, dtype=np.int64)
    return Analysis(
        dataset="synthetic",
        class_names=[f"c{i}" for i in range(n_classes)],
        texts=["t"] * n,
        words=[["t"]] * n,
        labels=labels,
        predicted=predicted,
        confidence=confidence,
        offsets=offsets,
        ep=np.zeros((n, n_classes), np.float32),
        distance=np.zeros(n, np.float32),
    )


@pytest.mark.parametrize("n_classes", [2, 5])
def test_class_scores_equal_scikit_learn(n_classes):
    analysis = _analysis(n_classes=n_classes, seed=n_classes)
    rows = np.arange(0, 300, 3)
    report = slices.report(analysis, rows)
    p, r, f, s = precision_recall_fscore_support(
        analysis.labels[rows], analysis.predicted[rows], labels=range(n_classes), zero_division=0
    )
    np.testing.assert_allclose(report.scores.precision, p)
    np.testing.assert_allclose(report.scores.recall, r)
    np.testing.assert_allclose(report.scores.f1, f)
    np.testing.assert_array_equal(report.scores.support, s)
    mp, mr, mf, _ = precision_recall_fscore_support(
        analysis.labels[rows], analysis.predicted[rows], average="macro", zero_division=0
    )
    assert report.macro == pytest.approx({"precision": mp, "recall": mr, "f1": mf})
    assert report.accuracy == pytest.approx(np.mean(analysis.labels[rows] == analysis.predicted[rows]))


def test_a_class_missing_from_the_slice_scores_zero_and_is_left_out_of_the_macro_average():
    scores = metrics.class_scores(np.array([0, 0, 1]), np.array([0, 1, 1]), 3)
    assert scores.support.tolist() == [2, 1, 0]
    assert scores.f1[2] == 0.0
    assert metrics.macro_average(scores)["recall"] == pytest.approx((0.5 + 1.0) / 2)


def test_reliability_bins_agree_with_scikit_learn_and_ece_is_the_weighted_gap():
    rng = np.random.default_rng(3)
    confidence = rng.uniform(0.5, 1.0, 2000)
    correct = rng.random(2000) < confidence**2  # over-confident on purpose
    cal = metrics.calibration(confidence, correct, 2)
    # scikit-learn bins [0, 1]; ours start at chance (0.5): rescaled, the bins are the same.
    prob_true, prob_pred = calibration_curve(correct, (confidence - 0.5) * 2, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(cal.accuracy, prob_true)
    np.testing.assert_allclose((cal.confidence - 0.5) * 2, prob_pred)
    for b in range(10):
        inside = (confidence >= cal.edges[b]) & (
            (confidence < cal.edges[b + 1]) if b < 9 else (confidence <= cal.edges[b + 1])
        )
        assert cal.count[b] == inside.sum()
        assert cal.accuracy[b] == pytest.approx(correct[inside].mean())
        assert cal.confidence[b] == pytest.approx(confidence[inside].mean())
    gaps = np.abs(cal.accuracy - cal.confidence) * cal.count
    assert cal.ece == pytest.approx(gaps.sum() / 2000)
    assert cal.ece > 0.05  # the over-confidence shows


def test_perfect_calibration_has_almost_no_error():
    rng = np.random.default_rng(4)
    confidence = rng.uniform(0.2, 1.0, 200_000)
    correct = rng.random(len(confidence)) < confidence
    assert metrics.calibration(confidence, correct, 5).ece < 0.01


def test_the_slice_is_the_tables_rows_and_a_bad_query_is_refused():
    analysis = _analysis(n=50)

    def shown(a):
        return list(a.texts)

    assert slices.slice_rows(analysis, None, {}, shown).tolist() == list(range(50))
    cell = {"actual": 1, "predicted": 2}
    expected = np.flatnonzero((analysis.labels == 1) & (analysis.predicted == 2)).tolist()
    assert slices.slice_rows(analysis, None, cell, shown).tolist() == expected
    assert slices.slice_rows(analysis, None, {"filter_query": "{id} < 7 && {id} >= 5"}, shown).tolist() == [
        5,
        6,
    ]
    assert (
        slices.report(analysis, slices.slice_rows(analysis, None, {"search": "zz"}, shown)).accuracy is None
    )
    with pytest.raises(InvalidInput):
        slices.slice_rows(analysis, None, {"actual": 3, "predicted": 0}, shown)
