"""``model.prepare`` cut to the first ``RNNX_BENCH_SEQUENCES`` sequences, for sizing page loads.

``bench/analytics.py --sizes`` serves it with ``RNNX_TEST_PIPELINE=bench.subset_prepare`` (``tests/support/serve.py``) to find
the largest analysis set that still loads within the goal; the real cache is only read.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from model.artifacts import Analysis
from model.prepare import *  # noqa: F403 - the same pipeline, two loaders narrowed below
from model.prepare import load_analysis as _load_analysis
from model.prepare import load_projection as _load_projection


def _limit() -> int | None:
    value = os.environ.get("RNNX_BENCH_SEQUENCES")
    return int(value) if value else None


def subset(analysis: Analysis, n: int) -> Analysis:
    """The first ``n`` sequences of ``analysis`` with their states."""
    n = min(n, analysis.n_sequences)
    end = int(analysis.offsets[n])
    return replace(
        analysis,
        texts=analysis.texts[:n],
        words=analysis.words[:n],
        labels=np.asarray(analysis.labels)[:n],
        predicted=np.asarray(analysis.predicted)[:n],
        confidence=np.asarray(analysis.confidence)[:n],
        offsets=np.asarray(analysis.offsets)[: n + 1],
        ep=analysis.ep[:end],
        distance=analysis.distance[:end],
        summary={**analysis.summary, "n_sequences": n, "n_hidden_states": end},
    )


def load_analysis(dataset: str, *args, **kwargs) -> Analysis | None:
    analysis = _load_analysis(dataset, *args, **kwargs)
    limit = _limit()
    return subset(analysis, limit) if analysis is not None and limit else analysis


def load_projection(dataset: str, method: str, *args, **kwargs) -> np.ndarray | None:
    points = _load_projection(dataset, method, *args, **kwargs)
    limit = _limit()
    if points is None or not limit:
        return points
    analysis = _load_analysis(dataset)
    return None if analysis is None else points[: int(analysis.offsets[min(limit, analysis.n_sequences)])]
