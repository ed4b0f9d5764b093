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


@pytest.mark.heavy
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


@pytest.mark.heavy
def test_same_seed_same_points() -> None:
    hidden, _ = clusters(60)
    a, _ = projection.fit(hidden, "tsne", seed=3, params={"max_points": 100})
    b, _ = projection.fit(hidden, "tsne", seed=3, params={"max_points": 100})
    np.testing.assert_array_equal(a, b)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown projection"):
        projection.fit(np.zeros((3, 2)), "mds", seed=0)


def test_chunked_pca_equals_pca_fitted_on_the_same_sample(monkeypatch) -> None:
    from sklearn.decomposition import PCA

    hidden, _ = clusters(400)  # 1,200 states
    monkeypatch.setattr(projection, "CHUNK_ROWS", 128)
    points, projector = projection.fit(hidden, "pca", seed=4, params={"max_points": 500})
    sample = projection.sample_indices(len(hidden), 500, seed=4)
    assert len(sample) == 500 and np.all(np.diff(sample) > 0)
    full = PCA(n_components=2, random_state=4).fit(hidden[sample]).transform(hidden)
    np.testing.assert_allclose(points, full, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(projector.place(hidden[:7]), full[:7], rtol=1e-5, atol=1e-5)
    # Up to max_points states, every state is fitted: today's default sizes keep today's PCA.
    everything, _ = projection.fit(hidden, "pca", seed=4)
    np.testing.assert_allclose(everything, PCA(n_components=2).fit(hidden).transform(hidden), atol=1e-5)


def test_memory_mapped_float16_states_are_projected_a_chunk_at_a_time(tmp_path, monkeypatch) -> None:
    hidden, labels = clusters(200)
    np.save(tmp_path / "hidden.npy", hidden.astype(np.float16))
    mapped = np.load(tmp_path / "hidden.npy", mmap_mode="r")
    monkeypatch.setattr(projection, "CHUNK_ROWS", 100)
    seen: list[tuple[float, str]] = []
    points, _ = projection.fit(mapped, "pca", seed=0, on_progress=lambda f, what: seen.append((f, what)))
    exact, _ = projection.fit(hidden, "pca", seed=0)
    assert np.abs(points - exact).max() < 0.01  # float16 states: invisible differences
    assert seen[-1][0] == 1.0 and len([f for f, _what in seen if f > 0]) == 6  # one update a chunk


@pytest.mark.heavy
@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_sampled_fits_place_every_other_state_by_its_neighbours_repeatably(method: str, monkeypatch) -> None:
    hidden, labels = clusters(200)  # 600 states, 150 fitted, 450 placed by their neighbours
    monkeypatch.setattr(projection, "PLACE_ROWS", 200)
    params = {"max_points": 150}
    a, projector = projection.fit(hidden, method, seed=5, params=params)
    b, _ = projection.fit(hidden, method, seed=5, params=params)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (600, 2) and np.isfinite(a).all()
    sample = projection.sample_indices(600, 150, seed=5)
    np.testing.assert_array_equal(a[sample], projector.anchor_points)
    assert projector.anchors.shape == (150, 6)
    # A placed state lands with its own cluster's fitted states.
    rest = np.setdiff1d(np.arange(600), sample)
    centres = np.array([projector.anchor_points[labels[sample] == c].mean(axis=0) for c in range(3)])
    nearest = np.linalg.norm(a[rest][:, None, :] - centres[None], axis=2).argmin(axis=1)
    assert np.mean(nearest == labels[rest]) > 0.95
    # A few new states are placed where the same states were placed in bulk.
    np.testing.assert_allclose(projector.place(hidden[rest[:20]]), a[rest[:20]], atol=1e-4)


# ---------------------------------------------------------------- progress that moves with the work


def wide_clusters(n_per: int = 120, units: int = 64) -> np.ndarray:
    """States with more units than the PCA before the neighbour search keeps (50)."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 4, (3, units))
    return (centres[np.repeat(np.arange(3), n_per)] + rng.normal(0, 0.3, (3 * n_per, units))).astype(
        np.float32
    )


def fit_watched(method: str, hidden: np.ndarray, params: dict) -> tuple[np.ndarray, list[tuple[float, str]]]:
    seen: list[tuple[float, str]] = []
    points, _ = projection.fit(
        hidden, method, seed=3, params=params, on_progress=lambda f, w: seen.append((f, w))
    )
    return points, seen


def assert_moves_to_one(seen: list[tuple[float, str]], step_word: str, updates: int = 5) -> None:
    fractions = [f for f, _what in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] >= 0.0
    steps = [f for f, what in seen if step_word in what]
    assert len(steps) >= updates and steps[-1] > steps[0]  # the long step reports as it goes
    assert any("placing the other" in what for _f, what in seen)


def test_tsne_reports_every_few_iterations_up_to_one_and_repeats_for_a_seed() -> None:
    hidden = wide_clusters()
    params = {"max_points": 180, "n_iter": 60, "perplexity": 10.0}
    a, seen = fit_watched("tsne", hidden, params)
    assert_moves_to_one(seen, "t-SNE iteration")
    assert any("t-SNE iteration 60 of 60" in what for _f, what in seen)
    b, _ = fit_watched("tsne", hidden, params)
    np.testing.assert_array_equal(a, b)


class _StubUMAP:
    """umap-learn's UMAP as far as the projection uses it: the tqdm bar of its epochs, seeded points."""

    def __init__(self, **options) -> None:
        self.options = options

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        indices, distances = self.options["precomputed_knn"]
        assert indices.shape == distances.shape == (len(x), self.options["n_neighbors"])
        assert (indices[:, 0] == np.arange(len(x))).all()  # each state is its own nearest neighbour
        sink, total = self.options["tqdm_kwds"]["file"], self.options["n_epochs"]
        for done in range(total + 1):
            sink.write(f"\r{done} {total}")
        return x[:, :2] * self.options["random_state"]


def test_umap_reports_its_neighbours_and_each_epoch_up_to_one(monkeypatch) -> None:
    import sys
    import types

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=_StubUMAP))
    hidden = wide_clusters()
    points, seen = fit_watched("umap", hidden, {"max_points": 200, "n_epochs": 20})
    assert_moves_to_one(seen, "epoch")
    labels = [what for _f, what in seen]
    order = [
        labels.index(next(w for w in labels if word in w))
        for word in ("neighbours", "graph", "epoch", "placing")
    ]
    assert order == sorted(order) and "optimising the layout, epoch 20 of 20" in labels
    assert points.shape == (len(hidden), 2) and np.isfinite(points).all()


@pytest.mark.heavy
def test_real_umap_reports_up_to_one_and_repeats_for_a_seed() -> None:
    hidden = wide_clusters()
    params = {"max_points": 200, "n_epochs": 30}
    a, seen = fit_watched("umap", hidden, params)
    assert_moves_to_one(seen, "epoch", updates=2)  # its bar writes at most four times a second
    b, _ = fit_watched("umap", hidden, params)
    np.testing.assert_array_equal(a, b)
