"""2-D projections of hidden states (PCA, UMAP, t-SNE) and placing new states in them.

PCA and UMAP keep their fitted reducer, so new states (a typed text) are
placed with ``transform``; UMAP is fitted on at most ``max_points`` states (a
seeded sample) and places the others with the same ``transform``, which keeps
100k-state sets to about a minute on two cores. t-SNE has no transform: it is fitted on at most
``max_points`` states (a seeded sample when there are more) and every other
state, old or new, is placed at the mean 2-D position of its nearest fitted
neighbours in the original hidden-state space.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("pca", "umap", "tsne")
DEFAULT_PARAMS = {
    "pca": {},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "max_points": 20000},
    "tsne": {"perplexity": 30.0, "early_exaggeration": 12.0, "max_points": 20000, "neighbours": 5},
}
LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


@dataclass
class Projector:
    """A fitted projection that can place new hidden states."""

    method: str
    params: dict
    reducer: object | None = None  # PCA or UMAP model
    anchors: np.ndarray | None = None  # t-SNE: the fitted states ...
    anchor_points: np.ndarray | None = None  # ... and their 2-D positions
    extra: dict = field(default_factory=dict)

    def place(self, hidden: np.ndarray) -> np.ndarray:
        """2-D positions of (n, units) states."""
        hidden = np.asarray(hidden, dtype=np.float32)
        if len(hidden) == 0:
            return np.zeros((0, 2), np.float32)
        if self.method == "tsne":
            return _nearest_mean(self.anchors, self.anchor_points, hidden, int(self.params["neighbours"]))
        return np.asarray(self.reducer.transform(hidden), dtype=np.float32)


def params_for(method: str, **overrides) -> dict:
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose one of {METHODS}")
    return {**DEFAULT_PARAMS[method], **overrides}


def fit(
    hidden: np.ndarray, method: str, seed: int, params: dict | None = None
) -> tuple[np.ndarray, Projector]:
    """Project every row of ``hidden`` to 2-D; returns (points, projector)."""
    params = params_for(method, **(params or {}))
    hidden = np.asarray(hidden, dtype=np.float32)
    if method == "pca":
        from sklearn.decomposition import PCA

        reducer = PCA(n_components=2, random_state=seed).fit(hidden)
        return reducer.transform(hidden).astype(np.float32), Projector(method, params, reducer=reducer)
    if method == "umap":
        import warnings

        import umap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reducer = umap.UMAP(
                n_components=2,
                n_neighbors=int(params["n_neighbors"]),
                min_dist=float(params["min_dist"]),
                random_state=seed,
            )
            sample = _sample(len(hidden), int(params["max_points"]), seed)
            points = np.empty((len(hidden), 2), np.float32)
            points[sample] = reducer.fit_transform(hidden[sample])
            rest = np.setdiff1d(np.arange(len(hidden)), sample)
            if len(rest):
                points[rest] = reducer.transform(hidden[rest])
        return points, Projector(method, params, reducer=reducer)
    return _fit_tsne(hidden, seed, params)


def _fit_tsne(hidden: np.ndarray, seed: int, params: dict) -> tuple[np.ndarray, Projector]:
    from sklearn.manifold import TSNE

    n = len(hidden)
    sample = _sample(n, int(params["max_points"]), seed)
    tsne = TSNE(
        n_components=2,
        perplexity=min(float(params["perplexity"]), max(2.0, (len(sample) - 1) / 3)),
        early_exaggeration=float(params["early_exaggeration"]),
        init="pca",
        random_state=seed,
        n_jobs=-1,
    )
    fitted = tsne.fit_transform(hidden[sample]).astype(np.float32)
    projector = Projector("tsne", params, anchors=hidden[sample], anchor_points=fitted)
    points = np.empty((n, 2), np.float32)
    points[sample] = fitted
    rest = np.setdiff1d(np.arange(n), sample)
    if len(rest):
        points[rest] = projector.place(hidden[rest])
    return points, projector


def _sample(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of at most ``limit`` of ``n`` rows (all when n ≤ limit)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _nearest_mean(anchors: np.ndarray, anchor_points: np.ndarray, hidden: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(anchors))
    index = NearestNeighbors(n_neighbors=k).fit(anchors)
    distances, neighbours = index.kneighbors(hidden)
    weights = 1.0 / (distances + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkd->nd", weights, anchor_points[neighbours]).astype(np.float32)
