"""Synthetic analyses for the analytics tests, and a stand-in for ``model.prepare``.

It implements the whole pipeline interface the services read (``services.registry.Services``);
``start_app(..., pipeline="tests.support.synthetic")`` serves it through ``app.create_app``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.artifacts import Analysis

DATASETS = {
    "imdb": {"label": "IMDB reviews (synthetic)"},
    "reuters": {"label": "Reuters newswire (synthetic)"},
}
PROJECTIONS = ("pca", "umap", "tsne")
VOCAB = [
    "the",
    "movie",
    "was",
    "great",
    "awful",
    "plot",
    "acting",
    "boring",
    "superb",
    "film",
    "not",
    "really",
    "good",
    "bad",
    "loved",
    "hated",
    "story",
]
REUTERS_CLASSES = ["earn", "acquisition", "crude-oil", "grain", "money-fx"]


class PrepareError(RuntimeError):
    """A preparation failure with a user-readable message."""


def synthetic_analysis(dataset: str = "imdb", n_sequences: int = 40, seed: int = 0) -> Analysis:
    """A small, deterministic analysis with a random-walk EP and distances."""
    rng = np.random.default_rng(seed)
    names = ["negative", "positive"] if dataset == "imdb" else REUTERS_CLASSES
    n_classes = len(names)
    lengths = rng.integers(8, 40, size=n_sequences)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    words = [[str(w) for w in rng.choice(VOCAB, size=n)] for n in lengths]
    logits = np.concatenate([np.cumsum(rng.normal(0, 0.8, size=(n, n_classes)), axis=0) for n in lengths])
    ep = np.exp(logits - logits.max(axis=1, keepdims=True))
    ep = (ep / ep.sum(axis=1, keepdims=True)).astype(np.float32)
    last = offsets[1:] - 1
    predicted = ep[last].argmax(axis=1)
    labels = np.where(rng.random(n_sequences) < 0.8, predicted, (predicted + 1) % n_classes)
    return Analysis(
        dataset=dataset,
        class_names=names,
        texts=[" ".join(w) for w in words],
        words=words,
        labels=labels.astype(int),
        predicted=predicted.astype(int),
        confidence=ep[last].max(axis=1).astype(float),
        offsets=offsets,
        ep=ep,
        distance=rng.gamma(2.0, 0.5, size=int(offsets[-1])).astype(np.float32),
        summary={"cell_type": "lstm", "units": 32, "test_accuracy": 0.87, "n_sequences": n_sequences},
    )


def synthetic_projection(analysis: Analysis, seed: int = 1) -> np.ndarray:
    """A 2-D random walk per sequence, drifting with its EP."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.3, size=(analysis.n_states, 2)).astype(np.float32)
    steps[:, 0] += (analysis.ep[:, -1] - 0.5) * 0.6
    xy = np.empty_like(steps)
    for k in range(analysis.n_sequences):
        r = analysis.rows(k)
        xy[r] = np.cumsum(steps[r], axis=0)
    return xy


def load_analysis(dataset: str, n_sequences: int | None = None) -> Analysis | None:
    return synthetic_analysis(dataset, n_sequences or 60) if dataset in DATASETS else None


def load_projection(dataset: str, method: str, n_sequences: int | None = None) -> np.ndarray | None:
    if method == "tsne":  # pretend t-SNE has not been computed yet
        return None
    analysis = load_analysis(dataset, n_sequences)
    return None if analysis is None else synthetic_projection(analysis, seed=PROJECTIONS.index(method))


def load_states(dataset: str, n_sequences: int | None = None) -> dict | None:
    """Deterministic hidden states (16 units) aligned with ``load_analysis``; no cell states."""
    analysis = load_analysis(dataset, n_sequences)
    if analysis is None:
        return None
    rng = np.random.default_rng(5)
    hidden = np.tanh(rng.normal(0, 0.5, size=(analysis.n_states, 16)) + analysis.ep[:, -1:]).astype(
        np.float32
    )
    return {"hidden": hidden, "cell": None}


def is_prepared(dataset: str, method: str, n_sequences: int | None = None) -> bool:
    return load_projection(dataset, method, n_sequences) is not None


def run_prepare_subprocess(
    dataset: str, projection: str, n_sequences: int | None, on_progress: Callable[[float, str], None]
) -> dict:
    raise PrepareError("Synthetic data cannot be prepared: the archive is missing.")
