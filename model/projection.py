"""2-D projections of hidden states (PCA, UMAP, t-SNE) and placing new states in them.

Every method is fitted on at most ``max_points`` states, a seeded sample when there
are more (all of them otherwise), and then reaches every state in chunks, so millions
of states (memory-mapped, float16 or float32) never sit in memory as float32 at once:

* PCA projects every state with the fitted components (chunked; exactly the same
  points as an unchunked transform of the same fit).
* UMAP and t-SNE keep their fitted sample as anchors; every other state, and every
  new state (a typed text), is placed at the distance-weighted mean 2-D position of
  its ``neighbours`` nearest anchors in hidden-state space. Bulk placement searches
  with pynndescent (which umap-learn brings; seeded, so repeatable), a handful of new
  states with an exact search.

Every parameter (sample size, neighbours, seed) is part of the projection's cache key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

METHODS = ("pca", "umap", "tsne")
DEFAULT_PARAMS = {
    "pca": {"max_points": 100_000},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "max_points": 20000, "neighbours": 5},
    "tsne": {"perplexity": 30.0, "early_exaggeration": 12.0, "max_points": 20000, "neighbours": 5},
}
LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
CHUNK_ROWS = 65_536  # states handled at once when transforming or placing
EXACT_PLACE_MAX = 2_000  # up to this many new states, placing uses an exact neighbour search


@dataclass
class Projector:
    """A fitted projection that can place new hidden states."""

    method: str
    params: dict
    reducer: object | None = None  # PCA model
    anchors: np.ndarray | None = None  # UMAP, t-SNE: the fitted states ...
    anchor_points: np.ndarray | None = None  # ... and their 2-D positions
    extra: dict = field(default_factory=dict)

    def place(self, hidden: np.ndarray) -> np.ndarray:
        """2-D positions of (n, units) states."""
        hidden = np.asarray(hidden)
        if len(hidden) == 0:
            return np.zeros((0, 2), np.float32)
        if self.method == "pca":
            return _transform(self.reducer, hidden)
        k, seed = int(self.params["neighbours"]), int(self.extra.get("seed", 0))
        return place_by_neighbours(self.anchors, self.anchor_points, hidden, k, seed)


def params_for(method: str, **overrides) -> dict:
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose one of {METHODS}")
    return {**DEFAULT_PARAMS[method], **overrides}


def fit(
    hidden: np.ndarray,
    method: str,
    seed: int,
    params: dict | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, Projector]:
    """Project every row of ``hidden`` (any float array, memory-mapped is fine) to 2-D.

    Returns ``(points, projector)``: (n, 2) float32 positions and what places new states.
    ``on_progress(done, total)`` follows the states placed after the fit.
    """
    params = params_for(method, **(params or {}))
    n = len(hidden)
    sample = sample_indices(n, int(params["max_points"]), seed)
    fitted_on = rows(hidden, sample)
    if method == "pca":
        from sklearn.decomposition import PCA

        reducer = PCA(n_components=2, random_state=seed).fit(fitted_on)
        projector = Projector(method, params, reducer=reducer, extra={"seed": seed})
        return _transform(reducer, hidden, on_progress), projector
    anchor_points = (
        _fit_umap(fitted_on, seed, params) if method == "umap" else _fit_tsne(fitted_on, seed, params)
    )
    projector = Projector(
        method, params, anchors=fitted_on, anchor_points=anchor_points, extra={"seed": seed}
    )
    points = np.empty((n, 2), np.float32)
    points[sample] = anchor_points
    rest = np.setdiff1d(np.arange(n), sample)
    if len(rest):
        k = int(params["neighbours"])
        points[rest] = place_by_neighbours(fitted_on, anchor_points, hidden, k, seed, rest, on_progress)
    return points, projector


def _fit_umap(sample: np.ndarray, seed: int, params: dict) -> np.ndarray:
    import warnings

    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=min(int(params["n_neighbors"]), max(2, len(sample) - 1)),
            min_dist=float(params["min_dist"]),
            random_state=seed,
        )
        return np.asarray(reducer.fit_transform(sample), dtype=np.float32)


def _fit_tsne(sample: np.ndarray, seed: int, params: dict) -> np.ndarray:
    from sklearn.manifold import TSNE

    tsne = TSNE(
        n_components=2,
        perplexity=min(float(params["perplexity"]), max(2.0, (len(sample) - 1) / 3)),
        early_exaggeration=float(params["early_exaggeration"]),
        init="pca",
        random_state=seed,
        n_jobs=-1,
    )
    return tsne.fit_transform(sample).astype(np.float32)


def sample_indices(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of at most ``limit`` of ``n`` rows (all when n ≤ limit)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def rows(hidden: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``hidden[indices]`` as float32 in memory, read a chunk at a time (a memmap stays on disk)."""
    out = np.empty((len(indices), *hidden.shape[1:]), np.float32)
    for start in range(0, len(indices), CHUNK_ROWS):
        part = indices[start : start + CHUNK_ROWS]
        if len(part) and part[-1] - part[0] + 1 == len(part):  # a contiguous run: a plain slice
            out[start : start + len(part)] = hidden[part[0] : part[-1] + 1]
        else:
            out[start : start + len(part)] = hidden[part]
    return out


def _float32(hidden: np.ndarray) -> np.ndarray:
    return np.asarray(hidden, dtype=np.float32)


def _transform(
    reducer, hidden: np.ndarray, on_progress: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """``reducer.transform`` of every row, a chunk at a time."""
    n = len(hidden)
    points = np.empty((n, 2), np.float32)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        points[start:stop] = reducer.transform(_float32(hidden[start:stop]))
        if on_progress:
            on_progress(stop, n)
    return points


def _exact_neighbours(anchors: np.ndarray, hidden: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=min(k, len(anchors))).fit(anchors)
    return index.kneighbors(hidden)


def _weighted_mean(anchor_points: np.ndarray, distances: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    weights = 1.0 / (np.asarray(distances, dtype=np.float64) + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkd->nd", weights, anchor_points[neighbours]).astype(np.float32)


def place_by_neighbours(
    anchors: np.ndarray,
    anchor_points: np.ndarray,
    hidden: np.ndarray,
    k: int,
    seed: int,
    indices: np.ndarray | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Positions of ``hidden[indices]`` (every row when None): the weighted mean of their nearest anchors.

    Up to EXACT_PLACE_MAX states are searched exactly, more with a seeded pynndescent index.
    """
    import warnings

    k = min(k, len(anchors))
    indices = np.arange(len(hidden)) if indices is None else indices
    if len(indices) <= EXACT_PLACE_MAX:
        distances, neighbours = _exact_neighbours(anchors, rows(hidden, indices), k)
        return _weighted_mean(anchor_points, distances, neighbours)
    from pynndescent import NNDescent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = NNDescent(anchors, n_neighbors=max(15, k), random_state=seed, n_jobs=1)
        index.prepare()
    points = np.empty((len(indices), 2), np.float32)
    for start in range(0, len(indices), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(indices))
        neighbours, distances = index.query(rows(hidden, indices[start:stop]), k=k)
        points[start:stop] = _weighted_mean(anchor_points, distances, neighbours)
        if on_progress:
            on_progress(stop, len(indices))
    return points
