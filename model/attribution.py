"""Per-word attributions of a recurrent text classifier's prediction, by integrated gradients.

The path runs in embedding space, from a baseline where every word's embedding
is zero to the text's embeddings; the gradients of the attributed class's
probability (``tf.GradientTape``) are taken through the model's own layers
after its Embedding layer, averaged along the path with the trapezoid rule, and
multiplied by the embedding difference. Summed over the embedding dimensions
they give one score per word; by completeness the scores add up to
``f(text) - f(baseline)`` (checked by :attr:`Attribution.gap`).

Padding never gets a score: with a masking Embedding (``mask_zero``) it is cut
off (a masked step leaves the state unchanged, so the output is the same), and
without one it keeps its own embedding on the whole path. Before anything is
attributed, the layer chain is checked against the model's own prediction, so
a model whose layers after the Embedding do not form a simple chain is refused
with a message rather than explained wrongly. TensorFlow is imported lazily.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass

import numpy as np

from model import loaded, textmodels

DEFAULT_STEPS = 48
CHAIN_TOLERANCE = 2e-3  # the chain's output against the model's own prediction
VERSION = 1  # part of the cache key: bump when the numbers change


class AttributionError(ValueError):
    """A model or text that cannot be attributed; the message is meant for the user."""


@dataclass
class Attribution:
    words: list[str]
    scores: np.ndarray  # (n_words,) contribution of each word to the target class's probability
    target: int  # the attributed class (the predicted one by default)
    prediction: float  # f(text): the target class's probability
    baseline: float  # f(baseline): the same with every word's embedding at zero
    steps: int
    method: str = "integrated gradients"  # or "occlusion" (leave one word out) for a model without gradients

    @property
    def gap(self) -> float:
        """Completeness error: sum of the scores minus ``prediction - baseline``."""
        return float(np.sum(self.scores) - (self.prediction - self.baseline))

    def as_dict(self) -> dict:
        """Plain values (what the cache keeps)."""
        out = asdict(self)
        out["scores"] = np.asarray(self.scores, dtype=np.float32)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Attribution:
        return cls(**{**data, "scores": np.asarray(data["scores"], dtype=np.float32)})


def chain_after_embedding(model) -> tuple[object, list]:
    """(the model's Embedding layer, the layers after it in order); AttributionError without one."""
    layers = list(getattr(model, "layers", []))
    for i, layer in enumerate(layers):
        if type(layer).__name__ == "Embedding":
            return layer, layers[i + 1 :]
    raise AttributionError(
        "Attributions need an Embedding layer at the top level of the model; this model has none."
    )


def _takes_mask(layer) -> bool:
    try:
        return "mask" in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def run_chain(layers: list, x, mask=None):
    """The ``layers`` applied in order, in inference mode, passing a mask along where one is taken."""
    for layer in layers:
        if mask is not None and _takes_mask(layer):
            out = layer(x, mask=mask, training=False)
        else:
            out = layer(x, training=False)
        mask = layer.compute_mask(x, mask) if mask is not None else None
        x = out
    return x


def class_probability(tf, output, target):
    """The probability of class ``target`` (an int tensor) from a model output (a single sigmoid: two classes)."""
    if output.shape[-1] == 1:
        chosen = tf.cast(target, output.dtype)
        return chosen * output[:, 0] + (1.0 - chosen) * (1.0 - output[:, 0])
    return tf.gather(output, target, axis=1)


def _gradient_function(model):
    """A compiled (class probability, its gradient) along a path of embeddings, once per model.

    The time axis is left open, so any text length reuses the one trace (eager recurrent
    layers step in Python and are many times slower).
    """
    tf = textmodels._tf()

    def build():
        embedding, after = chain_after_embedding(model)
        spec = tf.TensorSpec([None, None, int(embedding.output_dim)], tf.float32)

        @tf.function(input_signature=[spec, tf.TensorSpec([], tf.int32)], reduce_retracing=True)
        def gradients(path, target):
            with tf.GradientTape() as tape:
                tape.watch(path)
                out = run_chain(after, path)
                probability = class_probability(tf, out, target)
            return out, probability, tape.gradient(probability, path)

        return gradients

    return loaded.per_model("gradient-function", model, build)


def _forward_function(model):
    """The model's own prediction, compiled once per model (texts of one model share the input shape)."""
    tf = textmodels._tf()

    def build():
        @tf.function(reduce_retracing=True)
        def forward(inputs):
            return model(inputs, training=False)

        return forward

    return loaded.per_model("forward-function", model, build)


def trapezoid_weights(steps: int) -> np.ndarray:
    """Weights of the ``steps + 1`` path points (alpha = 0 … 1) for the trapezoid rule."""
    weights = np.ones(steps + 1, dtype=np.float64)
    weights[0] = weights[-1] = 0.5
    return weights / steps


def integrated_gradients(
    model,
    inputs,
    ids: np.ndarray,
    words: list[str],
    target: int | None = None,
    steps: int = DEFAULT_STEPS,
) -> Attribution:
    """Integrated gradients of ``model`` on one text.

    ``inputs`` is what the model takes (token ids, or strings for a model with a
    TextVectorization layer); ``ids`` (1, T) the token ids reaching its Embedding
    layer (0 = padding), whose non-zero positions are ``words`` in order.
    """
    if not 4 <= steps <= 256:
        raise AttributionError(f"Integrated gradients take 4 to 256 steps (got {steps}).")
    tf = textmodels._tf()
    ids = np.asarray(ids).reshape(1, -1)
    positions = np.flatnonzero(ids[0] != 0)
    if len(positions) == 0:
        raise AttributionError("This text has no word the model knows, so there is nothing to attribute.")
    if len(positions) != len(words):
        raise AttributionError("The words and the token ids of this text do not line up.")
    embedding, after = chain_after_embedding(model)
    vectors = tf.cast(embedding(tf.constant(ids), training=False), tf.float32)[0]  # (T, d)
    if getattr(embedding, "mask_zero", False):
        x = tf.gather(vectors, positions)  # padding cut off: masked steps change nothing
        base = tf.zeros_like(x)
    else:
        x = vectors
        keep = np.zeros((ids.shape[1], 1), np.float32)
        keep[positions] = 1.0
        base = vectors * (1.0 - tf.constant(keep))  # words at zero, padding as it is
    own = textmodels.class_probabilities(np.asarray(_forward_function(model)(inputs)))[0]
    target = int(np.argmax(own)) if target is None else int(target)
    if not 0 <= target < len(own):
        raise AttributionError(f"There is no class {target} (the model has {len(own)}).")
    alphas = tf.constant(np.linspace(0.0, 1.0, steps + 1), dtype=tf.float32)[:, None, None]
    path = base[None] + alphas * (x - base)[None]  # (steps + 1, T', d)
    not_a_chain = AttributionError(
        "Attributions are computed through the layers after the Embedding layer in order; "
        "this model's layers do not form such a chain."
    )
    try:
        out, probability, gradients = _gradient_function(model)(path, tf.constant(target, tf.int32))
    except Exception as error:  # noqa: BLE001 - any layer that refuses the chained input
        raise not_a_chain from error
    chained = textmodels.class_probabilities(np.asarray(out)[-1:])[0]  # alpha = 1: the text itself
    if not np.allclose(own, chained, atol=CHAIN_TOLERANCE):
        raise not_a_chain
    gradients = np.asarray(gradients, dtype=np.float64)
    values = np.asarray(probability, dtype=np.float64)
    average = np.tensordot(trapezoid_weights(steps), gradients, axes=1)  # (T', d)
    per_position = (np.asarray(x - base, dtype=np.float64) * average).sum(axis=-1)
    scores = per_position if len(per_position) == len(words) else per_position[positions]
    return Attribution(
        words=list(words),
        scores=scores.astype(np.float32),
        target=target,
        prediction=float(values[-1]),
        baseline=float(values[0]),
        steps=steps,
    )


# ---------------------------------------------------------------- the app's models


def model_key(dataset: str) -> str:
    """The cache identity of the model behind ``dataset`` (its classifier key or its upload id)."""
    from model import byo, prepare

    if byo.is_upload(dataset):
        return dataset
    base, _variant = prepare.split_variant(dataset)
    return textmodels.classifier_key(base, prepare.model_config(dataset))


def attribute_text(dataset: str, text: str, steps: int = DEFAULT_STEPS) -> Attribution:
    """Integrated gradients of ``text`` under the model of ``dataset`` (built-in or uploaded); occlusion
    for an ONNX upload (no gradients there)."""
    from model import byo, byo_models

    if byo_models.is_onnx_upload(dataset):
        return byo_models.onnx_upload(dataset).occlusion(text)
    if byo.is_upload(dataset):
        spec, model = byo.upload_model(dataset)  # the what-if's loaded model
        vocabulary = byo.read_vocabulary(spec.vocab_path) if spec.vocab_path else None
        inputs, ids, [words] = byo.encode_for_model(model, [text], vocabulary, spec.max_len)
    else:
        classifier, model = loaded.classifier(dataset), loaded.keras_model(dataset)
        ids, [words] = textmodels.encode([text], classifier.vocabulary, classifier.config.max_len)
        inputs = ids
    return integrated_gradients(model, inputs, ids, words, steps=steps)


def ep_change(ep: np.ndarray, target: int) -> np.ndarray:
    """Each word's change of the target class's EP (the first word: from the uniform 1 / n_classes)."""
    ep = np.asarray(ep, dtype=np.float64)
    if not len(ep):
        return np.zeros(0)
    column = ep[:, target]
    return np.diff(column, prepend=1.0 / ep.shape[1])


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their average rank."""
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    _unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]


def rank_agreement(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation of two per-word scores (None when undefined)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 3 or len(a) != len(b):
        return None
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])
