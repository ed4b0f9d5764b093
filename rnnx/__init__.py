"""RNN Explorer as a library: ``rnnx.analyse`` (the numbers, no server) and ``rnnx.explore`` (the page).

``model`` may be a Keras model object, a path to a ``.keras`` or ``.onnx`` file, or an adapter
(:mod:`rnnx.adapter`). Nothing heavy is imported until one of them is called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analyse", "explore"]


def analyse(model: Any, texts, labels=None, **options):
    """Hidden states per step, expected predictions, a 2-D projection and predictions (see :mod:`rnnx.api`)."""
    from rnnx import api

    return api.analyse(model, texts, labels, **options)


def explore(model: Any, texts, labels=None, **options):
    """Prepare ``model`` on ``texts`` and show the analytics page for it (see :mod:`rnnx.explorer`).

    Returns an object with ``.url`` (the link to open) and ``.dataset`` (the page's dataset id)."""
    from rnnx import explorer

    return explorer.explore(model, texts, labels, **options)
