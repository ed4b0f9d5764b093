"""Nearest neighbours of a hidden state in the full hidden space (Euclidean), no Dash.

Two indexes answer the same question, ``query(vector, k, exclude)``:

- :class:`ExactIndex`: a chunked brute-force search in float32 (one matrix-vector product per
  chunk of rows, each chunk converted from the memory-mapped float16 states; squared norms precomputed) whose candidates are re-ranked with exact float64
  distances. Building it costs one pass over the states (milliseconds at 10^5 states) and a
  query reads every state once, so it answers in milliseconds up to about a million states.
- :class:`ApproxIndex`: a k-NN graph from ``pynndescent`` (installed with umap-learn) for sets
  above ``exact_max`` states, where a full scan per click would take too long. Its build takes
  minutes at millions of states (and numba compiles it first), so callers build it once and keep
  it (``services.neighbors`` caches it on disk). Its distances are exact; the set may miss a
  neighbour now and then (recall is checked in the tests).

``exclude`` is a row range left out of the answer (the query's own sequence, or just its row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Above this many states an approximate graph index answers. The whole IMDB test split (2.4M states)
# stays exact: its float16 states are scanned where they are memory-mapped (about 0.6 s a query on
# two cores), where a graph index would hold a float32 copy (about 1 GB) in every worker.
EXACT_MAX_STATES = 3_000_000
CHUNK_ROWS = 1 << 17  # rows per matrix-vector product of the exact scan (bounded temporaries)
GRAPH_NEIGHBORS = 30  # pynndescent's n_neighbors: the graph's degree
SEARCH_EPSILON = 0.2  # pynndescent's query epsilon: wider search, better recall


@dataclass(frozen=True)
class Neighbors:
    """The answer of a query: rows into the states, ascending distance (ties by row)."""

    rows: np.ndarray  # (k,) int64
    distances: np.ndarray  # (k,) float64, Euclidean


def _as_states(data: np.ndarray, keep_float16: bool = False) -> np.ndarray:
    """The states as a 2-D float array; ``keep_float16`` leaves float16 (e.g. memory-mapped) states as
    they are, so a scan converts one chunk at a time instead of holding a float32 copy."""
    if keep_float16 and isinstance(data, np.ndarray) and data.dtype in (np.float16, np.float32):
        pass
    else:
        data = np.ascontiguousarray(data, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError(f"states must be a 2-D array, got shape {data.shape}")
    return data


def _chunk(data: np.ndarray, start: int, stop: int) -> np.ndarray:
    return np.asarray(data[start:stop], dtype=np.float32)


def _exclude_bounds(exclude: slice | None, n: int) -> tuple[int, int]:
    if exclude is None:
        return 0, 0
    start, stop, _step = exclude.indices(n)
    return start, max(start, stop)


def _finish(data: np.ndarray, vector: np.ndarray, rows: np.ndarray, k: int) -> Neighbors:
    """Exact float64 distances of candidate ``rows``; the ``k`` nearest, ties broken by row."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    diff = data[rows].astype(np.float64) - vector.astype(np.float64)
    dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    order = np.lexsort((rows, dist))[:k]
    return Neighbors(rows=rows[order], distances=dist[order])


