"""The 2-D layouts behind UMAP and t-SNE, reporting their progress as they go.

Both start from an exact nearest-neighbour search (:func:`nearest`: scikit-learn's brute force a
chunk of queries at a time: no numba compile, repeatable, and it moves while it works).

* UMAP builds its graph from those neighbours (umap-learn's ``precomputed_knn``) and reports each
  optimisation epoch (its ``tqdm_kwds``). Building the graph and its spectral first layout (and,
  in a fresh process, numba compiling UMAP) is one step that reports nothing until it is done.
* t-SNE runs scikit-learn's Barnes-Hut gradient one iteration at a time in the schedule of
  ``sklearn.manifold.TSNE`` (early exaggeration with momentum 0.5, then momentum 0.8; gains reset
  between the two, as there), a fixed number of iterations, each reported. At most two threads
  compute the gradient (one below ``TSNE_THREADED_FROM`` states): two partial sums add up the same
  in either order, so a seed gives the same layout run after run, on any number of cores above one.

``report(fraction, what)``: the fraction of this layout done (0..1) and what it is doing.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np

Report = Callable[[float, str], None]
QUERY_ROWS = 4096  # queries per neighbour search chunk (one progress update each)
TSNE_EXPLORATION = 250  # iterations with early exaggeration (as scikit-learn's TSNE)
TSNE_THREADS = 2  # at most: the gradient's sums then do not depend on the order threads finish
TSNE_THREADED_FROM = 5000  # fewer states: one thread (waiting for a second costs more than it gives)
TSNE_REPORT_EVERY = 5  # iterations between progress updates
# The share of each layout's time in each of its steps (measured on the 97k IMDB default).
UMAP_SHARES = {"neighbours": 0.15, "graph": 0.45, "epochs": 0.4}
TSNE_SHARES = {"neighbours": 0.05, "iterations": 0.95}


def _quiet(report: Report | None) -> Report:
    return report or (lambda fraction, what: None)


def nearest(
    points: np.ndarray, queries: np.ndarray, k: int, report: Report | None = None, what: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) of the ``k`` nearest ``points`` of each query row, exact, a chunk at a time."""
    from sklearn.neighbors import NearestNeighbors

    report = _quiet(report)
    k = min(k, len(points))
    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(points)
    indices = np.empty((len(queries), k), np.int64)
    distances = np.empty((len(queries), k), np.float32)
    for start in range(0, len(queries), QUERY_ROWS):
        stop = min(start + QUERY_ROWS, len(queries))
        distances[start:stop], indices[start:stop] = index.kneighbors(queries[start:stop])
        report(stop / len(queries), what)
    return indices, distances


def within(report: Report, start: float, share: float) -> Report:
    """A report for one step that fills ``share`` of a bar after ``start`` (never past 1)."""
    return lambda fraction, what: report(min(start + share * min(max(fraction, 0.0), 1.0), 1.0), what)


class _EpochSink:
    """A file for umap-learn's tqdm bar (``bar_format`` "{n} {total}"): each write is an epoch count."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def write(self, text: str) -> None:
        found = re.findall(r"(\d+) (\d+)", text)
        if found:
            done, total = (int(value) for value in found[-1])
            if total:
                self.report(done / total, f"optimising the layout, epoch {done} of {total}")

    def flush(self) -> None:
        """Nothing is buffered."""


def umap_layout(x: np.ndarray, seed: int, params: dict, report: Report | None = None) -> np.ndarray:
    """UMAP of the rows of ``x`` (float32, already reduced) to 2-D, seeded (single-threaded epochs)."""
    import umap

    report = _quiet(report)
    k = min(int(params["n_neighbors"]), max(2, len(x) - 1))
    shares = UMAP_SHARES
    what = f"finding each state's {k} nearest neighbours"
    indices, distances = nearest(x, x, k, within(report, 0.0, shares["neighbours"]), what)
    graph_start = shares["neighbours"]
    report(graph_start, "building the UMAP graph and its first layout")
    sink = _EpochSink(within(report, graph_start + shares["graph"], shares["epochs"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=k,
            min_dist=float(params["min_dist"]),
            n_epochs=int(params["n_epochs"]),
            random_state=seed,
            precomputed_knn=(indices, distances),
            tqdm_kwds={"disable": False, "file": sink, "bar_format": "{n} {total}", "mininterval": 0.25},
        )
        points = np.asarray(reducer.fit_transform(x), dtype=np.float32)
    report(1.0, "layout done")
    return points


def _without_self(indices: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's neighbours less the row itself (less its last neighbour where duplicates hid it)."""
    n, k = indices.shape
    own = indices == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True
    keep = ~own
    return indices[keep].reshape(n, k - 1), distances[keep].reshape(n, k - 1)


