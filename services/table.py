"""The sequence table on the server: filters, sort and blocks of rows over tens of thousands of sequences.

One function, :func:`select`, turns the table's whole filter state (a confusion-matrix cell,
a lasso or box on the projection, the text search, the table's own ``filter_query``) into the
indices of the sequences left; the table card sends them a block of rows at a time (the grid's
infinite row model, :mod:`services.table_grid`) and the slice-metrics card scores them, so both
see the same slice. Per analysis, the columns are laid out once as numpy arrays
(and the texts lowercased once) in the per-process cache (:mod:`model.memo`).
"""

from __future__ import annotations

import math
import operator
import re
import weakref
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from model import geometry, memo
from model.artifacts import Analysis
from services.validation import InvalidInput

COLUMNS = {
    "id": "numeric",
    "length": "numeric",
    "actual": "text",
    "predicted": "text",
    "confidence": "numeric",
    "correct": "text",
    "text": "text",
}
MAX_SORT = 8
MAX_QUERY = 2_000
MAX_VERTICES = 5_000
OPERATORS = {
    "contains": "contains",
    "=": "=",
    "eq": "=",
    "!=": "!=",
    "ne": "!=",
    "<": "<",
    "lt": "<",
    "<=": "<=",
    "le": "<=",
    ">": ">",
    "gt": ">",
    ">=": ">=",
    "ge": ">=",
}
COMPARISONS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_CLAUSE = re.compile(r"\s*\{([^{}]{1,40})\}\s*([is]?(?:[<>!]=?|=)|[a-z]+)\s*", re.IGNORECASE)
_QUOTED = re.compile(r"""(["'`])((?:\\.|(?!\1).)*)\1""", re.DOTALL)
_AND = re.compile(r"\s*&&\s*")
_SEP = "\x00"  # between the texts of a search blob; never part of a needle


class QueryError(InvalidInput):
    """A table filter the parser does not understand; ``str(error)`` says which part and why."""


@dataclass(frozen=True)
class Clause:
    """One ``{column} op value`` part of a table filter (numbers already parsed for numeric columns)."""

    column: str
    op: str
    value: str | float


@dataclass
class Selection:
    """The sequences left after every filter, what each filter did (for the label), and any notice."""

    indices: np.ndarray
    parts: list[str] = field(default_factory=list)
    notice: str | None = None


# ---------------------------------------------------------------- the filter query language


def _number(text: str, column: str) -> float:
    raw = text.strip()
    scale = 0.01 if raw.endswith("%") else 1.0
    try:
        value = float(raw.rstrip("%")) * scale
    except ValueError:
        raise QueryError(f"“{column}” holds numbers; “{text[:40]}” is not one.") from None
    if not math.isfinite(value):
        raise QueryError(f"“{column}” needs a finite number.")
    return value


def _value(rest: str) -> tuple[str, str]:
    """(the value at the start of ``rest``, what follows it): quoted, or bare up to the next ``&&``."""
    quoted = _QUOTED.match(rest)
    if quoted:
        return re.sub(r"\\(.)", r"\1", quoted.group(2)), rest[quoted.end() :]
    joint = _AND.search(rest)
    end = joint.start() if joint else len(rest)
    return rest[:end].strip(), rest[end:]


