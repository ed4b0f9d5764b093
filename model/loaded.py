"""Loaded models, kept once per process in :mod:`model.memo` (never in scattered ``lru_cache``s).

A classifier, a projector or an uploaded Keras model is immutable once prepared, so every
request of a process shares the one loaded copy. A dataset that is not prepared raises
LookupError with a message; the miss is never remembered, so it is seen as soon as it is ready.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model import memo


def _required(value: Any, message: str) -> Any:
    if value is None:
        raise LookupError(message)
    return value


def classifier(dataset: str):
    """The prepared classifier of a built-in dataset (``imdb``, ``reuters@gru``, ``imdb~all``)."""
    from model import prepare

    found = memo.remember("classifier", dataset, lambda: prepare.load_classifier(dataset))
    return _required(found, f"{dataset} is not prepared yet.")


def keras_model(dataset: str):
    """The Keras model built from :func:`classifier` (built once per process)."""
    built = classifier(dataset)
    return memo.remember("keras-model", dataset, built.keras_model)


def projector(dataset: str, method: str, n_sequences: int | None):
    """The fitted projection of ``dataset`` that places new states (what-if texts)."""
    from model import prepare

    found = memo.remember(
        "projector",
        (dataset, method, n_sequences),
        lambda: prepare.load_projector(dataset, method, n_sequences),
    )
    return _required(found, f"The {method} projection of {dataset} is not computed yet.")


def upload_extractor(model_path: str, layer_name: str | None):
    """An upload's loaded model and its state extractor (the upload's files never change)."""
    from model import byo
    from model.extraction import StateExtractor

    return memo.remember(
        "upload-model",
        (model_path, layer_name),
        lambda: StateExtractor(byo.load_model(model_path), layer_name),
    )


def per_model(kind: str, model: object, build: Callable[[], Any]) -> Any:
    """A value derived from a loaded model object (a compiled function), kept while the model is.

    The entry holds the model itself, so its ``id`` cannot be reused while the entry lives.
    """
    held, value = memo.remember(kind, id(model), lambda: (model, build()))
    if held is not model:  # defensive: never hand one model's function to another
        memo.forget(kind)
        held, value = memo.remember(kind, id(model), lambda: (model, build()))
    return value
