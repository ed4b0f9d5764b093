"""An inverted-file (IVF) index for nearest neighbours among millions of hidden states, no Dash.

Built once per prepared set (in the ``python -m model.prepare`` process) and stored beside the states
(:func:`model.storage.save_neighbor_index`), read memory-mapped by every worker:

- k-means (Lloyd's iterations in float32 with BLAS, on a sample) splits the hidden space into
  ``n_lists`` cells; every state goes to the cell of its nearest centroid;
- ``order`` lists the states' rows cell by cell (ascending within a cell), ``starts`` where each
  cell begins: 4 bytes a state. The states themselves stay the prepared float16 memory map.

A query ranks the centroids, reads the nearest cells until about ``probe_rows`` states are gathered,
and ranks those exactly (float32 scores, the best re-ranked in float64 like :class:`ExactIndex`). The
answer is exact within the cells read; a true neighbour across a cell border can be missed (recall
at the defaults: ``bench/neighbors.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.neighbors import FLOAT16_TABLE, Neighbors, finish, query_bounds, to_float32

VERSION = 1  # of the stored layout and the build (part of the artefact's key)
ROWS_PER_LIST = 1024  # about this many states per cell: n_lists = n / ROWS_PER_LIST (bounded)
MAX_LISTS = 4096
TRAIN_PER_LIST = 48  # k-means runs on a sample of this many states per cell
KMEANS_ITERATIONS = 8
PROBE_ROWS = 12_000  # a query reads the nearest cells until this many states (recall: bench)
ASSIGN_BYTES = 32 << 20  # scores held at once while assigning states to cells


def params() -> dict:
    """What the stored index depends on besides the states (for its cache key)."""
    return {
        "version": VERSION,
        "rows_per_list": ROWS_PER_LIST,
        "max_lists": MAX_LISTS,
        "train": TRAIN_PER_LIST,
        "iterations": KMEANS_ITERATIONS,
    }


def n_lists_for(n: int) -> int:
    """How many cells an index of ``n`` states gets."""
    return int(np.clip(n // ROWS_PER_LIST, 1, MAX_LISTS))


def nearest_centroid(x: np.ndarray, centroids: np.ndarray, c_sq: np.ndarray) -> np.ndarray:
    """(len(x),) int32: the nearest centroid of each row of float32 ``x`` (blocks of BLAS scores)."""
    out = np.empty(len(x), dtype=np.int32)
    block = max(1, ASSIGN_BYTES // (4 * max(1, len(centroids))))
    for start in range(0, len(x), block):
        scores = x[start : start + block] @ centroids.T
        scores *= -2.0
        scores += c_sq
        out[start : start + len(scores)] = np.argmin(scores, axis=1)
    return out


def kmeans(sample: np.ndarray, n_lists: int, iterations: int, seed: int = 0) -> np.ndarray:
    """(n_lists, d) float32 centroids of float32 ``sample`` by Lloyd's iterations from random states.

    A cell left empty is reseeded with a random state of the sample."""
    from scipy import sparse

    rng = np.random.default_rng(seed)
    m = len(sample)
    centroids = sample[rng.choice(m, size=n_lists, replace=False)].copy()
    for _ in range(iterations):
        labels = nearest_centroid(sample, centroids, np.einsum("ij,ij->i", centroids, centroids))
        members = sparse.csr_matrix((np.ones(m, np.float32), (labels, np.arange(m))), shape=(n_lists, m))
        counts = np.bincount(labels, minlength=n_lists)
        sums = np.asarray(members @ sample, dtype=np.float32)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
        empty = np.flatnonzero(~filled)
        if len(empty):
            centroids[empty] = sample[rng.choice(m, size=len(empty), replace=False)]
    return centroids


def build(
    states: np.ndarray, seed: int = 0, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, np.ndarray]:
    """``{"centroids", "starts", "order"}`` of the IVF index of ``states`` (n, d), float16 or float32.

    ``states`` may be memory-mapped: it is read a block of rows at a time."""
    n = len(states)
    if states.ndim != 2 or n == 0:
        raise ValueError(f"states must be a non-empty 2-D array, got shape {states.shape}")
    n_lists = n_lists_for(n)
    rng = np.random.default_rng(seed)
    size = min(n, max(n_lists, TRAIN_PER_LIST * n_lists))
    picked = np.sort(rng.choice(n, size=size, replace=False))
    sample = to_float32(states[picked])
    centroids = kmeans(sample, n_lists, KMEANS_ITERATIONS, seed)
    c_sq = np.einsum("ij,ij->i", centroids, centroids)
    labels = np.empty(n, dtype=np.int32)
    block = 1 << 16
    for start in range(0, n, block):
        stop = min(n, start + block)
        labels[start:stop] = nearest_centroid(to_float32(states[start:stop]), centroids, c_sq)
        if on_progress is not None:
            on_progress(stop, n)
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=n_lists))])
    dtype = np.int32 if n < 2**31 else np.int64
    return {"centroids": centroids, "starts": starts.astype(np.int64), "order": order.astype(dtype)}


class IvfIndex:
    """Nearest neighbours through the stored cells (approximate set, exact distances)."""

    kind = "ivf"

    def __init__(self, data: np.ndarray, stored: dict[str, np.ndarray], probe_rows: int = PROBE_ROWS) -> None:
        self.data = data  # (n, d) states, float16 memory map as prepared
        self.centroids = np.asarray(stored["centroids"], dtype=np.float32)
        self.starts = np.asarray(stored["starts"], dtype=np.int64)
        self.order = stored["order"]  # memory-mapped
        if data.ndim != 2 or len(self.order) != len(data) or self.starts[-1] != len(data):
            raise ValueError("The neighbour index does not match the states.")
        self.c_sq = np.einsum("ij,ij->i", self.centroids, self.centroids)
        self.sizes = np.diff(self.starts)
        self.probe_rows = int(probe_rows)
        self.bits = data.view(np.uint16) if data.dtype == np.float16 else None  # gathered, then looked up

    @property
    def n(self) -> int:
        return len(self.data)

    def _candidates(self, vector: np.ndarray, lo: int, hi: int, want: int) -> np.ndarray:
        """Rows (ascending) of the nearest cells: about ``probe_rows``, at least ``want`` outside lo:hi."""
        ranked = np.argsort(self.c_sq - 2.0 * (self.centroids @ vector))
        reach = np.cumsum(self.sizes[ranked])
        lists = int(np.searchsorted(reach, min(self.probe_rows, self.n))) + 1
        while True:
            picked = ranked[:lists]
            rows = np.concatenate([self.order[self.starts[c] : self.starts[c + 1]] for c in picked])
            if hi > lo:
                rows = rows[(rows < lo) | (rows >= hi)]
            if len(rows) >= want or lists >= len(ranked):
                rows = rows.astype(np.int64)
                rows.sort()
                return rows
            lists = min(len(ranked), 2 * lists)

    def query(self, vector: np.ndarray, k: int, exclude: slice | None = None) -> Neighbors:
        """About the ``k`` states nearest to ``vector``, leaving out the rows of ``exclude``."""
        vector, lo, hi, k = query_bounds(vector, k, exclude, self.n)
        if k == 0:
            return Neighbors(np.zeros(0, np.int64), np.zeros(0))
        want = min(self.n, 2 * k + 16)
        rows = self._candidates(vector, lo, hi, want)
        if self.bits is not None:
            x = np.take(FLOAT16_TABLE, np.take(self.bits, rows, axis=0))
        else:
            x = np.asarray(np.take(self.data, rows, axis=0), dtype=np.float32)
        d2 = np.einsum("ij,ij->i", x, x) - 2.0 * (x @ vector)
        if len(rows) > want:
            rows = rows[np.argpartition(d2, want - 1)[:want]]
        return finish(self.data, vector, rows, k)
