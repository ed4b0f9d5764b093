"""Two models on the same texts: Procrustes alignment, shared texts and disagreements (model.compare_models)."""

from __future__ import annotations

import numpy as np
import pytest

from model import compare_models as cm


def _rotation(angle: float, mirror: bool) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    r = np.array([[c, -s], [s, c]])
    return r @ np.diag([1.0, -1.0]) if mirror else r


@pytest.mark.parametrize("mirror", [False, True])
def test_procrustes_recovers_a_known_rotation_or_reflection(mirror: bool) -> None:
    rng = np.random.default_rng(3)
    target = rng.normal(size=(40, 2))
    rotation = _rotation(0.7, mirror)
    # the source is the target rotated (or mirrored), scaled by 2.5 and shifted: align must undo it
    source = (target @ rotation.T) * 2.5 + np.array([10.0, -4.0])
    found = cm.procrustes(source, target)
    np.testing.assert_allclose(found.apply(source), target, atol=1e-9)
    np.testing.assert_allclose(found.rotation, rotation, atol=1e-9)
    assert found.scale == pytest.approx(1 / 2.5) and found.fit == pytest.approx(1.0)
    assert np.linalg.det(found.rotation) == pytest.approx(-1.0 if mirror else 1.0)


def test_procrustes_with_noise_fits_less_and_refuses_too_few_pairs() -> None:
    rng = np.random.default_rng(0)
    target = rng.normal(size=(200, 2))
    noisy = target @ _rotation(2.0, False) + rng.normal(0, 0.3, size=target.shape)
    found = cm.procrustes(noisy, target)
    assert 0.5 < found.fit < 1.0
    unrelated = cm.procrustes(rng.normal(size=(200, 2)), target)
    assert unrelated.fit < 0.2
    assert cm.procrustes(noisy, target, scale=False).scale == 1.0
    with pytest.raises(ValueError):
        cm.procrustes(target[:1], target[:1])
    with pytest.raises(ValueError):
        cm.procrustes(target[:5], target[:6])


def test_shared_texts_pairs_each_text_once_in_a_order() -> None:
    rows_a, rows_b = cm.shared_texts(["x", "y", "z", "y"], ["z", "w", "y", "x", "y"])
    assert rows_a.tolist() == [0, 1, 2] and rows_b.tolist() == [3, 2, 0]
    assert cm.shared_texts(["a"], ["b"])[0].size == 0
    assert cm.final_rows(np.array([0, 3, 4, 9])).tolist() == [2, 3, 8]


def test_disagreements_are_where_the_class_names_differ_sorted_by_gap() -> None:
    rows_a, rows_b = np.arange(5), np.array([4, 3, 2, 1, 0])  # B read the texts in reverse
    pred_a = np.array([0, 1, 1, 0, 1])
    conf_a = np.array([0.9, 0.6, 0.8, 0.55, 0.99])
    # B names its classes the other way round: index 0 is "pos"
    names_a, names_b = ["neg", "pos"], ["pos", "neg"]
    pred_b = np.array([1, 1, 0, 0, 0])  # per B row: neg, neg, pos, pos, pos (texts 4, 3, 2, 1, 0)
    conf_b = np.array([0.7, 0.95, 0.6, 0.9, 0.51])
    found = cm.disagreements(rows_a, rows_b, pred_a, pred_b, conf_a, conf_b, names_a, names_b)
    said_a = [names_a[p] for p in pred_a[rows_a]]
    said_b = [names_b[p] for p in pred_b[rows_b]]
    expected = {i for i in range(5) if said_a[i] != said_b[i]}
    assert set(found.row_a.tolist()) == expected == {0, 4}
    assert found.row_b.tolist() == [rows_b[i] for i in found.row_a]
    gaps = np.abs(conf_a[found.row_a] - conf_b[found.row_b])
    np.testing.assert_allclose(found.gap, gaps)
    assert list(found.gap) == sorted(found.gap, reverse=True)
    assert found.predicted_a == [said_a[i] for i in found.row_a]
    assert found.predicted_b == [said_b[i] for i in found.row_a]
    agree = cm.disagreements(rows_a, rows_a, pred_a, pred_a, conf_a, conf_a, names_a, names_a)
    assert len(agree) == 0
