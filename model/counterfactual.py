"""Counterfactual edits: a few word deletions or substitutions that flip a classifier's prediction.

A greedy search guided by per-word scores (EP change or attributions toward the
predicted class): each round tries, at the words that support the prediction
most, deleting the word or putting in one of a few *counter words* (words that
alone push hardest toward another class), keeps the edit that lowers the
predicted class's probability most, and stops once another class wins. Edits
that the flip does not need are then undone. Candidates are scored in batches
by a ``predict`` function (lists of words -> class probabilities): numpy for the
built-in classifiers, Keras for uploaded models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from model import cellmath, loaded, memo, textmodels

Predict = Callable[[list[list[str]]], np.ndarray]
MAX_EDITS = 6
POSITIONS = 12  # words tried per round, by guide score
COUNTER_WORDS = 6  # substitutes tried per word
VOCABULARY_SCAN = 3000  # most frequent words scanned for counter words


@dataclass(frozen=True)
class Edit:
    position: int  # index into the original words
    old: str
    new: str | None  # None: the word is deleted


@dataclass
class Counterfactual:
    words: list[str]  # the original words
    edited: list[str]  # the words after the edits
    edits: list[Edit]
    before: np.ndarray  # class probabilities of the original
    after: np.ndarray  # class probabilities of the edited words
    flipped: bool
    tried: int = 0  # candidates scored
    counter_words: list[str] = field(default_factory=list)

    @property
    def original_class(self) -> int:
        return int(np.argmax(self.before))

    @property
    def new_class(self) -> int:
        return int(np.argmax(self.after))

    @property
    def text(self) -> str:
        return " ".join(self.edited)


def apply_edits(words: Sequence[str], edits: Sequence[Edit]) -> list[str]:
    """``words`` with ``edits`` applied (positions refer to the original words)."""
    by_position = {e.position: e for e in edits}
    out = []
    for i, word in enumerate(words):
        edit = by_position.get(i)
        if edit is None:
            out.append(word)
        elif edit.new is not None:
            out.append(edit.new)
    return out


def support(guide: np.ndarray, words: Sequence[str]) -> list[int]:
    """Positions ordered by how much they support the prediction (largest guide score first)."""
    guide = np.asarray(guide, dtype=np.float64)
    if len(guide) != len(words):
        raise ValueError("one guide score per word is needed")
    return [int(i) for i in np.argsort(-guide, kind="stable")]


def search(
    words: Sequence[str],
    guide: np.ndarray,
    predict: Predict,
    counter_words: Sequence[str] = (),
    max_edits: int = MAX_EDITS,
    positions: int = POSITIONS,
) -> Counterfactual:
    """The smallest flip the greedy search finds (or its best try, with ``flipped`` False)."""
    words = list(words)
    before = np.asarray(predict([words])[0], dtype=np.float64)
    target = int(np.argmax(before))
    order = support(guide, words)
    edits: list[Edit] = []
    current = before
    tried = 0
    for _round in range(max_edits):
        if int(np.argmax(current)) != target:
            break
        taken = {e.position for e in edits}
        spots = [p for p in order if p not in taken][:positions]
        candidates = [
            Edit(p, words[p], new)
            for p in spots
            for new in (None, *[w for w in counter_words if w != words[p]])
        ]
        if not candidates:
            break
        texts = [apply_edits(words, [*edits, c]) for c in candidates]
        probs = np.asarray(predict(texts), dtype=np.float64)
        tried += len(texts)
        # the edit that leaves the predicted class the least margin over the best other class
        others = np.delete(probs, target, axis=1).max(axis=1)
        best = int(np.argmax(others - probs[:, target]))
        edits.append(candidates[best])
        current = probs[best]
    flipped = int(np.argmax(current)) != target
    if flipped:
        edits, current, extra = _prune(words, edits, predict, target)
        tried += extra
    edits = sorted(edits, key=lambda e: e.position)
    return Counterfactual(
        words=words,
        edited=apply_edits(words, edits),
        edits=edits,
        before=before,
        after=np.asarray(current, dtype=np.float64),
        flipped=flipped,
        tried=tried,
        counter_words=list(counter_words),
    )


def _prune(
    words: list[str], edits: list[Edit], predict: Predict, target: int
) -> tuple[list[Edit], np.ndarray, int]:
    """Undo, one at a time, the edits the flip does not need."""
    tried = 0
    current = np.asarray(predict([apply_edits(words, edits)])[0], dtype=np.float64)
    changed = True
    while changed and len(edits) > 1:
        changed = False
        trials = [[e for e in edits if e is not drop] for drop in edits]
        probs = np.asarray(predict([apply_edits(words, t) for t in trials]), dtype=np.float64)
        tried += len(trials)
        still = [i for i in range(len(trials)) if int(np.argmax(probs[i])) != target]
        if still:
            i = max(still, key=lambda j: 1.0 - probs[j, target])
            edits, current, changed = trials[i], probs[i], True
    return edits, current, tried


def counter_words(
    candidates: Sequence[str], predict: Predict, target: int, n: int = COUNTER_WORDS
) -> list[str]:
    """The ``n`` words that, read alone, give the class ``target`` the lowest probability."""
    candidates = [w for w in candidates if w]
    if not candidates:
        return []
    probs = np.asarray(predict([[w] for w in candidates]), dtype=np.float64)
    order = np.argsort(probs[:, target], kind="stable")[:n]
    return [candidates[int(i)] for i in order]


# ---------------------------------------------------------------- predictors


def classifier_predictor(classifier: textmodels.TrainedClassifier) -> Predict:
    """Batched numpy forward pass of a built-in classifier over lists of words (pre-padded, masked)."""
    config = classifier.config
    lookup = classifier.vocabulary.index()
    embedding, *recurrent, dense_w, dense_b = classifier.weights

    def predict(texts: list[list[str]]) -> np.ndarray:
        n_classes = len(classifier.class_names)
        out = np.full((len(texts), n_classes), 1.0 / n_classes)
        rows = [[lookup.get(w, textmodels.OOV) for w in words][-config.max_len :] for words in texts]
        width = max((len(r) for r in rows), default=0)
        if width == 0:
            return out
        ids = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            if r:
                ids[i, width - len(r) :] = r
        logits = final_state(config.cell_type, embedding, recurrent, ids) @ dense_w + dense_b
        raw = cellmath.sigmoid(logits) if logits.shape[-1] == 1 else _softmax(logits)
        probs = textmodels.class_probabilities(raw)
        filled = np.array([bool(r) for r in rows])
        out[filled] = probs[filled]
        return out

    return predict


def final_state(
    cell_type: str, embedding: np.ndarray, weights: list[np.ndarray], ids: np.ndarray
) -> np.ndarray:
    """The last hidden state of pre-padded ``ids`` (0 = padding, skipped as Keras masks it), float32."""
    weights = [np.asarray(w, dtype=np.float32) for w in weights]
    batch = len(ids)
    units = weights[1].shape[0]
    h = np.zeros((batch, units), np.float32)
    c = np.zeros((batch, units), np.float32)
    for t in range(ids.shape[1]):
        x = embedding[ids[:, t]].astype(np.float32)
        if cell_type == "lstm":
            out = cellmath.lstm_step(x, h, c, weights)
        elif cell_type == "gru":
            out = cellmath.gru_step(x, h, weights)
        else:
            out = cellmath.simplernn_step(x, h, weights)
        keep = (ids[:, t] == 0)[:, None]
        h = np.where(keep, h, out["h"])
        c = np.where(keep, c, out.get("c", c))
    return h


def keras_predictor(model, vocabulary: dict[str, int] | None, max_len: int, batch: int = 256) -> Predict:
    """Batched Keras forward pass of an uploaded model over lists of words."""
    from model import byo

    def predict(texts: list[list[str]]) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), batch):
            chunk = [" ".join(words) for words in texts[start : start + batch]]
            inputs, _ids, _words = byo.encode_for_model(model, chunk, vocabulary, max_len)
            parts.append(textmodels.class_probabilities(np.asarray(model(inputs, training=False))))
        return np.concatenate(parts) if parts else np.zeros((0, byo.n_outputs(model)))

    return predict


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def vocabulary_sample(words: Sequence[str], n: int = VOCABULARY_SCAN) -> list[str]:
    """The first ``n`` usable words of a frequency-ranked vocabulary (no padding or unknown markers)."""
    out = []
    for word in words:
        if word and not (word.startswith("[") or word.startswith("<")) and word.isalpha():
            out.append(word)
            if len(out) >= n:
                break
    return out


# ---------------------------------------------------------------- the app's models


def _scorer(dataset: str) -> tuple[Predict, tuple[str, ...]]:
    """(predict, frequency-ranked vocabulary sample) of the model behind ``dataset``, once per process."""
    return memo.remember("counterfactual-scorer", dataset, lambda: _build_scorer(dataset))


def _build_scorer(dataset: str) -> tuple[Predict, tuple[str, ...]]:
    from model import byo, byo_models

    if byo_models.is_onnx_upload(dataset):
        return byo_models.onnx_scorer(dataset)  # onnxruntime forward passes
    if byo.is_upload(dataset):
        spec, model = byo.upload_model(dataset)  # the what-if's loaded model
        vocabulary = byo.read_vocabulary(spec.vocab_path) if spec.vocab_path else None
        vectorizer = byo.vectorizer_of(model)
        if vectorizer is not None:
            ranked = [str(w) for w in vectorizer.get_vocabulary()]
        else:
            ranked = [w for w, _i in sorted((vocabulary or {}).items(), key=lambda item: item[1])]
        return keras_predictor(model, vocabulary, spec.max_len), tuple(vocabulary_sample(ranked))
    classifier = loaded.classifier(dataset)
    return classifier_predictor(classifier), tuple(vocabulary_sample(classifier.vocabulary.words))


def _counter_words_for(dataset: str, target: int) -> tuple[str, ...]:
    def build() -> tuple[str, ...]:
        predict, sample = _scorer(dataset)
        return tuple(counter_words(sample, predict, target))

    return memo.remember("counter-words", (dataset, target), build)


def counterfactual_for(dataset: str, words: Sequence[str], guide: np.ndarray) -> Counterfactual:
    """The counterfactual search on ``words`` under the model of ``dataset`` (built-in or uploaded)."""
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    predict, _sample = _scorer(dataset)
    # Many small matrix products: one BLAS thread is several times faster than a team of them
    # on a busy machine (threads contend for the cores the web workers already share).
    with threadpool_limits(limits=1, user_api="blas"):
        target = int(np.argmax(predict([list(words)])[0]))
        return search(words, guide, predict, _counter_words_for(dataset, target))
