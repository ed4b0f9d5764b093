"""Nearest neighbours of a selected hidden state: the index per dataset, cached, and checked inputs.

The index is read once per dataset and process from the prepared hidden states
(``services.analysis.states``: the pipeline's, uploads included for their owner) and kept
in the per-process cache (``model.memo``).
Up to ``RNNX_NEIGHBORS_EXACT_MAX`` states (default 200,000) it is the exact scan of
:mod:`model.neighbors`; above, the IVF index of :mod:`model.neighbors_ivf`, built by the preparation
beside the states and memory-mapped (shared by every worker). A cache prepared before that index
existed gets it built in the server's job queue, in a subprocess; the card says so meanwhile.
Nothing here imports Dash, components or pages.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from model import cache, memo
from model import neighbors as core
from model.artifacts import Analysis
from model.neighbors_ivf import IvfIndex
from services import analysis as analysis_service
from services import schemas
from services.validation import Custom, Flag, InvalidInput, ListOf, Number, Schema

LOG = logging.getLogger(__name__)
DEFAULT_K = 10
MAX_K = 50
K_OPTIONS = (5, 10, 20, 50)
BUILD_OWNER = "neighbors-index"  # whose jobs the background index builds are in the queue
BUILDING = (
    "The nearest-neighbour index of this dataset is being built (about a minute, once; it was "
    "prepared before indexes existed). Select the state again shortly."
)
Index = core.ExactIndex | IvfIndex

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
    kind: str  # "exact" or "ivf"
    seconds: float  # time of the query itself


def exact_max() -> int:
    """The most states answered by the exact scan (``RNNX_NEIGHBORS_EXACT_MAX``)."""
    return core.exact_max()


def _hidden(dataset: str, n_states: int) -> np.ndarray:
    states = analysis_service.states(dataset)
    if not states or states.get("hidden") is None:
        raise LookupError("The hidden states of this dataset are not prepared yet.")
    hidden = states["hidden"]
    if hidden.ndim != 2 or len(hidden) != n_states:
        raise LookupError("The stored hidden states do not match the analysis: prepare the dataset again.")
    return hidden


def _stored(dataset: str, n_states: int) -> Index | None:
    """The index to answer with, read or built in this process; None while a needed IVF index is missing."""
    hidden = _hidden(dataset, n_states)
    if not core.needs_index(*hidden.shape):
        return core.ExactIndex(hidden)
    loader = getattr(analysis_service.prepare_module(), "load_neighbor_index", None)
    try:
        return None if loader is None else loader(dataset)
    except ValueError as error:
        raise LookupError(f"{error} Prepare the dataset again.") from None


def _exact_fallback(dataset: str, n_states: int) -> core.ExactIndex:
    return core.ExactIndex(_hidden(dataset, n_states))


def index_for(dataset: str, analysis: Analysis) -> Index:
    """The index of ``dataset``'s hidden states, kept in this process's cache; LookupError with a message.

    Up to ``exact_max()`` states the exact scan; above, the IVF index built at preparation. A cache
    prepared before the index existed gets it built once, in the server's job queue (a subprocess),
    and says so meanwhile; where it cannot be built (a read-only cache, a pipeline without indexes)
    the exact scan answers, slower."""
    prepare = analysis_service.prepare_module()
    slot = (prepare.__name__, dataset, analysis.n_states)
    index = memo.remember("neighbors", slot, lambda: _stored(dataset, analysis.n_states))
    if index is not None:
        return index
    if cache.read_only() or not hasattr(prepare, "run_neighbor_index_subprocess"):
        return memo.remember("neighbors-exact", slot, lambda: _exact_fallback(dataset, analysis.n_states))
    _request_build(dataset)
    raise LookupError(BUILDING)


def _request_build(dataset: str) -> None:
    """Start the background build of ``dataset``'s index unless this process already waits on one."""
    name = f"rnnx-neighbors-index:{dataset}"
    if any(thread.name == name for thread in threading.enumerate()):
        return
    threading.Thread(target=_build_queued, args=(dataset,), name=name, daemon=True).start()


def _build_queued(dataset: str) -> None:
    """One of the server's heavy jobs: ``python -m model.neighbors_build``; another worker's build is joined."""
    from serving import jobqueue

    try:
        with jobqueue.building(f"neighbors-index|{dataset}") as waited:
            if waited:
                return  # built by another worker meanwhile: the next query reads it
            with jobqueue.slot(BUILD_OWNER, "neighbors"):
                analysis_service.prepare_module().run_neighbor_index_subprocess(dataset)
    except Exception:  # noqa: BLE001 - a background build: logged, asked again by the next query
        LOG.exception("Building the nearest-neighbour index of %s failed", dataset)


def clear_caches() -> None:
    """Forget the per-process indexes (tests swap the pipeline module)."""
    memo.forget("neighbors")
    memo.forget("neighbors-exact")


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
