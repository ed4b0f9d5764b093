"""A representative sequence to open the analytics page with, so no view starts empty."""

from __future__ import annotations

import numpy as np

from model.artifacts import Analysis

SCAN_LIMIT = 200_000  # sequences looked at, at most (evenly spread): the choice stays cheap at any size


def representative_sequence(analysis: Analysis) -> int | None:
    """A sequence that shows what the views are for: correctly classified, of about median length, and
    whose expected prediction moves the most on the way (a decision made while reading, not at once).

    Deterministic for an analysis; None for an empty one."""
    n = analysis.n_sequences
    if n == 0:
        return None
    candidates = np.unique(np.linspace(0, n - 1, min(n, SCAN_LIMIT)).round().astype(np.int64))
    offsets = np.asarray(analysis.offsets, dtype=np.int64)
    lengths = offsets[candidates + 1] - offsets[candidates]
    correct = np.asarray(analysis.labels)[candidates] == np.asarray(analysis.predicted)[candidates]
    lo, hi = np.percentile(lengths, [35, 65])
    fits = correct & (lengths >= max(lo, 2)) & (lengths <= hi)
    if not fits.any():
        fits = lengths > 0
        if not fits.any():
            return int(candidates[0])
    chosen = candidates[fits]
    predicted = np.asarray(analysis.predicted)[chosen]
    starts, ends = offsets[chosen], offsets[chosen + 1]
    # the EP of the finally predicted class at the first and the last step, and its lowest on the way
    first = np.asarray(analysis.ep[starts, predicted], dtype=np.float64)
    last = np.asarray(analysis.ep[ends - 1, predicted], dtype=np.float64)
    swing = np.abs(last - first)
    return int(chosen[int(np.argmax(swing))])
