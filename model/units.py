"""Hidden units as in LSTMVis: which units stay on across a span, and where else in the data they do.

``states`` is an ``(n_states, units)`` array of hidden (or cell) states stored flat like every
per-state array of :class:`~model.artifacts.Analysis`: sequence ``k`` owns rows
``offsets[k]:offsets[k + 1]``. A unit is **on** at a step when its value is above the threshold
(strictly). Spans are inclusive step ranges ``[start, end]`` inside one sequence.

The match search looks at every maximal run of consecutive steps (never crossing a sequence
boundary) in which *all* selected units are on, and scores it by how well it matches the query:

    score = |U| / |O| · min(ℓ, L) / max(ℓ, L)

where ``U`` is the selected units, ``O ⊇ U`` the units on at every step of the run, ``ℓ`` the
run's length and ``L`` the query span's length: 1 for a run of the query's length in which no
other unit stays on. Pure numpy, no Dash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.artifacts import concatenated_ranges


@dataclass(frozen=True)
class Matches:
    """The runs found by :func:`find_matches`, best first (at most ``limit`` of them)."""

    seq: np.ndarray  # (m,) sequence of each run
    start: np.ndarray  # (m,) first step of the run within its sequence
    end: np.ndarray  # (m,) last step (inclusive)
    score: np.ndarray  # (m,) match score in (0, 1]
    extra: np.ndarray  # (m,) units on throughout the run that are not selected
    total: int  # runs found before the limit

    def __len__(self) -> int:
        return len(self.seq)


def empty_matches() -> Matches:
    """No run at all."""
    none = np.zeros(0, dtype=np.int64)
    return Matches(none, none, none, np.zeros(0), none, 0)


def above(values: np.ndarray, threshold: float) -> np.ndarray:
    """``values > threshold`` elementwise. Stored float16 states are compared as their bit patterns,
    which order like the numbers for a threshold >= 0 (several times faster than float16 arithmetic).
    """
    values = np.asarray(values)
    if values.dtype == np.float16 and threshold >= 0:
        return values.view(np.int16) > np.float16(threshold).view(np.int16)
    return values > threshold


def sequence_matrix(states: np.ndarray, offsets: np.ndarray, k: int) -> np.ndarray:
    """(steps, units) states of sequence ``k``."""
    return np.asarray(states[int(offsets[k]) : int(offsets[k + 1])])


def on_units(matrix: np.ndarray, start: int, end: int, threshold: float) -> np.ndarray:
    """Indices of the units above ``threshold`` at every step ``start..end`` of ``matrix`` (steps, units)."""
    if not 0 <= start <= end < len(matrix):
        raise ValueError(f"span {start}..{end} outside 0..{len(matrix) - 1}")
    return np.flatnonzero(above(matrix[start : end + 1], threshold).all(axis=0))


def unit_order(
    matrix: np.ndarray, sort: str, span: tuple[int, int] | None = None, selected: np.ndarray | None = None
) -> np.ndarray:
    """Units in display order.

    ``index``: by number; ``activation``: by mean value over the sequence, highest first;
    ``selected``: the ``selected`` units first, then by mean value over ``span``, highest first.
    """
    n_units = matrix.shape[1]
    if sort == "index" or len(matrix) == 0:
        return np.arange(n_units)
    if sort == "activation":
        return np.argsort(-matrix.mean(axis=0), kind="stable")
    if sort != "selected":
        raise ValueError(f"unknown sort {sort!r}")
    lo, hi = span if span is not None else (0, len(matrix) - 1)
    mean = matrix[lo : hi + 1].mean(axis=0)
    chosen = np.zeros(n_units, dtype=bool)
    if selected is not None:
        chosen[np.asarray(selected, dtype=np.int64)] = True
    return np.lexsort((-mean, ~chosen))


def _abs_sample(states: np.ndarray, sample: int = 200_000) -> np.ndarray:
    """|value| of the states, a regular subsample of at most about ``sample`` (plenty for a slider)."""
    states = np.asarray(states)
    if states.ndim == 2 and states.size > sample:  # every k-th row, before any copy
        states = states[:: max(1, states.size // sample)]
    return np.abs(np.asarray(states, dtype=np.float32).ravel())


def value_scale(states: np.ndarray, quantile: float = 99.9) -> float:
    """A round upper bound for thresholds: the ``quantile`` of |value|, up to the next 0.1 (at least 0.1)."""
    flat = _abs_sample(states)
    if flat.size == 0:
        return 1.0
    q = float(np.percentile(flat, quantile))
    return max(float(np.ceil(q * 10 - 1e-9) / 10), 0.1) if np.isfinite(q) else 1.0


def typical_threshold(states: np.ndarray, quantile: float = 85.0) -> float:
    """A first threshold: the ``quantile`` of |value| (to 0.01), so a few units are on over a short span."""
    flat = _abs_sample(states)
    scale = value_scale(states)
    q = float(np.percentile(flat, quantile)) if flat.size else scale / 2
    return float(min(max(round(q, 2), 0.01), scale)) if np.isfinite(q) else round(scale / 2, 2)


def _runs(mask: np.ndarray, starts_of_sequences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) flat rows of the maximal runs of True in ``mask`` that do not cross a sequence start."""
    n = len(mask)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    boundary = np.zeros(n, dtype=bool)
    boundary[starts_of_sequences[starts_of_sequences < n]] = True
    prev = np.concatenate([[False], mask[:-1]])
    begins = mask & (~prev | boundary)
    nxt = np.concatenate([mask[1:], [False]])
    next_boundary = np.concatenate([boundary[1:], [True]])
    ends = mask & (~nxt | next_boundary)
    return np.flatnonzero(begins), np.flatnonzero(ends)


