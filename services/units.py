"""The hidden-units view's data: states cached per dataset, checked queries, on-units and the match search.

States come from :func:`services.analysis.states` (built-in datasets and uploads alike; an
upload only for the session that owns it). Every value from the browser is checked here against
the schemas below and the loaded data; a wrong one raises :class:`InvalidInput` with a message.
Nothing here imports Dash, components or pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model import memo
from model import units as core
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import registry, schemas
from services.validation import Anything, Choice, Custom, InvalidInput, Number, Schema

KINDS = ("hidden", "cell")
KIND_LABELS = {"hidden": "hidden state h", "cell": "cell state c"}
SORT_LABELS = {"selected": "on-units first", "activation": "mean activation", "index": "unit number"}
MATCH_LIMIT = 25
MAX_STEP = 100_000


def _span(value: Any) -> tuple[int, int] | None:
    """``[start, end]`` of a span of steps, two whole numbers with start <= end (None: no span)."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidInput("The span must be two steps: where it starts and where it ends.")
    step = Number("Span step", 0, MAX_STEP, integer=True)
    lo, hi = step.clean(value[0]), step.clean(value[1])
    if lo is None or hi is None:
        raise InvalidInput("The span must be two steps: where it starts and where it ends.")
    return (min(lo, hi), max(lo, hi))


def _match_id(value: Any) -> dict | None:
    """The id of a clicked match: ``{"type", "seq", "start", "end"}``, whole numbers in bounds."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"type", "seq", "start", "end"}:
        raise InvalidInput("The clicked match is malformed.")
    lo, hi = _span([value["start"], value["end"]]) or (0, 0)
    return {"seq": schemas.SEQUENCE.clean(value["seq"]), "start": lo, "end": hi}


def _pending(value: Any) -> dict | None:
    """The span a clicked match asks the next selection to show: ``{"dataset", "seq", "span"}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"dataset", "seq", "span"}:
        raise InvalidInput("The pending match is malformed.")
    return {
        "dataset": schemas.DATASET.clean(value["dataset"]),
        "seq": schemas.SEQUENCE.clean(value["seq"]),
        "span": _span(value["span"]),
    }


KIND = Choice("State", KINDS, default="hidden")
SORT = Choice("Unit order", tuple(SORT_LABELS), default="selected")
SPAN = Custom("Span", _span)
THRESHOLD = Number("Threshold", 0.0, 1_000.0)
CLICK = Anything("Click", max_chars=20_000)

SHOW_UNITS = Schema(
    "show_units",
    {
        "selection": schemas.SELECTION,
        "span": SPAN,
        "threshold": THRESHOLD,
        "kind": KIND,
        "sort": SORT,
        "dataset": schemas.DATASET_ID,
        "drawn": schemas.EVENT,
    },
)
FIND_MATCHES = Schema(
    "find_unit_matches",
    {
        "selection": schemas.SELECTION,
        "span": SPAN,
        "threshold": THRESHOLD,
        "kind": KIND,
        "dataset": schemas.DATASET_ID,
    },
)
SET_SPAN = Schema(
    "set_unit_span",
    {
        "selection": schemas.SELECTION,
        "click": CLICK,
        "span": SPAN,
        "pending": Custom("Pending match", _pending),
        "dataset": schemas.DATASET_ID,
        "kind": KIND,
    },
)
SET_SCALE = Schema("set_unit_scale", {"dataset": schemas.DATASET_ID, "kind": KIND})
PICK_MATCH = Schema("pick_unit_match", {"picked": Custom("Match", _match_id), "dataset": schemas.DATASET_ID})


# ---------------------------------------------------------------- cached data


@dataclass(frozen=True)
class UnitStates:
    """A dataset's per-state values by kind (``cell`` is None for cells without one) and their scales."""

    arrays: dict[str, np.ndarray]
    scales: dict[str, float]  # the threshold slider's maximum per kind
    defaults: dict[str, float]  # its first value per kind

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if k in self.arrays)

    @property
    def n_units(self) -> int:
        return int(self.arrays["hidden"].shape[1])


