"""``rnnx.analyse``: the app's numbers for any recurrent classifier, without a server.

``model`` is a Keras model object, a path to a ``.keras`` or ``.onnx`` file, or an adapter
(:mod:`rnnx.adapter`). The states come from the same code as the page's (``model.byo_models``,
``model.extraction``, ``model.onnx_model``) and the projection from ``model.projection``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model import byo, byo_models, projection
from rnnx.adapter import AdapterRunner, is_adapter

MAX_TEXTS = 200_000
MAX_TEXT_CHARS = 1_000_000


@dataclass
class Result:
    """What :func:`analyse` returns: arrays over every hidden state, and one row per text in ``frame``."""

    texts: list[str]
    labels: np.ndarray  # (n,) int
    class_names: list[str]
    words: list[list[str]]  # the tokens the model read, per text
    hidden: np.ndarray  # (n_states, units) float32: every step's hidden state
    ep: np.ndarray  # (n_states, classes) expected prediction of every prefix
    offsets: np.ndarray  # (n + 1,): text k's states are hidden[offsets[k]:offsets[k + 1]]
    distance: np.ndarray  # (n_states,) jump from the previous state
    projection: np.ndarray  # (n_states, 2)
    predicted: np.ndarray  # (n,) class at each text's last step
    confidence: np.ndarray  # (n,)
    method: str
    info: dict = field(default_factory=dict)  # cell type, layer, recurrent layers, format

    def states(self, k: int) -> np.ndarray:
        """Text ``k``'s hidden states, (steps, units)."""
        return self.hidden[self.offsets[k] : self.offsets[k + 1]]

    @property
    def frame(self):
        """A pandas DataFrame, one row per text: text, label, prediction, confidence, correct, steps."""
        import pandas as pd

        names = np.asarray(self.class_names, dtype=object)
        return pd.DataFrame(
            {
                "text": self.texts,
                "label": names[self.labels],
                "predicted": names[self.predicted],
                "confidence": self.confidence,
                "correct": self.predicted == self.labels,
                "steps": np.diff(self.offsets),
            }
        )

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.labels)) if len(self.labels) else 0.0


def _texts(texts, labels) -> tuple[list[str], list]:
    texts, labels = list(texts), list(labels)
    if not texts:
        raise byo.InputError("Give at least one text.")
    if len(texts) != len(labels):
        raise byo.InputError(f"{len(texts)} texts but {len(labels)} labels: give one label per text.")
    if len(texts) > MAX_TEXTS:
        raise byo.InputError(f"{len(texts):,} texts is more than the limit of {MAX_TEXTS:,}.")
    texts = ["" if t is None else str(t) for t in texts]
    if any(len(t) > MAX_TEXT_CHARS for t in texts):
        raise byo.InputError(f"A text is longer than {MAX_TEXT_CHARS:,} characters.")
    return texts, labels


def runner_for(model: Any, layer: str | None = None, vocabulary=None):
    """The object that encodes and runs ``model`` (a path, a Keras model or an adapter)."""
    if is_adapter(model):
        return AdapterRunner(model)
    if isinstance(model, str | Path):
        path = Path(model)
        if byo_models.is_onnx(path):
            return byo_models.OnnxUpload(path, vocabulary, layer, allow_external=True)
        return byo_models.KerasUpload(byo.load_model(path), vocabulary, layer)
    if hasattr(model, "layers") and hasattr(model, "inputs"):
        return byo_models.KerasUpload(model, vocabulary, layer)
    raise byo.InputError(
        f"Cannot analyse a {type(model).__name__}: give a Keras model, a path to a .keras or .onnx file, "
        "or an adapter with tokenize, states and probabilities (see rnnx.adapter)."
    )


def table(
    data,
    text_column: str | None = None,
    label_column: str | None = None,
    class_names: list[str] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, class names) of a CSV, JSON Lines or Parquet file (a path) or a pandas DataFrame,
    the text and label columns guessed unless named."""
    from model import byo_csv, byo_table

    if isinstance(data, str | Path):
        path = byo.check_file(data, "data file")
        parsed = byo_table.read_table(path.read_bytes(), path.name, text_column, label_column, class_names)
    elif hasattr(data, "columns") and hasattr(data, "iloc"):
        frame = data.rename(columns=str)
        if len(frame) > MAX_TEXTS:
            raise byo.InputError(f"{len(frame):,} rows is more than the limit of {MAX_TEXTS:,}.")
        parsed = byo_csv.from_frame(frame, text_column, label_column, class_names)
    else:
        raise byo.InputError(
            "Give texts and labels, or a path to a CSV, JSON Lines or Parquet file, or a DataFrame."
        )
    return parsed.texts, [parsed.class_names[i] for i in parsed.labels], parsed.class_names


def analyse(
    model: Any,
    texts,
    labels=None,
    *,
    class_names: list[str] | None = None,
    layer: str | None = None,
    vocabulary: str | Path | dict | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    projection_method: str = "pca",
    seed: int = 0,
) -> Result:
    """Hidden states per step, EP, a 2-D projection and per-text predictions of ``model`` on ``texts``.

    ``labels``: class names or integer ids (``class_names`` gives their order); ``layer``: the
    recurrent layer to read (default the last); ``vocabulary``: for a model that takes token ids
    (a path to a vocabulary file or a ``tokenizer.json``, or a dict word→id). With ``labels`` left
    out, ``texts`` is a table (a path to a CSV, JSON Lines or Parquet file, or a DataFrame) whose
    ``text_column`` and ``label_column`` are guessed unless named.
    """
    if labels is None:
        texts, labels, class_names = table(texts, text_column, label_column, class_names)
    texts, labels = _texts(texts, labels)
    projection.params_for(projection_method)
    label_ids, names = byo.encode_labels(labels, list(class_names) if class_names else None)
    runner = runner_for(model, layer, vocabulary)
    inputs, ids, words = runner.encode(texts)
    states = runner.run(ids, inputs)
    outputs = max(2, runner.n_outputs or states.ep.shape[1])
    if len(names) < outputs and not class_names and names == [f"class {i}" for i in range(len(names))]:
        names = [f"class {i}" for i in range(outputs)]  # integer labels: the classes no text has too
    if len(names) != outputs:
        raise byo.InputError(
            f"The labels have {len(names)} classes ({', '.join(names[:6])}) but the model has {outputs} "
            "outputs: give class_names in the model's output order."
        )
    hidden = np.asarray(states.hidden, np.float32)
    points, _projector = projection.fit(hidden, projection_method, seed=seed) if len(hidden) else (None, None)
    return Result(
        texts=texts,
        labels=label_ids,
        class_names=list(names),
        words=[list(w) for w in words],
        hidden=hidden,
        ep=np.asarray(states.ep, np.float32),
        offsets=np.asarray(states.offsets),
        distance=np.asarray(states.distance),
        projection=np.zeros((0, 2), np.float32) if points is None else np.asarray(points),
        predicted=np.asarray(states.predicted),
        confidence=np.asarray(states.confidence),
        method=projection_method,
        info=runner.describe(),
    )
