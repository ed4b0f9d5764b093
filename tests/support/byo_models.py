"""Small user models and CSVs built in the tests (no files committed)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

POSITIVE = ["good", "great", "lovely", "wonderful", "superb", "fine", "nice", "excellent"]
NEGATIVE = ["bad", "awful", "poor", "terrible", "boring", "dull", "weak", "horrible"]
FILLER = ["the", "movie", "plot", "was", "and", "it", "a", "very", "really", "acting", "story"]


def sentiment_texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short texts whose label follows the sentiment words they contain."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        positive = i % 2 == 0
        words = list(rng.choice(FILLER, size=rng.integers(3, 9)))
        cue = POSITIVE if positive else NEGATIVE
        for _ in range(rng.integers(1, 3)):
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cue)))
        texts.append(" ".join(words))
        labels.append("pos" if positive else "neg")
    return texts, labels


def write_csv(
    path: Path, texts: list[str], labels: list, text_col: str = "review", label_col: str = "sentiment"
) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([text_col, label_col])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def gru_vectorizer_model(path: Path, texts: list[str], labels: list[str], epochs: int = 8) -> Path:
    """A GRU classifier with a TextVectorization layer inside, trained briefly and saved."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(1)
    vectorizer = keras.layers.TextVectorization(max_tokens=200, output_sequence_length=16, name="vectorize")
    vectorizer.adapt(np.array(texts))
    inputs = keras.Input(shape=(1,), dtype="string")
    x = vectorizer(inputs)
    x = keras.layers.Embedding(200, 8, mask_zero=True)(x)
    x = keras.layers.GRU(12, name="gru")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy")
    y = np.array([label == "pos" for label in labels], dtype="float32")
    model.fit(tf.constant(texts)[:, None], y, epochs=epochs, batch_size=32, verbose=0)
    model.save(path)
    return path


def lambda_model(path: Path) -> Path:
    import keras

    inputs = keras.Input(shape=(5,))
    x = keras.layers.Lambda(lambda t: t * 2)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    model.save(path)
    return path


def dense_model(path: Path) -> Path:
    import keras

    model = keras.Sequential(
        [
            keras.Input((10,), dtype="int32"),
            keras.layers.Embedding(50, 4),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.save(path)
    return path


def token_id_model(path: Path, vocab_size: int, max_len: int = 8) -> Path:
    """An untrained token-id classifier: Embedding(vocab_size) → LSTM "lstm_a" → GRU "gru_b" → sigmoid."""
    import keras

    keras.utils.set_random_seed(2)
    inputs = keras.Input((max_len,), dtype="int32")
    x = keras.layers.Embedding(vocab_size, 4, mask_zero=True)(inputs)
    x = keras.layers.LSTM(4, return_sequences=True, name="lstm_a")(x)
    x = keras.layers.GRU(4, name="gru_b")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.save(path)
    return path


def two_lstm_model(path: Path, vocab_size: int, max_len: int = 12) -> Path:
    """An untrained token-id classifier with two LSTM layers of different widths ("lstm_wide" 6 units,
    then "lstm_narrow" 4 units) → sigmoid."""
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((max_len,), dtype="int32")
    x = keras.layers.Embedding(vocab_size, 4, mask_zero=True)(inputs)
    x = keras.layers.LSTM(6, return_sequences=True, name="lstm_wide")(x)
    x = keras.layers.LSTM(4, name="lstm_narrow")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.save(path)
    return path


def float_input_model(path: Path) -> Path:
    """A recurrent model on float feature sequences: no Embedding, no TextVectorization."""
    import keras

    inputs = keras.Input((8, 3))
    x = keras.layers.LSTM(4, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.save(path)
    return path


def write_vocabulary(path: Path, texts: list[str]) -> tuple[Path, int]:
    """One token per line ("[PAD]", "[UNK]", then every word of ``texts``); (path, number of ids)."""
    tokens = ["[PAD]", "[UNK]", *sorted({word for text in texts for word in text.lower().split()})]
    path.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return path, len(tokens)