def _load_states(dataset: str) -> UnitStates:
    """The states of a prepared dataset (kept in the process cache); NotReady when there are none."""
    found = memo.remember(
        "unit-states", (registry.current().pipeline, dataset), lambda: _read_states(dataset)
    )
    if found is None:
        raise analysis_service.NotReady(dataset)
    return found


def _read_states(dataset: str) -> UnitStates | None:
    raw = analysis_service.states(dataset)
    if not raw or raw.get("hidden") is None:
        return None
    # As stored (float16 and memory-mapped from the disk cache): no copy per worker process.
    arrays = {
        kind: np.asarray(raw[kind]) for kind in KINDS if raw.get(kind) is not None and np.ndim(raw[kind]) == 2
    }
    return UnitStates(
        arrays,
        {kind: core.value_scale(a) for kind, a in arrays.items()},
        {kind: core.typical_threshold(a) for kind, a in arrays.items()},
    )


def clear_caches() -> None:
    """Forget the cached states and searches (tests swap the pipeline module)."""
    memo.forget("unit-states")
    memo.forget("unit-matches")


def data(dataset: str | None) -> tuple[Analysis, UnitStates] | None:
    """(analysis, states) of a prepared dataset; None when not prepared or not this session's upload."""
    if not analysis_service.readable(dataset):
        return None
    try:
        analysis, _dmax = analysis_service.load_analysis(dataset, None)
        states = _load_states(dataset)
    except analysis_service.NotReady:
        return None
    if states.arrays["hidden"].shape[0] != analysis.n_states:
        return None
    return analysis, states


# ---------------------------------------------------------------- checked queries


@dataclass(frozen=True)
class Query:
    """A checked request: sequence ``seq``'s ``kind`` states, a span (inclusive) and a threshold."""

    seq: int
    kind: str
    start: int
    end: int
    threshold: float

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def check_query(
    analysis: Analysis,
    states: UnitStates,
    seq: int,
    kind: str,
    span: tuple[int, int] | None,
    threshold: float,
) -> Query:
    """The query if it fits the data; InvalidInput with a message otherwise."""
    if not 0 <= seq < analysis.n_sequences:
        raise InvalidInput(f"Sequence #{seq} does not exist ({analysis.n_sequences:,} sequences).")
    if kind not in states.arrays:
        raise InvalidInput("This model's cell has no separate cell state: showing the hidden state only.")
    n_steps = int(analysis.offsets[seq + 1] - analysis.offsets[seq])
    if n_steps == 0:
        raise InvalidInput(f"Sequence #{seq} has no known word, so no hidden state.")
    start, end = span if span is not None else (0, 0)
    if end >= n_steps:
        raise InvalidInput(f"The span {start}–{end} is outside sequence #{seq} (steps 0–{n_steps - 1}).")
    if threshold is None:
        threshold = states.defaults[kind]
    if threshold > states.scales[kind] * 10:
        raise InvalidInput(f"The threshold must be at most {states.scales[kind] * 10:g} for this state.")
    return Query(seq, kind, start, end, float(threshold))


def matrix(analysis: Analysis, states: UnitStates, query: Query) -> np.ndarray:
    """(steps, units) values of the query's sequence."""
    return core.sequence_matrix(states.arrays[query.kind], analysis.offsets, query.seq)


def on_units(analysis: Analysis, states: UnitStates, query: Query) -> np.ndarray:
    """The units above the threshold at every step of the span."""
    return core.on_units(matrix(analysis, states, query), query.start, query.end, query.threshold)


def _search(dataset: str, kind: str, units: tuple[int, ...], threshold: float, query: tuple) -> core.Matches:
    key = (registry.current().pipeline, dataset, kind, units, threshold, query)
    return memo.remember("unit-matches", key, lambda: _find(dataset, kind, units, threshold, query))


def _find(dataset: str, kind: str, units: tuple[int, ...], threshold: float, query: tuple) -> core.Matches:
    analysis, states = data(dataset) or (None, None)
    if analysis is None:
        return core.empty_matches()
    seq, start, end = query
    return core.find_matches(
        states.arrays[kind],
        analysis.offsets,
        np.asarray(units, dtype=np.int64),
        threshold,
        end - start + 1,
        exclude=(seq, start, end),
        limit=MATCH_LIMIT,
    )