def parse_filter(query: str | None) -> tuple[Clause, ...]:
    """The clauses of a table filter query (``{col} op value`` parts joined by ``&&``; the grid's
    column filters arrive in this form, :func:`services.table_grid.check_filter_model`).

    QueryError with a readable message on a part it does not understand.
    """
    rest = (query or "").strip()
    if len(rest) > MAX_QUERY:
        raise QueryError(f"The column filter is longer than {MAX_QUERY:,} characters.")
    clauses: list[Clause] = []
    while rest:
        head = _CLAUSE.match(rest)
        if not head:
            raise QueryError(
                f"Could not read the column filter at “{rest[:40]}”: expected {{column}} op value."
            )
        column, op = head.group(1).strip(), head.group(2).lower()
        if column not in COLUMNS:
            raise QueryError(f"There is no column “{column}” to filter.")
        op = OPERATORS.get(op[1:] if op[0] in ("i", "s") and op[1:] in OPERATORS else op)
        if op is None:
            raise QueryError(f"The filter operator “{head.group(2)}” is not supported here.")
        value, rest = _value(rest[head.end() :])
        if value == "":
            raise QueryError(f"The filter on “{column}” has no value.")
        if COLUMNS[column] == "numeric" and op != "contains":
            clauses.append(Clause(column, op, _number(value, column)))
        else:
            clauses.append(Clause(column, op, value.lower()))
        joint = _AND.match(rest)
        if rest.strip() and not joint:
            raise QueryError(f"Filter parts must be joined by &&; found “{rest.strip()[:40]}”.")
        rest = rest[joint.end() :] if joint else ""
        if joint and not rest:
            raise QueryError("The column filter ends with && and nothing after it.")
    return tuple(clauses)


# ---------------------------------------------------------------- the columns of one analysis


@dataclass(frozen=True)
class Frame:
    """The table's columns of one analysis as arrays, with lowercased texts for search and filters."""

    source: weakref.ref
    length: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    names: np.ndarray  # lowercased class names (object array)
    name_rank: np.ndarray  # alphabetical rank of each class name
    texts: tuple[str, list[int]]  # the raw texts, lowercased and joined: (blob, start of each)
    shown: tuple[str, list[int]]  # the analysed texts (the table's column), likewise
    shown_lower: np.ndarray  # object array of the lowercased analysed texts
    shown_rank: np.ndarray  # their alphabetical rank

    @property
    def n(self) -> int:
        return len(self.length)

    def numeric(self, column: str) -> np.ndarray:
        if column == "id":
            return np.arange(self.n)
        return self.length if column == "length" else self.confidence

    def strings(self, column: str) -> np.ndarray:
        """The lowercased text of a text column, one per sequence (object array)."""
        if column == "actual":
            return self.names[self.labels]
        if column == "predicted":
            return self.names[self.predicted]
        if column == "correct":
            return np.where(self.labels == self.predicted, "yes", "no").astype(object)
        return self.shown_lower

    def sort_key(self, column: str) -> np.ndarray:
        if COLUMNS[column] == "numeric":
            return self.numeric(column)
        if column in ("actual", "predicted"):
            return self.name_rank[self.labels if column == "actual" else self.predicted]
        if column == "correct":
            return (self.labels == self.predicted).astype(np.int64)  # "no" before "yes"
        return self.shown_rank


def _blob(texts: list[str]) -> tuple[str, list[int]]:
    lowered = [str(t).lower().replace(_SEP, " ") for t in texts]
    starts = np.concatenate([[0], np.cumsum([len(t) + 1 for t in lowered])[:-1]]).astype(int).tolist()
    return _SEP.join(lowered), starts


def _rank(values: np.ndarray) -> np.ndarray:
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(len(values))
    return rank


def frame(analysis: Analysis, shown: Callable[[Analysis], list[str]]) -> Frame:
    """The table columns of ``analysis`` (built once per analysis; ``shown`` gives the text column)."""

    def build() -> Frame:
        shown_texts = list(shown(analysis))
        names = np.array([str(n).lower() for n in analysis.class_names], dtype=object)
        shown_lower = np.empty(len(shown_texts), dtype=object)
        shown_lower[:] = [t.lower() for t in shown_texts]
        return Frame(
            source=weakref.ref(analysis),
            length=np.diff(np.asarray(analysis.offsets)).astype(np.int64),
            labels=np.asarray(analysis.labels, dtype=np.int64),
            predicted=np.asarray(analysis.predicted, dtype=np.int64),
            confidence=np.asarray(analysis.confidence, dtype=np.float64),
            names=names,
            name_rank=_rank(names),
            texts=_blob(list(analysis.texts)),
            shown=_blob(shown_texts),
            shown_lower=shown_lower,
            shown_rank=_rank(shown_lower),
        )

    key = (analysis.dataset, analysis.n_sequences, analysis.n_states, id(analysis))
    found = memo.remember("table", key, build)
    if found.source() is not analysis:  # an analysis read again reused a dead one's id
        memo.forget("table")
        found = memo.remember("table", key, build)
    return found


