"""Projections: every state gets a place, seeds repeat, new states land where their twins are."""

from __future__ import annotations

import numpy as np
import pytest

from model import projection


def clusters(n_per: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[4.0] * 6, [-4.0] * 6, [4.0, -4.0] * 3])
    labels = np.repeat(np.arange(3), n_per)
    return (centres[labels] + rng.normal(0, 0.3, (len(labels), 6))).astype(np.float32), labels


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_every_state_is_placed_and_clusters_stay_apart(method: str) -> None:
    hidden, labels = clusters()
    params = {"max_points": 200} if method != "pca" else {}
    points, projector = projection.fit(hidden, method, seed=1, params=params)
    assert points.shape == (len(hidden), 2) and np.isfinite(points).all()
    centres = np.array([points[labels == c].mean(axis=0) for c in range(3)])
    spread = max(np.linalg.norm(points[labels == c] - centres[c], axis=1).mean() for c in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 2 * spread
    # New states near cluster 1 are placed near cluster 1's points.
    new = projector.place(hidden[labels == 1][:5] + 0.01)
    assert np.linalg.norm(new.mean(axis=0) - centres[1]) < np.linalg.norm(new.mean(axis=0) - centres[0])


def test_same_seed_same_points() -> None:
    hidden, _ = clusters(60)
    a, _ = projection.fit(hidden, "tsne", seed=3, params={"max_points": 100})
    b, _ = projection.fit(hidden, "tsne", seed=3, params={"max_points": 100})
    np.testing.assert_array_equal(a, b)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown projection"):
        projection.fit(np.zeros((3, 2)), "mds", seed=0)
