"""Text classifiers as in the paper: tokenizer, Embedding → recurrent layer → Dropout → Dense.

Trained weights are kept in the disk cache, keyed by the dataset and the whole
model configuration (including the seed), so a model is trained once. The
paper's default classifiers also ship with the project (:mod:`model.pretrained`):
a cache miss for exactly their configuration loads them instead of training.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from model import cache, cellmath

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
PAD, OOV = 0, 1
CELL_TYPES = cellmath.CELL_TYPES
TRAINER_VERSION = 3
CHECKPOINT_SAMPLE = 2000  # test texts scored after each epoch (the final model is scored on all)


@dataclass(frozen=True)
class ModelConfig:
    """Everything a trained classifier depends on (part of every cache key)."""

    cell_type: str = "lstm"  # lstm, gru or simplernn
    units: int = 100
    embedding_dim: int = 32
    dropout: float = 0.5
    max_len: int = 100  # the last max_len tokens of each text, pre-padded
    vocab_size: int = 20000
    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 0.002
    seed: int = 9999
    max_train: int | None = None  # use only the first N training texts (tests, quick runs)

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_CONFIGS = {
    "imdb": ModelConfig(units=100, epochs=3, batch_size=64, learning_rate=0.001, seed=9999),
    "reuters": ModelConfig(units=20, epochs=20, batch_size=32, learning_rate=0.005, seed=42),
}


def default_config(dataset: str, **overrides) -> ModelConfig:
    """The paper's configuration for ``dataset`` (user models get ``ModelConfig()``)."""
    return replace(DEFAULT_CONFIGS.get(dataset, ModelConfig()), **overrides)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits and in-word apostrophes)."""
    return TOKEN.findall(text.lower())


@dataclass
class Vocabulary:
    words: list[str]  # index i + 2 ↔ words[i]; 0 = padding, 1 = out of vocabulary

    @classmethod
    def build(cls, texts: Sequence[str], size: int) -> Vocabulary:
        counts = Counter(token for text in texts for token in tokenize(text))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([word for word, _ in ranked[: size - 2]])

    def index(self) -> dict[str, int]:
        return {word: i + 2 for i, word in enumerate(self.words)}


def encode(texts: Sequence[str], vocabulary: Vocabulary, max_len: int) -> tuple[np.ndarray, list[list[str]]]:
    """Token ids (n, max_len), pre-padded with the last ``max_len`` tokens, and those tokens."""
    lookup = vocabulary.index()
    ids = np.zeros((len(texts), max_len), dtype=np.int32)
    kept: list[list[str]] = []
    for row, text in enumerate(texts):
        tokens = tokenize(text)[-max_len:]
        kept.append(tokens)
        if tokens:
            ids[row, max_len - len(tokens) :] = [lookup.get(token, OOV) for token in tokens]
    return ids, kept


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def build_model(config: ModelConfig, n_classes: int):
    """A compiled Keras classifier for ``config``."""
    _tf()
    import keras

    keras.utils.set_random_seed(config.seed)
    recurrent = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simplernn": keras.layers.SimpleRNN}
    if config.cell_type not in recurrent:
        raise ValueError(f"unknown cell type {config.cell_type!r}")
    binary = n_classes == 2
    model = keras.Sequential(
        [
            keras.Input(shape=(config.max_len,), dtype="int32"),
            keras.layers.Embedding(config.vocab_size, config.embedding_dim, mask_zero=True, name="embedding"),
            recurrent[config.cell_type](config.units, name="recurrent"),
            keras.layers.Dropout(config.dropout, name="dropout"),
            keras.layers.Dense(
                1 if binary else n_classes, activation="sigmoid" if binary else "softmax", name="output"
            ),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=config.learning_rate),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def class_probabilities(raw: np.ndarray) -> np.ndarray:
    """Model outputs as (n, n_classes) probabilities (a sigmoid output becomes [1 - p, p])."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.ndim == 1 or raw.shape[-1] == 1:
        p = raw.reshape(-1)
        return np.stack([1.0 - p, p], axis=-1)
    return raw


@dataclass
class TrainedClassifier:
    dataset: str
    config: ModelConfig
    class_names: list[str]
    vocabulary: Vocabulary
    weights: list[np.ndarray]
    test_accuracy: float
    history: dict  # loss/accuracy per epoch, and "test_accuracy" per epoch on CHECKPOINT_SAMPLE texts
    checkpoints: list[list[np.ndarray]] = field(default_factory=list)  # weights after each epoch
    origin: str = "trained"  # "trained" here, or "pretrained" (shipped files: no checkpoints)

    def keras_model(self):
        model = build_model(self.config, len(self.class_names))
        model.set_weights(self.weights)
        return model


def classifier_key(dataset: str, config: ModelConfig) -> str:
    """The cache key of a classifier: the dataset, its archive's content fingerprint and the config.

    A replaced archive gives a new key, and so new keys for everything derived from the classifier.
    """
    from model import datasets

    data = datasets.fingerprint(dataset) if dataset in datasets.ARCHIVES else None
    return cache.make_key(
        "classifier", dataset=dataset, data=data, config=config.as_dict(), v=TRAINER_VERSION
    )