RUN_BATCH = 2048  # runs whose unit counts are read at a time, best length ratio first


def _all_above(states: np.ndarray, units: np.ndarray, threshold: float) -> np.ndarray:
    """Rows where every unit of ``units`` is above ``threshold``: the first unit's column, then each
    next unit only on the rows still left (a column of a row-major array is a strided read; the
    rows left shrink fast, so this touches a fraction of what ``states[:, units]`` would)."""
    rows = np.flatnonzero(above(states[:, int(units[0])], threshold))
    for unit in units[1:]:
        if len(rows) == 0:
            break
        rows = rows[above(states[rows, int(unit)], threshold)]
    mask = np.zeros(len(states), dtype=bool)
    mask[rows] = True
    return mask


def _top_counts(
    states: np.ndarray,
    threshold: float,
    first: np.ndarray,
    length: np.ndarray,
    ratio: np.ndarray,
    n_units: int,
    limit: int,
) -> np.ndarray:
    """Per run, how many units are on throughout it, computed only for the runs that can rank in the
    best ``limit`` (0 for the others). A run's score ``n_units / n_on * ratio`` is at most its length
    ``ratio``, so runs are taken in falling ``ratio`` until the next one cannot beat the ``limit``-th
    best score found: for a common unit (100,000s of runs) a few thousand runs are read, not all."""
    n_on = np.zeros(len(first), dtype=np.int64)
    order = np.argsort(-ratio, kind="stable")
    batch = max(4 * limit, RUN_BATCH)
    done = 0
    while done < len(order):
        picked = order[done : done + batch]
        done += len(picked)
        rows = concatenated_ranges(first[picked], length[picked])
        cuts = np.concatenate([[0], np.cumsum(length[picked])[:-1]])
        n_on[picked] = _count_always_on(above(states[rows], threshold), cuts)
        known = n_on[n_on > 0]
        if done < len(order) and len(known) >= limit:
            scores = n_units / known * ratio[n_on > 0]
            if ratio[order[done]] < np.partition(scores, -limit)[-limit] * (1 - 1e-9):  # ties read on
                break
    return n_on