class ExactIndex:
    """Brute-force nearest neighbours over all states (exact)."""

    kind = "exact"

    def __init__(self, data: np.ndarray) -> None:
        # Memory-mapped float16 states stay on disk (shared by the OS page cache between workers):
        # 2.4M x 100 states would be about 1 GB per process as a float32 copy.
        self.data = _as_states(data, keep_float16=True)
        self.sq_norms = np.empty(len(self.data), dtype=np.float32)
        for start in range(0, len(self.data), CHUNK_ROWS):
            part = _chunk(self.data, start, start + CHUNK_ROWS)
            self.sq_norms[start : start + len(part)] = np.einsum("ij,ij->i", part, part)

    @property
    def n(self) -> int:
        return len(self.data)

    def query(self, vector: np.ndarray, k: int, exclude: slice | None = None) -> Neighbors:
        """The ``k`` states nearest to ``vector``, leaving out the rows of ``exclude``."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        lo, hi = _exclude_bounds(exclude, self.n)
        k = max(0, min(int(k), self.n - (hi - lo)))
        if k == 0:
            return Neighbors(np.zeros(0, np.int64), np.zeros(0))
        # float32 squared distances by |x|^2 - 2 x.q can swap near-ties: keep a margin of extra
        # candidates and rank them again with exact differences.
        want = min(self.n, 2 * k + 16)
        candidates, scores = [], []
        for start in range(0, self.n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, self.n)
            d2 = self.sq_norms[start:stop] - 2.0 * (_chunk(self.data, start, stop) @ vector)
            if lo < stop and hi > start:
                d2[max(lo, start) - start : min(hi, stop) - start] = np.inf
            take = min(want, len(d2))
            part = np.argpartition(d2, take - 1)[:take] if take < len(d2) else np.arange(len(d2))
            candidates.append(part + start)
            scores.append(d2[part])
        rows, d2 = np.concatenate(candidates), np.concatenate(scores)
        keep = np.isfinite(d2)
        rows, d2 = rows[keep], d2[keep]
        if len(rows) > want:
            rows = rows[np.argpartition(d2, want - 1)[:want]]
        return _finish(self.data, vector, rows, k)


class ApproxIndex:
    """A pynndescent k-NN graph over all states (approximate set, exact distances)."""

    kind = "pynndescent"

    def __init__(self, data: np.ndarray, seed: int = 0, n_jobs: int | None = None) -> None:
        from pynndescent import NNDescent

        self.data = _as_states(data)
        self.graph = NNDescent(
            self.data,
            n_neighbors=min(GRAPH_NEIGHBORS, max(2, len(self.data) - 1)),
            metric="euclidean",
            random_state=seed,
            low_memory=True,
            n_jobs=n_jobs,
            compressed=False,
        )
        self.graph.prepare()

    @property
    def n(self) -> int:
        return len(self.data)

    def query(self, vector: np.ndarray, k: int, exclude: slice | None = None) -> Neighbors:
        """About the ``k`` states nearest to ``vector``, leaving out the rows of ``exclude``."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        lo, hi = _exclude_bounds(exclude, self.n)
        k = max(0, min(int(k), self.n - (hi - lo)))
        if k == 0:
            return Neighbors(np.zeros(0, np.int64), np.zeros(0))
        fetch = min(self.n, k + (hi - lo) + 1)
        while True:
            rows, _dist = self.graph.query(vector, k=fetch, epsilon=SEARCH_EPSILON)
            rows = rows[0][rows[0] >= 0]
            rows = rows[(rows < lo) | (rows >= hi)]
            if len(rows) >= k or fetch >= self.n:
                return _finish(self.data, vector[0], rows, k)
            fetch = min(self.n, 2 * fetch)


def build_index(data: np.ndarray, exact_max: int = EXACT_MAX_STATES) -> ExactIndex | ApproxIndex:
    """The index for ``data``: exact up to ``exact_max`` states, a pynndescent graph above."""
    return ExactIndex(data) if len(data) <= exact_max else ApproxIndex(data)


def brute_force(data: np.ndarray, vector: np.ndarray, k: int, exclude: slice | None = None) -> Neighbors:
    """The reference answer in float64, one pass, no index (for tests and checks)."""
    data = np.asarray(data, dtype=np.float64)
    dist = np.sqrt(((data - np.asarray(vector, dtype=np.float64).reshape(1, -1)) ** 2).sum(axis=1))
    lo, hi = _exclude_bounds(exclude, len(data))
    dist[lo:hi] = np.inf
    rows = np.arange(len(data))
    order = np.lexsort((rows, dist))
    order = order[np.isfinite(dist[order])][:k]
    return Neighbors(rows=rows[order].astype(np.int64), distances=dist[order])
