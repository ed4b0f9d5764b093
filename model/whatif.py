"""Live what-if: any typed text through the prepared classifier, placed in the current projection.

Built-in classifiers are run in numpy from their cached weights (embedding
lookup, ``model.cellmath`` cell, output head), which takes milliseconds and no
TensorFlow; uploaded models go through Keras. Tests check both against the
extraction pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model import cellmath, loaded, textmodels
from model.extraction import step_distances


@dataclass
class TextStates:
    words: list[str]
    hidden: np.ndarray  # (n, units)
    ep: np.ndarray  # (n, n_classes)
    distance: np.ndarray  # (n,)
    points: np.ndarray | None  # (n, 2) in the current projection, if one is given

    @property
    def predicted(self) -> int | None:
        return int(self.ep[-1].argmax()) if len(self.ep) else None


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def classifier_states(
    classifier: textmodels.TrainedClassifier, text: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, hidden states, EP) of ``text`` under a built-in classifier, in numpy."""
    config = classifier.config
    ids, [words] = textmodels.encode([text], classifier.vocabulary, config.max_len)
    tokens = ids[0, config.max_len - len(words) :]
    if not words:
        units = config.units
        return [], np.zeros((0, units), np.float32), np.zeros((0, len(classifier.class_names)), np.float32)
    embedding, *recurrent, dense_w, dense_b = classifier.weights
    trace = cellmath.run_sequence(config.cell_type, embedding[tokens][None], recurrent)
    hidden = trace["h"][0].astype(np.float32)
    logits = hidden @ dense_w + dense_b
    output = cellmath.sigmoid(logits) if logits.shape[-1] == 1 else _softmax(logits)
    return words, hidden, textmodels.class_probabilities(output)


def analyse_text(
    dataset: str, text: str, method: str | None = None, n_sequences: int | None = None
) -> TextStates:
    """EP per word, jumps and (if ``method``) the trajectory of ``text`` in that projection."""
    from model import byo, byo_models

    if byo.is_upload(dataset):
        words, hidden, ep = byo_models.text_states(dataset, text)  # a Keras or an ONNX upload
    else:
        words, hidden, ep = classifier_states(loaded.classifier(dataset), text)
    points = loaded.projector(dataset, method, n_sequences).place(hidden) if method else None
    distance = step_distances(hidden, np.array([0, len(hidden)]))
    return TextStates(words=words, hidden=hidden, ep=ep, distance=distance, points=points)
