"""Nearest neighbours of a selected hidden state: the index per dataset, cached, and checked inputs.

The index is built once per dataset and process from the prepared hidden states
(``services.analysis.states``: the pipeline's, uploads included for their owner) and kept
in the per-process cache (``model.memo``).
Up to ``RNNX_NEIGHBORS_EXACT_MAX`` states (default 3,000,000: the whole IMDB test split) it is the
exact scan of :mod:`model.neighbors` over the memory-mapped float16 states: built in one pass, it
needs no copy in memory or on disk.
Above, the pynndescent graph is built once, in a background thread of the first worker
that needs it, into the disk cache (the uploads cache for an upload; keyed by the states'
fingerprint and the index's parameters); the exact scan answers until it is there.
Nothing here imports Dash, components or pages.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from model import cache, config, memo
from model import neighbors as core
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import datasets as upload_datasets
from services import schemas
from services.validation import Custom, Flag, InvalidInput, ListOf, Number, Schema

LOG = logging.getLogger(__name__)
DEFAULT_K = 10
MAX_K = 50
K_OPTIONS = (5, 10, 20, 50)

NEIGHBOR_COUNT = Number("Number of neighbours", 1, MAX_K, integer=True, default=DEFAULT_K)
OTHER_ONLY = Flag("Other sequences only")
SHOW_NEIGHBORS = Schema(
    "show_neighbors",
    {
        "selection": schemas.SELECTION,
        "k": NEIGHBOR_COUNT,
        "other_only": OTHER_ONLY,
        "dataset": schemas.DATASET_ID,
        "method": schemas.METHOD,
    },
)


def _picked(value: object) -> dict | None:
    """A clicked neighbour's id ``{"type", "seq", "step"}`` (bounds checked later), or None."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"type", "seq", "step"}:
        raise InvalidInput("The clicked neighbour is malformed.")
    return {"seq": schemas.SEQUENCE.clean(value["seq"]), "step": schemas.STEP.clean(value["step"])}


PICK_NEIGHBOR = Schema(
    "pick_neighbor",
    {
        "picked": Custom("Neighbour", _picked),
        "clicks": ListOf("Clicks", schemas.CLICKS, max_items=MAX_K),
        "dataset": schemas.DATASET_ID,
    },
)


@dataclass(frozen=True)
class NeighborList:
    """The neighbours of one state: rows into the per-state arrays, nearest first."""

    dataset: str
    seq: int  # the query state's sequence and step
    step: int
    row: int
    rows: np.ndarray  # (k,) int64
    seqs: np.ndarray  # (k,) int64
    steps: np.ndarray  # (k,) int64
    distances: np.ndarray  # (k,) float64, Euclidean in the full hidden space
    units: int  # the hidden space's dimension
    kind: str  # "exact" or "pynndescent"
    seconds: float  # time of the query itself


def exact_max() -> int:
    """The most states answered by the exact scan (``RNNX_NEIGHBORS_EXACT_MAX``)."""
    return max(int(config.env_number("RNNX_NEIGHBORS_EXACT_MAX", core.EXACT_MAX_STATES)), 1)


def _fingerprint(hidden: np.ndarray) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(hidden.shape).encode())
    digest.update(np.ascontiguousarray(hidden, dtype=np.float32).data)
    return digest.hexdigest()


def _exact_index(pipeline: str, dataset: str, n_states: int) -> core.ExactIndex:
    """The exact index of a prepared dataset's states, kept in the process cache (``model.memo``)."""
    return memo.remember(
        "neighbors-exact", (pipeline, dataset, n_states), lambda: _build_exact(dataset, n_states)
    )


def _build_exact(dataset: str, n_states: int) -> core.ExactIndex:
    states = analysis_service.states(dataset)
    if not states or states.get("hidden") is None:
        raise LookupError("The hidden states of this dataset are not prepared yet.")
    hidden = np.asarray(states["hidden"])
    if hidden.ndim != 2 or len(hidden) != n_states:
        raise LookupError("The stored hidden states do not match the analysis: prepare the dataset again.")
    return core.ExactIndex(hidden)


def _approx_key(pipeline: str, dataset: str, n_states: int) -> str:
    """The disk-cache key of the graph index: the states' fingerprint and the index's parameters."""
    return memo.remember(
        "neighbors-key", (pipeline, dataset, n_states), lambda: _fingerprint(pipeline, dataset, n_states)
    )