def classifier_plan(dataset_name: str, config: ModelConfig, retrain: bool = False) -> str:
    """Where :func:`obtain_classifier` will most likely take the classifier from (for stage labels)."""
    from model import pretrained

    if retrain:
        return "trained"
    if cache.contains(classifier_key(dataset_name, config)):
        return "cache"
    return "pretrained" if pretrained.matches(dataset_name, config, check_data=False) else "trained"


def obtain_classifier(
    dataset_name: str,
    config: ModelConfig,
    on_batch: Callable[[int, int], None] | None = None,
    retrain: bool = False,
    use_pretrained: bool = True,
) -> tuple[TrainedClassifier, str]:
    """The classifier of ``dataset_name`` and where it came from: ``"cache"``, ``"pretrained"`` or ``"trained"``.

    Looks in the cache, then in the shipped pretrained files (checksummed; a loaded one is stored in
    the cache, so later lookups are plain cache hits), then trains. ``retrain`` skips both lookups
    and replaces the cache entry.
    """
    from model import pretrained

    key = classifier_key(dataset_name, config)

    def compute() -> TrainedClassifier:
        return _train(dataset_name, config, on_batch)

    if retrain:
        if isinstance(cache.store_for(key), cache.ReadOnlyCache):
            return compute(), "trained"
        with cache.computing_lock(key):
            classifier = compute()
            cache.put(key, classifier)
        return classifier, "trained"
    missing = object()
    found = cache.get(key, missing)
    if found is not missing:
        return found, "cache"
    shipped = pretrained.load(dataset_name, config) if use_pretrained else None
    if shipped is not None:
        cache.put(key, shipped)
        return shipped, "pretrained"
    classifier, hit = cache.memoize(key, compute)
    return classifier, "cache" if hit else "trained"


def train_classifier(
    dataset_name: str,
    config: ModelConfig,
    on_batch: Callable[[int, int], None] | None = None,
    retrain: bool = False,
) -> tuple[TrainedClassifier, bool]:
    """Train (or load from the cache or the shipped files) the classifier; returns (it, was_not_trained)."""
    classifier, source = obtain_classifier(dataset_name, config, on_batch, retrain=retrain)
    return classifier, source != "trained"


def _train(
    dataset_name: str, config: ModelConfig, on_batch: Callable[[int, int], None] | None
) -> TrainedClassifier:
    """Train the classifier of ``dataset_name`` with ``config`` (TensorFlow), keeping every epoch's weights."""
    from model import datasets

    data = datasets.load(dataset_name)
    train_texts, train_labels = data.train.texts, data.train.labels
    if config.max_train:
        train_texts, train_labels = train_texts[: config.max_train], train_labels[: config.max_train]
    vocabulary = Vocabulary.build(train_texts, config.vocab_size)
    x_train, _ = encode(train_texts, vocabulary, config.max_len)
    x_test, _ = encode(data.test.texts, vocabulary, config.max_len)
    model = build_model(config, len(data.class_names))
    checkpoints: list[list[np.ndarray]] = []
    sample = slice(0, CHECKPOINT_SAMPLE)
    epoch_scores: list[float] = []

    def keep_checkpoint(epoch: int, logs=None) -> None:
        checkpoints.append([np.asarray(w) for w in model.get_weights()])
        p = class_probabilities(model.predict(x_test[sample], batch_size=512, verbose=0))
        epoch_scores.append(float(np.mean(p.argmax(axis=1) == data.test.labels[sample])))

    import keras

    callbacks = [keras.callbacks.LambdaCallback(on_epoch_end=keep_checkpoint)]
    if on_batch:
        callbacks.append(_BatchCallback(on_batch, config, len(x_train)))
    history = model.fit(
        x_train,
        train_labels,
        epochs=config.epochs,
        batch_size=config.batch_size,
        verbose=0,
        callbacks=callbacks,
        shuffle=True,
    )
    probabilities = class_probabilities(model.predict(x_test, batch_size=512, verbose=0))
    accuracy = float(np.mean(probabilities.argmax(axis=1) == data.test.labels))
    return TrainedClassifier(
        dataset=dataset_name,
        config=config,
        class_names=list(data.class_names),
        vocabulary=vocabulary,
        weights=[np.asarray(w) for w in model.get_weights()],
        test_accuracy=accuracy,
        history={
            **{k: [float(v) for v in vs] for k, vs in history.history.items()},
            "test_accuracy": epoch_scores,
        },
        checkpoints=checkpoints,
    )


def total_batches(config: ModelConfig, n_train: int) -> int:
    return config.epochs * int(np.ceil(n_train / config.batch_size))


def _batch_callback_base():
    import keras

    return keras.callbacks.Callback


class _BatchCallback:
    """Reports (batches done, total batches) to ``on_batch`` during ``fit``."""

    def __new__(cls, on_batch, config: ModelConfig, n_train: int):
        base = _batch_callback_base()
        total = total_batches(config, n_train)

        class Reporter(base):
            def __init__(self) -> None:
                super().__init__()
                self.done = 0

            def on_train_batch_end(self, batch, logs=None) -> None:
                self.done += 1
                on_batch(self.done, total)

        return Reporter()
