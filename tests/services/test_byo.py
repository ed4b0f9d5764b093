"""Bring your own model and data: the CLI on a GRU with TextVectorization, what-if, and every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import byo, prepare, whatif
from tests.support.byo_models import (
    dense_model,
    gru_vectorizer_model,
    lambda_model,
    sentiment_texts,
    write_csv,
)
from tests.support.servers import ROOT


@pytest.fixture(scope="module")
def user_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("byo")
    texts, labels = sentiment_texts(300)
    return {
        "model": gru_vectorizer_model(folder / "gru.keras", texts, labels),
        "csv": write_csv(folder / "reviews.csv", texts, labels),
        "folder": folder,
    }


@pytest.fixture(scope="module")
def prepared(user_files: dict[str, Path]) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "model.prepare",
            "--model",
            str(user_files["model"]),
            "--csv",
            str(user_files["csv"]),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.heavy
def test_cli_prepares_a_user_gru_with_text_vectorization(prepared: dict) -> None:
    assert prepared["dataset"].startswith("upload-")
    assert prepared["classes"] == ["neg", "pos"]
    assert prepared["n_sequences"] == 300
    assert prepared["cell_type"] == "gru"
    assert prepared["test_accuracy"] > 0.9  # the cue words make this easy


@pytest.mark.heavy
def test_ep_at_last_step_equals_the_user_models_prediction(
    prepared: dict, user_files: dict[str, Path]
) -> None:
    import keras
    import tensorflow as tf

    analysis = prepare.load_analysis(prepared["dataset"])
    model = keras.saving.load_model(user_files["model"])
    predicted = np.asarray(model(tf.constant(analysis.texts)[:, None]))[:, 0]
    last = analysis.offsets[1:] - 1
    np.testing.assert_allclose(analysis.ep[last, 1], predicted, atol=1e-5)
    assert analysis.words[0] == analysis.texts[0].lower().split()[: len(analysis.words[0])]


@pytest.mark.heavy
def test_what_if_trajectory_equals_the_pipeline(prepared: dict) -> None:
    dataset = prepared["dataset"]
    analysis = prepare.load_analysis(dataset)
    points = prepare.load_projection(dataset, "pca")
    k = 7
    typed = whatif.analyse_text(dataset, analysis.texts[k], method="pca")
    rows = analysis.rows(k)
    assert typed.words == analysis.words[k]
    np.testing.assert_allclose(typed.ep, analysis.ep[rows], atol=1e-5)
    np.testing.assert_allclose(typed.distance, analysis.distance[rows], atol=1e-5)
    np.testing.assert_allclose(typed.points, points[rows], atol=1e-4)


@pytest.mark.heavy
def test_what_if_on_builtin_classifier_matches_extraction(test_cache_dir: Path) -> None:
    os.environ["RNNX_PROFILE"] = "quick"
    try:
        prepare.prepare("reuters", "pca", 30)
        analysis = prepare.load_analysis("reuters", 30)
        points = prepare.load_projection("reuters", "pca", 30)
        for k in (0, 11):
            typed = whatif.analyse_text("reuters", analysis.texts[k], method="pca", n_sequences=30)
            rows = analysis.rows(k)
            assert typed.words == analysis.words[k]
            np.testing.assert_allclose(typed.ep, analysis.ep[rows], atol=1e-5)
            np.testing.assert_allclose(typed.points, points[rows], atol=1e-4)
    finally:
        os.environ.pop("RNNX_PROFILE", None)


def test_lambda_layer_is_refused_by_safe_mode(tmp_path: Path) -> None:
    with pytest.raises(byo.InputError, match="Lambda layer"):
        byo.load_model(lambda_model(tmp_path / "lambda.keras"))


def test_model_without_recurrent_layer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(byo.InputError, match="no recurrent layer"):
        byo.load_model(dense_model(tmp_path / "dense.keras"))


def test_not_a_keras_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(byo.InputError, match="not a readable Keras model"):
        byo.load_model(path)


def test_labels_that_do_not_match_the_outputs(user_files: dict[str, Path], tmp_path: Path) -> None:
    texts, _ = sentiment_texts(30)
    csv_path = write_csv(tmp_path / "three.csv", texts, ["a", "b", "c"] * 10)
    with pytest.raises(byo.InputError, match="3 classes .* 2 outputs"):
        prepare.prepare_upload(user_files["model"], csv_path)


def test_csv_errors_have_specific_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(byo.InputError, match="not UTF-8"):
        byo.read_csv("text,label\ncafé au lait,1\n".encode("latin-1"))
    with pytest.raises(byo.InputError, match="empty"):
        byo.read_csv(b"")
    with pytest.raises(byo.InputError, match="no rows"):
        byo.read_csv(b"text,label\n")
    with pytest.raises(byo.InputError, match="no column 'body'"):
        byo.read_csv(b"text,label\nhello,1\n", text_column="body")
    monkeypatch.setenv("RNNX_UPLOAD_LIMIT_MB", "0.001")
    with pytest.raises(byo.InputError, match="more than the limit"):
        byo.read_csv(b"text,label\n" + b"word,1\n" * 400)


def test_labels_from_strings_integers_and_a_given_list() -> None:
    labels, names = byo.encode_labels(["pos", "neg", "pos"])
    assert names == ["neg", "pos"] and labels.tolist() == [1, 0, 1]
    labels, names = byo.encode_labels([0, 2, 1])
    assert names == ["class 0", "class 1", "class 2"]
    labels, names = byo.encode_labels(["pos", "neg"], ["pos", "neg"])
    assert labels.tolist() == [0, 1]
    data = byo.read_csv(b"review,sentiment\ngood film,pos\nbad film,neg\n")
    assert (data.text_column, data.label_column) == ("review", "sentiment")