def _affinities(x: np.ndarray, perplexity: float, report: Report):
    """The symmetric joint probabilities of t-SNE over each row's 3·perplexity nearest neighbours."""
    from scipy.sparse import csr_matrix
    from sklearn.manifold._t_sne import _joint_probabilities_nn

    n = len(x)
    k = min(n - 1, int(3.0 * perplexity + 1))
    indices, distances = nearest(x, x, k + 1, report, f"finding each state's {k} nearest neighbours")
    indices, distances = _without_self(indices, distances)
    squared = distances.astype(np.float64) ** 2
    graph = csr_matrix((squared.ravel(), indices.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    return _joint_probabilities_nn(graph, perplexity, 0)


def _first_layout(x: np.ndarray, seed: int) -> np.ndarray:
    """scikit-learn's ``init="pca"``: the first two principal components, scaled to std 1e-4."""
    from sklearn.decomposition import PCA

    start = PCA(n_components=2, random_state=seed).fit_transform(x).astype(np.float32)
    return start / (np.std(start[:, 0]) or 1.0) * 1e-4


def tsne_layout(x: np.ndarray, seed: int, params: dict, report: Report | None = None) -> np.ndarray:
    """Barnes-Hut t-SNE of the rows of ``x`` to 2-D, ``params["n_iter"]`` iterations, seeded."""
    from sklearn.manifold._t_sne import _kl_divergence_bh
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    report = _quiet(report)
    n = len(x)
    perplexity = min(float(params["perplexity"]), max(2.0, (n - 1) / 3))
    exaggeration = float(params["early_exaggeration"])
    P = _affinities(x, perplexity, within(report, 0.0, TSNE_SHARES["neighbours"]))
    position = _first_layout(x, seed).ravel()
    rate = max(n / exaggeration / 4.0, 50.0)  # scikit-learn's learning_rate="auto"
    threads = max(1, min(TSNE_THREADS, _openmp_effective_n_threads())) if n >= TSNE_THREADED_FROM else 1
    options = {"angle": float(params["angle"]), "compute_error": False, "num_threads": threads}
    total = int(params["n_iter"])
    step = within(report, TSNE_SHARES["neighbours"], TSNE_SHARES["iterations"])
    step(0.0, f"t-SNE iteration 0 of {total}")
    exaggerated = P * exaggeration
    update, gains = np.zeros_like(position), np.ones_like(position)
    for i in range(total):
        exploring = i < TSNE_EXPLORATION
        if i == TSNE_EXPLORATION:  # the second phase starts afresh, as in scikit-learn
            update, gains = np.zeros_like(position), np.ones_like(position)
        _error, grad = _kl_divergence_bh(position, exaggerated if exploring else P, 1, n, 2, **options)
        opposite = update * grad < 0.0
        gains[opposite] += 0.2
        gains[~opposite] *= 0.8
        np.clip(gains, 0.01, np.inf, out=gains)
        update = (0.5 if exploring else 0.8) * update - rate * grad * gains
        position += update
        if (i + 1) % TSNE_REPORT_EVERY == 0 or i + 1 == total:
            step((i + 1) / total, f"t-SNE iteration {i + 1} of {total}")
    return position.reshape(n, 2).astype(np.float32)