# ---------------------------------------------------------------- filters


def contains(blob: tuple[str, list[int]], needle: str) -> np.ndarray:
    """Mask of the texts of ``blob`` containing ``needle`` (already lowercased): one scan of the blob."""
    text, starts = blob
    keep = np.zeros(len(starts), dtype=bool)
    needle = needle.replace(_SEP, "")
    if not needle:
        return ~keep
    pos = text.find(needle)
    while pos >= 0:
        k = bisect_right(starts, pos) - 1
        keep[k] = True
        if k + 1 >= len(starts):
            break
        pos = text.find(needle, starts[k + 1])
    return keep


def _compare(values: np.ndarray, op: str, value: object) -> np.ndarray:
    return COMPARISONS[op](values, value)


def clause_mask(data: Frame, clause: Clause) -> np.ndarray:
    """Mask of the sequences passing one clause (numbers numerically, text case-insensitively)."""
    column, op, value = clause.column, clause.op, clause.value
    if COLUMNS[column] == "numeric":
        values = data.numeric(column)
        if op == "contains":
            shown = np.round(values, 3) if column == "confidence" else values
            return np.char.find(shown.astype(str), str(value)) >= 0
        return _compare(values, op, value)
    if column == "text" and op == "contains":
        return contains(data.shown, str(value))
    strings = data.strings(column)
    if op == "contains":
        return np.fromiter((str(value) in s for s in strings), dtype=bool, count=len(strings))
    return np.asarray(_compare(strings, op, str(value)), dtype=bool)


def lasso_sequences(analysis: Analysis, xy: np.ndarray, shape: dict, final_only: bool) -> np.ndarray:
    """Mask of the sequences owning a drawn state inside ``shape`` (``{"lasso"|"box": {"x", "y"}}``)."""
    drawn = np.asarray(analysis.offsets[1:], dtype=np.int64) - 1 if final_only else None
    points = xy[drawn] if drawn is not None else xy
    kind, outline = next(iter(shape.items()))
    x, y = points[:, 0], points[:, 1]
    if kind == "box":
        inside = geometry.in_box(x, y, tuple(outline["x"]), tuple(outline["y"]))
    else:
        inside = geometry.in_polygon(x, y, np.asarray(outline["x"]), np.asarray(outline["y"]))
    states = np.flatnonzero(inside)
    keep = np.zeros(analysis.n_sequences, dtype=bool)
    if drawn is not None:
        keep[states] = True
    elif len(states):
        keep[np.searchsorted(analysis.offsets, states, side="right") - 1] = True
    return keep


