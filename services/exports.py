"""Downloads of a prepared analysis: CSV tables and TensorBoard projector files (bytes, no Dash).

Thin, typed entry points to ``model.export`` for the bring-your-own card's export buttons; the
caller has already checked that the session may read the dataset (``services.analysis.load``).
"""

from __future__ import annotations

import numpy as np

from model.artifacts import Analysis


def sequences_csv(analysis: Analysis) -> bytes:
    """One row per sequence (id, length, actual, predicted, confidence, correct, text) as CSV bytes."""
    from model import export

    return export.sequences_csv(analysis)


def states_csv(analysis: Analysis, points: np.ndarray | None, hidden: np.ndarray | None) -> bytes:
    """One row per hidden state as CSV bytes, with its projection ``points`` and ``hidden`` vector when given."""
    from model import export

    return export.states_csv(analysis, points, hidden)


def tensorboard_projector(analysis: Analysis, hidden: np.ndarray) -> bytes:
    """A zip with ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.pbtxt`` for the TensorBoard projector."""
    from model import export

    return export.tensorboard_projector(analysis, hidden)
