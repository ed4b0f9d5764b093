"""Nearest neighbours of a hidden state in the full hidden space (Euclidean), no Dash.

Two indexes answer the same question, ``query(vector, k, exclude)``:

- :class:`ExactIndex`: a chunked brute-force search in float32 (one matrix-vector product per
  chunk of rows; squared norms precomputed) whose candidates are re-ranked with exact float64
  distances. A set of up to ``COPY_MAX_VALUES`` numbers is scanned from a float32 copy in memory
  (float16 to float32 casts cost more than the products); a larger one a chunk at a time from its
  float16 memory map. It answers in milliseconds up to a few hundred thousand states.
- :class:`model.neighbors_ivf.IvfIndex`: the inverted-file index built at preparation for sets
  above the exact limit (:func:`needs_index`); it reads a few cells of states per query.

``exclude`` is a row range left out of the answer (the query's own sequence, or just its row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Above this many states (or numbers: states x units) the IVF index of preparation answers: an exact
# scan reads every state per query (the whole IMDB test split, 2.4M x 100 float16: seconds).
EXACT_MAX_STATES = 200_000
EXACT_MAX_VALUES = 16_000_000
COPY_MAX_VALUES = 16_000_000  # an exact index keeps a float32 copy (64 MB at most) up to this size
CHUNK_ROWS = 1 << 17  # rows per matrix-vector product of the exact scan (bounded temporaries)


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


def _float16_table() -> np.ndarray:
    table = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    table.flags.writeable = False
    return table


# Every float16 bit pattern's float32 value: a table look-up (np.take) is about twice as fast as
# numpy's float16 cast on CPUs where that cast is not vectorised, and gives the same numbers.
FLOAT16_TABLE = _float16_table()


def to_float32(block: np.ndarray) -> np.ndarray:
    """``block`` as float32 (float16 through :data:`FLOAT16_TABLE`)."""
    block = np.asarray(block)
    if block.dtype == np.float16:
        return np.take(FLOAT16_TABLE, np.ascontiguousarray(block).view(np.uint16))
    return np.asarray(block, dtype=np.float32)


def _chunk(data: np.ndarray, start: int, stop: int) -> np.ndarray:
    return to_float32(data[start:stop])


def exact_max() -> int:
    """The most states answered by the exact scan (``RNNX_NEIGHBORS_EXACT_MAX``)."""
    from model import config

    return max(int(config.env_number("RNNX_NEIGHBORS_EXACT_MAX", EXACT_MAX_STATES)), 1)


def needs_index(n_states: int, units: int) -> bool:
    """Whether a set of ``n_states`` x ``units`` states gets the IVF index (else the exact scan)."""
    return n_states > exact_max() or n_states * units > EXACT_MAX_VALUES


def exclude_bounds(exclude: slice | None, n: int) -> tuple[int, int]:
    if exclude is None:
        return 0, 0
    start, stop, _step = exclude.indices(n)
    return start, max(start, stop)


def query_bounds(
    vector: np.ndarray, k: int, exclude: slice | None, n: int
) -> tuple[np.ndarray, int, int, int]:
    """A query's float32 vector, the excluded rows ``lo:hi`` and ``k`` clamped to what is left."""
    lo, hi = exclude_bounds(exclude, n)
    return np.asarray(vector, dtype=np.float32).reshape(-1), lo, hi, max(0, min(int(k), n - (hi - lo)))


def finish(data: np.ndarray, vector: np.ndarray, rows: np.ndarray, k: int) -> Neighbors:
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
        # Large memory-mapped float16 states stay on disk (shared by the OS page cache between
        # workers); a small set is scanned from a float32 copy (no cast per query).
        self.data = _as_states(data, keep_float16=True)
        small = self.data.size <= COPY_MAX_VALUES
        self.scan = np.ascontiguousarray(self.data, dtype=np.float32) if small else self.data
        self.sq_norms = np.empty(len(self.data), dtype=np.float32)
        for start in range(0, len(self.data), CHUNK_ROWS):
            part = _chunk(self.scan, start, start + CHUNK_ROWS)
            self.sq_norms[start : start + len(part)] = np.einsum("ij,ij->i", part, part)

    @property
    def n(self) -> int:
        return len(self.data)

    def query(self, vector: np.ndarray, k: int, exclude: slice | None = None) -> Neighbors:
        """The ``k`` states nearest to ``vector``, leaving out the rows of ``exclude``."""
        vector, lo, hi, k = query_bounds(vector, k, exclude, self.n)
        if k == 0:
            return Neighbors(np.zeros(0, np.int64), np.zeros(0))
        # float32 squared distances by |x|^2 - 2 x.q can swap near-ties: keep a margin of extra
        # candidates and rank them again with exact differences.
        want = min(self.n, 2 * k + 16)
        candidates, scores = [], []
        for start in range(0, self.n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, self.n)
            d2 = self.sq_norms[start:stop] - 2.0 * (_chunk(self.scan, start, stop) @ vector)
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
        return finish(self.data, vector, rows, k)


def brute_force(data: np.ndarray, vector: np.ndarray, k: int, exclude: slice | None = None) -> Neighbors:
    """The reference answer in float64, one pass, no index (for tests and checks)."""
    data = np.asarray(data, dtype=np.float64)
    dist = np.sqrt(((data - np.asarray(vector, dtype=np.float64).reshape(1, -1)) ** 2).sum(axis=1))
    lo, hi = exclude_bounds(exclude, len(data))
    dist[lo:hi] = np.inf
    rows = np.arange(len(data))
    order = np.lexsort((rows, dist))
    order = order[np.isfinite(dist[order])][:k]
    return Neighbors(rows=rows[order].astype(np.int64), distances=dist[order])