def _count_always_on(on: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Per segment of rows (``cuts``: where each begins), the number of columns True in all its rows.

    The rows are packed into 64-bit words first, so the reduction touches units / 64 words per row.
    """
    packed = np.packbits(on, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    if width != packed.shape[1]:
        packed = np.pad(packed, ((0, 0), (0, width - packed.shape[1])))
    words = np.ascontiguousarray(packed).view(np.uint64)
    return np.bitwise_count(np.bitwise_and.reduceat(words, cuts, axis=0)).sum(axis=1).astype(np.int64)


def find_matches(
    states: np.ndarray,
    offsets: np.ndarray,
    units: np.ndarray,
    threshold: float,
    span_length: int,
    exclude: tuple[int, int, int] | None = None,
    limit: int = 25,
) -> Matches:
    """Runs in the whole dataset where every unit of ``units`` stays above ``threshold``, best first.

    ``exclude`` = (sequence, start, end): runs of that sequence overlapping it are left out (the query).
    Ties are broken by sequence, then step.
    """
    units = np.asarray(units, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    if len(units) == 0 or len(states) == 0 or span_length < 1:
        return empty_matches()
    first, last = _runs(_all_above(states, units, threshold), offsets[:-1])
    if len(first) == 0:
        return empty_matches()
    seq = np.searchsorted(offsets, first, side="right") - 1
    start = first - offsets[seq]
    end = last - offsets[seq]
    if exclude is not None:
        k, lo, hi = exclude
        keep = ~((seq == k) & (start <= hi) & (end >= lo))
        first, seq, start, end = first[keep], seq[keep], start[keep], end[keep]
        if len(seq) == 0:
            return empty_matches()
    length = end - start + 1
    shorter, longer = np.minimum(length, span_length), np.maximum(length, span_length)
    n_on = _top_counts(states, threshold, first, length, shorter / longer, len(units), limit)
    known = np.flatnonzero(n_on > 0)
    score = np.zeros(len(seq))
    score[known] = len(units) / n_on[known] * shorter[known] / longer[known]
    order = known[np.lexsort((start[known], seq[known], -score[known]))][:limit]
    return Matches(
        seq=seq[order],
        start=start[order],
        end=end[order],
        score=score[order],
        extra=(n_on - len(units))[order],
        total=len(seq),
    )


# ---------------------------------------------------------------- a first span and threshold


def window_minima(matrix: np.ndarray, length: int) -> np.ndarray:
    """(windows, units): each unit's smallest value over every ``length`` consecutive steps of ``matrix``."""
    values = np.asarray(matrix, dtype=np.float32)
    n = len(values)
    length = max(1, min(int(length), n))
    out = values[: n - length + 1].copy()
    for i in range(1, length):
        np.minimum(out, values[i : n - length + 1 + i], out=out)
    return out


def lowered_threshold(minima: np.ndarray, ceiling: float, n_on: int = 3) -> float:
    """A threshold (to 0.01, at most ``ceiling``) that leaves about ``n_on`` units on, given each
    unit's smallest value over a span (``minima``): just under the ``n_on``-th largest positive one.

    0.0 when no unit is positive throughout the span (nothing can be on at any threshold >= 0).
    """
    top = np.sort(np.asarray(minima, dtype=np.float64))[::-1][: max(1, n_on)]
    positive = top[top > 0]
    if not len(positive):
        return 0.0
    floor = np.floor((float(positive[-1]) - 1e-3) * 100) / 100
    return float(round(min(max(floor, 0.0), ceiling), 2))


def first_view(
    matrix: np.ndarray, preferred: int, length: int, threshold: float, n_on: int = 3
) -> tuple[int, int, float]:
    """``(start, end, threshold)`` of a first span of ``length`` steps in which some unit stays on.

    The span starts at ``preferred`` if a unit stays above ``threshold`` across it there, else at
    the nearest start where one does. When no span of the sequence has one, ``threshold`` is lowered
    (:func:`lowered_threshold`) over the span that keeps the most units high, so the view never opens
    on nothing to search for.
    """
    n = len(matrix)
    if n == 0:
        return 0, 0, float(threshold)
    length = max(1, min(int(length), n))
    minima = window_minima(matrix, length)
    starts = np.arange(len(minima))
    preferred = int(min(max(preferred, 0), len(minima) - 1))
    distance = np.abs(starts - preferred)
    lit = (minima > threshold).any(axis=1)
    if lit.any():
        start = int(starts[lit][np.argmin(distance[lit])])
        return start, start + length - 1, float(threshold)
    # nowhere on: the span whose n_on-th highest unit is highest (nearest the preferred one on ties)
    kth = np.sort(minima, axis=1)[:, -min(max(1, n_on), minima.shape[1])]
    start = int(np.lexsort((distance, -kth))[0])
    return start, start + length - 1, lowered_threshold(minima[start], threshold, n_on)
