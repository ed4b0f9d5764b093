"""2-D projections of hidden states (PCA, UMAP, t-SNE) and placing new states in them.

Every method is fitted on at most ``max_points`` states, a seeded sample when there
are more (all of them otherwise), and then reaches every state in chunks, so millions
of states (memory-mapped, float16 or float32) never sit in memory as float32 at once:

* PCA projects every state with the fitted components (chunked; exactly the same
  points as an unchunked transform of the same fit).
* UMAP and t-SNE reduce their sample to ``dims`` dimensions with PCA, lay it out
  (:mod:`model.embedding`) and keep it as anchors; every other state, and every new
  state (a typed text), is reduced the same way and placed at the distance-weighted
  mean 2-D position of its ``neighbours`` nearest anchors (an exact search, chunked).

``on_progress(fraction, what)`` follows the whole projection (0..1): each part's share is
its expected time, so the bar moves with the work. Every parameter (sample size, neighbours,
dimensions, iterations, the algorithm's version) is part of the projection's cache key, and a
seed gives the same points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from model import embedding

Report = Callable[[float, str], None]
METHODS = ("pca", "umap", "tsne")
ALGORITHM = 2  # of the UMAP and t-SNE projections (2: a PCA-reduced sample, exact neighbours)
DEFAULT_PARAMS = {
    "pca": {"max_points": 100_000},
    "umap": {
        "n_neighbors": 15,
        "min_dist": 0.1,
        "n_epochs": 200,
        "max_points": 20000,
        "neighbours": 5,
        "dims": 50,
        "algorithm": ALGORITHM,
    },
    "tsne": {
        "perplexity": 30.0,
        "early_exaggeration": 12.0,
        "n_iter": 500,
        "angle": 0.5,
        "max_points": 10000,
        "neighbours": 5,
        "dims": 50,
        "algorithm": ALGORITHM,
    },
}
LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
CHUNK_ROWS = 65_536  # states read at once when transforming
PLACE_ROWS = 8_192  # states placed at once (one progress update each)
# Rough seconds per state of each part (two busy cores, the 97k IMDB default), for the bar's shares.
REDUCE_S = 2e-4  # per fitted state: reading the sample and its PCA
LAYOUT_S = {"umap": 2.5e-3, "tsne": 2e-5}  # per fitted state (t-SNE: and per iteration)
PLACE_S = 1e-8  # per placed state and anchor


@dataclass
class Projector:
    """A fitted projection that can place new hidden states.

    PCA: ``reducer`` is the 2-D PCA. UMAP, t-SNE: ``reducer`` is the PCA to ``dims`` dimensions
    (None when the states have no more), ``anchors`` the fitted states so reduced and
    ``anchor_points`` their 2-D positions."""

    method: str
    params: dict
    reducer: object | None = None
    anchors: np.ndarray | None = None
    anchor_points: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def place(self, hidden: np.ndarray) -> np.ndarray:
        """2-D positions of (n, units) states."""
        hidden = np.asarray(hidden)
        if len(hidden) == 0:
            return np.zeros((0, 2), np.float32)
        if self.method == "pca":
            return _transform(self.reducer, hidden)
        k = int(self.params["neighbours"])
        return place_by_neighbours(self.anchors, self.anchor_points, hidden, k, reducer=self.reducer)


def params_for(method: str, **overrides) -> dict:
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose one of {METHODS}")
    return {**DEFAULT_PARAMS[method], **overrides}


def _quiet(on_progress: Report | None) -> Report:
    return on_progress or (lambda fraction, what: None)


def _shares(method: str, params: dict, n_fit: int, n_rest: int) -> tuple[float, float, float]:
    """The bar's shares of reducing the sample, laying it out and placing the rest (summing to 1)."""
    layout = LAYOUT_S[method] * n_fit * (int(params["n_iter"]) if method == "tsne" else 1)
    costs = np.array([REDUCE_S * n_fit, layout, PLACE_S * n_fit * n_rest])
    return tuple(float(c) for c in costs / costs.sum())