def select(
    analysis: Analysis, xy: np.ndarray | None, query: dict, shown: Callable[[Analysis], list[str]]
) -> Selection:
    """The sequences passing every filter of ``query`` (the ``analytics-table-query`` store's fields).

    ``query``: ``actual``/``predicted`` (a confusion cell), ``shape`` and ``final_only`` (a lasso
    or box over the drawn states of ``xy``), ``search`` (raw texts), ``filter_query`` (columns).
    An unreadable ``filter_query`` is left out and explained in ``notice``.
    """
    data = frame(analysis, shown)
    names = list(analysis.class_names)
    keep = np.ones(data.n, dtype=bool)
    parts: list[str] = []
    actual, predicted = query.get("actual"), query.get("predicted")
    if actual is not None and predicted is not None:
        if not (0 <= actual < len(names) and 0 <= predicted < len(names)):
            raise InvalidInput("The confusion-matrix cell is not one of this dataset's classes.")
        keep &= (data.labels == actual) & (data.predicted == predicted)
        parts.append(f"actual {names[actual]} → predicted {names[predicted]}")
    shape = query.get("shape")
    if shape and xy is not None:
        keep &= lasso_sequences(analysis, xy, shape, bool(query.get("final_only")))
        parts.append("box selection" if "box" in shape else "lasso selection")
    search = (query.get("search") or "").strip()
    if search:
        keep &= contains(data.texts, search.lower())
        parts.append(f"“{search}”")
    notice = None
    try:
        clauses = parse_filter(query.get("filter_query"))
    except QueryError as error:
        clauses, notice = (), f"column filter left out: {error}"
    for clause in clauses:
        keep &= clause_mask(data, clause)
    if clauses:
        parts.append("column filters")
    return Selection(np.flatnonzero(keep), parts, notice)


# ---------------------------------------------------------------- sort and blocks of rows


def sort(data: Frame, indices: np.ndarray, sort_by: list[dict] | None) -> np.ndarray:
    """``indices`` ordered by ``sort_by`` (first entry first; ties by sequence index)."""
    if not sort_by:
        return indices
    keys = [indices]
    for entry in reversed(sort_by):
        key = data.sort_key(entry["column_id"])[indices]
        keys.append(-key if entry["direction"] == "desc" else key)
    return indices[np.lexsort(keys)]


def block(data: Frame, indices: np.ndarray, sort_by: list[dict] | None, start: int, end: int) -> np.ndarray:
    """The sequences at rows ``start`` to ``end`` (exclusive) of ``indices`` ordered by ``sort_by``
    (one block of the grid's infinite row model; empty past the end)."""
    if not sort_by:
        return indices[start:end]
    return sort(data, indices, sort_by)[start:end]


def label(selection: Selection, n_total: int) -> str:
    """'412 of 25,000 sequences · actual negative → predicted positive · “plot”'."""
    text = f"{len(selection.indices):,} of {n_total:,} sequences"
    parts = [*selection.parts, *([selection.notice] if selection.notice else [])]
    return text + (f" · {' · '.join(parts)}" if parts else "")


# ---------------------------------------------------------------- checks of browser values


def check_sort(value: object) -> list[dict]:
    """A stored ``sort_by`` (the table query's): at most 8 entries of a known column and asc/desc."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SORT:
        raise InvalidInput(f"The sort order must be a list of at most {MAX_SORT} columns.")
    clean = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"column_id", "direction"}:
            raise InvalidInput("A sort entry is malformed.")
        if entry["column_id"] not in COLUMNS or entry["direction"] not in ("asc", "desc"):
            raise InvalidInput("The table cannot sort by that column or direction.")
        clean.append({"column_id": entry["column_id"], "direction": entry["direction"]})
    return clean


def _vertices(values: object, what: str) -> list[float]:
    if not isinstance(values, list) or len(values) > MAX_VERTICES:
        raise InvalidInput(f"The {what} outline must be a list of at most {MAX_VERTICES:,} points.")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise InvalidInput(f"The {what} outline must hold finite numbers.")
    return [float(v) for v in values]


def check_shape(value: object) -> dict | None:
    """A lasso ``{"lasso": {"x": [...], "y": [...]}}`` or box ``{"box": {"x": [x0, x1], "y": [y0, y1]}}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("lasso", "box"):
        raise InvalidInput("The selection outline is malformed.")
    kind, outline = next(iter(value.items()))
    if not isinstance(outline, dict) or set(outline) != {"x", "y"}:
        raise InvalidInput("The selection outline is malformed.")
    x, y = _vertices(outline["x"], kind), _vertices(outline["y"], kind)
    if len(x) != len(y) or (kind == "box" and len(x) != 2):
        raise InvalidInput(f"The {kind} outline's x and y do not match.")
    return {kind: {"x": x, "y": y}}