def search(dataset: str, query: Query, units: np.ndarray) -> core.Matches:
    """Other spans of the dataset where ``units`` are all on, best first (cached per query)."""
    return _search(
        dataset,
        query.kind,
        tuple(int(u) for u in units),
        query.threshold,
        (query.seq, query.start, query.end),
    )


def default_span(analysis: Analysis, seq: int, step: int | None) -> tuple[int, int]:
    """A first span for a new selection: the selected step, else the sequence's largest jump, 3 words."""
    rows = analysis.rows(seq)
    n_steps = rows.stop - rows.start
    if n_steps <= 0:
        return (0, 0)
    if step is not None and 0 <= step < n_steps:
        return (step, step)
    start = int(np.argmax(analysis.distance[rows])) if n_steps > 1 else 0
    start = min(start, max(n_steps - 3, 0))
    return (start, min(start + 2, n_steps - 1))


SPAN_WORDS = 3  # a first span's length when no step is selected


def default_view(
    analysis: Analysis, states: UnitStates, kind: str, seq: int, step: int | None
) -> tuple[tuple[int, int], float]:
    """A new selection's first span and threshold, chosen so that some unit is on and searched for.

    The span is the selected step, else three words from the sequence's largest jump (the nearest
    three words where a unit stays on, when none does there); the threshold is the dataset's default
    for ``kind`` (:attr:`UnitStates.defaults`), lowered only where no unit would be on at it (a
    sequence whose states all stay small) to leave a few on.
    """
    kind = kind if kind in states.arrays else "hidden"
    start, end = default_span(analysis, seq, step)
    values = core.sequence_matrix(states.arrays[kind], analysis.offsets, seq)
    if len(values) == 0:
        return (start, end), states.defaults[kind]
    if step is not None and start == end:
        lo, hi, threshold = core.first_view(values[start : start + 1], 0, 1, states.defaults[kind])
    else:
        lo, hi, threshold = core.first_view(values, start, SPAN_WORDS, states.defaults[kind])
        start, end = lo, hi
    return (start, end), _checked_threshold(values, start, end, threshold)


def threshold_for(
    analysis: Analysis, states: UnitStates, kind: str, seq: int, span: tuple[int, int]
) -> float:
    """The default threshold of ``kind`` for ``span`` of sequence ``seq``, lowered if no unit is on at it."""
    values = core.sequence_matrix(states.arrays[kind], analysis.offsets, seq)
    start, end = span
    if not 0 <= start <= end < len(values):
        return states.defaults[kind]
    _lo, _hi, threshold = core.first_view(values[start : end + 1], 0, end - start + 1, states.defaults[kind])
    return _checked_threshold(values, start, end, threshold)


def _checked_threshold(values: np.ndarray, start: int, end: int, threshold: float) -> float:
    """``threshold``, a hundredth lower while the stored values (float16 compared as stored) leave no unit on."""
    for _ in range(3):
        if threshold <= 0 or len(core.on_units(values, start, end, threshold)):
            break
        threshold = round(max(threshold - 0.01, 0.0), 2)
    return float(threshold)


def extend_span(span: tuple[int, int] | None, step: int, n_steps: int) -> tuple[int, int]:
    """A click on step ``step``: extends a one-word span to it, otherwise starts a new one-word span."""
    if not 0 <= step < n_steps:
        raise InvalidInput(f"Step {step} is outside the sequence (steps 0–{n_steps - 1}).")
    if span is not None and span[0] == span[1] and span[0] < n_steps and span[0] != step:
        return (min(span[0], step), max(span[0], step))
    return (step, step)


def unit_order(
    values: np.ndarray, sort: str, span: tuple[int, int] | None = None, selected: np.ndarray | None = None
) -> np.ndarray:
    """Units of a (steps, units) ``values`` matrix (:func:`matrix`) in display order, for the ``sort`` of ``SORT_LABELS``.

    ``index``: by number; ``activation``: by mean value over the sequence, highest first;
    ``selected``: the ``selected`` units (e.g. :func:`on_units`) first, then by mean value over ``span``."""
    return core.unit_order(values, sort, span, selected)