def _fingerprint(pipeline: str, dataset: str, n_states: int) -> str:
    import pynndescent

    hidden = _exact_index(pipeline, dataset, n_states).data
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(hidden.shape).encode())
    digest.update(hidden.data)
    prefix = f"{cache.UPLOAD_PREFIX}-" if upload_datasets.parse(dataset).is_upload else ""
    return cache.make_key(
        f"{prefix}neighbors-index",
        dataset=dataset,
        states=digest.hexdigest(),
        degree=core.GRAPH_NEIGHBORS,
        library=getattr(pynndescent, "__version__", "?"),
    )


def _approx_index(key: str) -> core.ApproxIndex:
    """The graph index from the disk cache; LookupError while it is not built (never remembered)."""

    def read() -> core.ApproxIndex | None:
        index = cache.get(key)
        if not isinstance(index, core.ApproxIndex):
            return None
        memo.forget("neighbors-exact")  # the graph holds the states: drop the scan's copy
        return index

    index = memo.remember("neighbors-graph", key, read)
    if index is None:
        raise LookupError(key)
    return index


def _build(key: str, hidden: np.ndarray) -> None:
    try:
        cache.memoize(key, lambda: core.ApproxIndex(hidden), lock_seconds=6 * 3600)
    except Exception:  # noqa: BLE001 - a background build: the exact scan keeps answering
        LOG.exception("Building the nearest-neighbour index failed")


def _start_build(key: str, hidden: np.ndarray) -> None:
    """Build the graph index in a background thread unless one is running (or the cache is read-only)."""
    if cache.read_only():
        return
    try:
        if cache.store_for(key).get(f"lock:{key}") is not None:
            return  # a worker is building it
    except Exception:  # noqa: BLE001 - no cache, no background build
        return
    threading.Thread(target=_build, args=(key, hidden), name="rnnx-neighbors-index", daemon=True).start()


def index_for(dataset: str, analysis: Analysis) -> core.ExactIndex | core.ApproxIndex:
    """The cached index of ``dataset``'s hidden states; LookupError with a message if missing.

    Above ``exact_max()`` states the graph index answers once built; until then (it is built once,
    in the background, into the disk cache) the exact scan answers, slower but exact."""
    pipeline = analysis_service.prepare_module().__name__
    n = analysis.n_states
    if n > exact_max():
        key = _approx_key(pipeline, dataset, n)
        try:
            return _approx_index(key)
        except LookupError:
            _start_build(key, _exact_index(pipeline, dataset, n).data)
    return _exact_index(pipeline, dataset, n)


def clear_caches() -> None:
    """Forget the per-process indexes (tests swap the pipeline module)."""
    memo.forget("neighbors-exact")
    memo.forget("neighbors-key")
    memo.forget("neighbors-graph")


def query_state(analysis: Analysis, seq: int, step: int | None) -> tuple[int, int]:
    """(step, row) of a state of ``analysis``; the last step when ``step`` is None; InvalidInput if out of range."""
    if not 0 <= seq < analysis.n_sequences:
        raise InvalidInput(f"There is no sequence {seq} (the set has {analysis.n_sequences:,}).")
    length = int(analysis.offsets[seq + 1] - analysis.offsets[seq])
    if length == 0:
        raise InvalidInput(f"Sequence {seq} has no states.")
    step = length - 1 if step is None else step
    if not 0 <= step < length:
        raise InvalidInput(f"Sequence {seq} has {length} steps; there is no step {step}.")
    return step, int(analysis.offsets[seq]) + step


def neighbors_of(
    dataset: str, analysis: Analysis, seq: int, step: int | None, k: int, other_only: bool = False
) -> NeighborList:
    """The ``k`` states nearest to ``(seq, step)`` in the hidden space (never the state itself).

    ``other_only`` leaves out every state of the same sequence. InvalidInput for a state or
    ``k`` out of range, LookupError when the hidden states are not available."""
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"The number of neighbours must be between 1 and {MAX_K}.")
    step, row = query_state(analysis, seq, step)
    index = index_for(dataset, analysis)
    exclude = analysis.rows(seq) if other_only else slice(row, row + 1)
    start = time.perf_counter()
    found = index.query(index.data[row], k, exclude)
    seconds = time.perf_counter() - start
    seqs = np.searchsorted(analysis.offsets, found.rows, side="right") - 1
    return NeighborList(
        dataset=dataset,
        seq=seq,
        step=step,
        row=row,
        rows=found.rows,
        seqs=seqs.astype(np.int64),
        steps=(found.rows - np.asarray(analysis.offsets)[seqs]).astype(np.int64),
        distances=found.distances,
        units=int(index.data.shape[1]),
        kind=index.kind,
        seconds=seconds,
    )