def fit(
    hidden: np.ndarray,
    method: str,
    seed: int,
    params: dict | None = None,
    on_progress: Report | None = None,
) -> tuple[np.ndarray, Projector]:
    """Project every row of ``hidden`` (any float array, memory-mapped is fine) to 2-D.

    Returns ``(points, projector)``: (n, 2) float32 positions and what places new states.
    ``on_progress(fraction, what)`` follows the work (see the module's docstring).
    """
    params = params_for(method, **(params or {}))
    report = _quiet(on_progress)
    n = len(hidden)
    sample = sample_indices(n, int(params["max_points"]), seed)
    if method == "pca":
        from sklearn.decomposition import PCA

        report(0.0, f"fitting PCA on {len(sample):,} states")
        reducer = PCA(n_components=2, random_state=seed).fit(rows(hidden, sample))
        projector = Projector(method, params, reducer=reducer, extra={"seed": seed})
        what = f"projecting all {n:,} states"
        return _transform(reducer, hidden, lambda done, total: report(done / total, what)), projector
    rest = np.setdiff1d(np.arange(n), sample)
    reduce, layout, place = _shares(method, params, len(sample), len(rest))
    report(0.0, f"reducing a sample of {len(sample):,} states to {params['dims']} dimensions")
    reducer, anchors = _reduced_sample(hidden, sample, int(params["dims"]), seed)
    lay_out = embedding.umap_layout if method == "umap" else embedding.tsne_layout
    anchor_points = lay_out(anchors, seed, params, embedding.within(report, reduce, layout))
    projector = Projector(method, params, reducer, anchors, anchor_points, extra={"seed": seed})
    points = np.empty((n, 2), np.float32)
    points[sample] = anchor_points
    if len(rest):
        what = f"placing the other {len(rest):,} states by their nearest neighbours"
        placing = embedding.within(report, reduce + layout, place)
        placed = lambda f, _what: placing(f, what)  # noqa: E731
        k = int(params["neighbours"])
        points[rest] = place_by_neighbours(anchors, anchor_points, hidden, k, rest, placed, reducer)
    report(1.0, "done")
    return points, projector


def _reduced_sample(hidden: np.ndarray, sample: np.ndarray, dims: int, seed: int):
    """(the PCA to ``dims`` dimensions fitted on the sample, or None; the sample so reduced, float32)."""
    from sklearn.decomposition import PCA

    fitted_on = rows(hidden, sample)
    if fitted_on.shape[1] <= dims or len(fitted_on) <= dims:
        return None, fitted_on
    reducer = PCA(n_components=dims, random_state=seed).fit(fitted_on)
    return reducer, reducer.transform(fitted_on).astype(np.float32)


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


def _weighted_mean(anchor_points: np.ndarray, distances: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    weights = 1.0 / (np.asarray(distances, dtype=np.float64) + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkd->nd", weights, anchor_points[neighbours]).astype(np.float32)


def place_by_neighbours(
    anchors: np.ndarray,
    anchor_points: np.ndarray,
    hidden: np.ndarray,
    k: int,
    indices: np.ndarray | None = None,
    on_progress: Report | None = None,
    reducer=None,
) -> np.ndarray:
    """Positions of ``hidden[indices]`` (every row when None): the weighted mean of their nearest anchors.

    Each chunk of states is reduced with ``reducer`` (the anchors' PCA; None: as they are) and
    searched exactly, so a state gets the same place (up to rounding) alone or among millions.
    """
    report = _quiet(on_progress)
    indices = np.arange(len(hidden)) if indices is None else indices
    points = np.empty((len(indices), 2), np.float32)
    for start in range(0, len(indices), PLACE_ROWS):
        stop = min(start + PLACE_ROWS, len(indices))
        states = rows(hidden, indices[start:stop])
        if reducer is not None:
            states = reducer.transform(states).astype(np.float32)
        neighbours, distances = embedding.nearest(anchors, states, k)
        points[start:stop] = _weighted_mean(anchor_points, distances, neighbours)
        report(stop / len(indices), "placing states")
    return points
