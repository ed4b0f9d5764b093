"""The prepare pipeline and its CLI contract, on real data with the quick profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import prepare
from tests.support.servers import ROOT

CONTRACT_FIELDS = {
    "dataset",
    "classes",
    "test_accuracy",
    "n_sequences",
    "n_hidden_states",
    "projection",
    "seconds",
    "cached",
}


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model.prepare", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="module")
def quick(test_cache_dir: Path) -> None:
    os.environ["RNNX_PROFILE"] = "quick"
    yield
    os.environ.pop("RNNX_PROFILE", None)


@pytest.mark.heavy
def test_cli_fills_the_cache_then_hits_it(quick: None) -> None:
    first = run_cli("--dataset", "reuters", "--projection", "pca", "--sequences", "60", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary.keys() >= CONTRACT_FIELDS
    assert summary["dataset"] == "reuters" and summary["n_sequences"] == 60
    assert summary["classes"] == ["earn", "acquisition", "crude-oil", "grain", "money-fx"]
    assert summary["cached"] is False
    assert {"dataset", "train", "extract", "project"} <= summary["seconds"].keys()
    assert "Extracting hidden states" in first.stderr  # tqdm bars

    analysis = prepare.load_analysis("reuters", 60)
    points = prepare.load_projection("reuters", "pca", 60)
    assert analysis.n_states == summary["n_hidden_states"] == len(points)

    second = run_cli("--dataset", "reuters", "--projection", "pca", "--sequences", "60", "--json")
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert again["cached"] is True
    np.testing.assert_array_equal(prepare.load_projection("reuters", "pca", 60), points)
    np.testing.assert_array_equal(prepare.load_analysis("reuters", 60).ep, analysis.ep)


@pytest.mark.heavy
def test_analysis_is_consistent_with_the_model(quick: None) -> None:
    from model import datasets, textmodels

    prepare.prepare("reuters", "pca", 40)
    analysis = prepare.load_analysis("reuters", 40)
    classifier = prepare.load_classifier("reuters")
    texts = datasets.load("reuters").test.texts[:40]
    ids, words = textmodels.encode(texts, classifier.vocabulary, classifier.config.max_len)
    probabilities = textmodels.class_probabilities(classifier.keras_model().predict(ids, verbose=0))
    last = analysis.offsets[1:] - 1
    np.testing.assert_allclose(analysis.ep[last], probabilities, atol=1e-5)
    assert analysis.predicted.tolist() == probabilities.argmax(axis=1).tolist()
    assert [len(w) for w in analysis.words] == np.diff(analysis.offsets).tolist()
    assert analysis.words == words


@pytest.mark.heavy
def test_progress_reaches_the_caller_of_the_subprocess(quick: None) -> None:
    seen: list[tuple[float, str]] = []
    summary = prepare.run_prepare_subprocess("reuters", "umap", 30, lambda f, s: seen.append((f, s)))
    assert summary["projection"] == "umap" and summary["n_sequences"] == 30
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert any("UMAP" in stage for _, stage in seen)


def test_missing_archive_is_a_readable_error(tmp_path: Path) -> None:
    env = {"RNNX_DATA_DIR": str(tmp_path), "RNNX_CACHE_DIR": str(tmp_path / "c"), "RNNX_OFFLINE": "1"}
    result = run_cli("--dataset", "imdb", "--json", env=env)
    assert result.returncode == 2
    assert "aclImdb_v1.tar.gz not found" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(prepare.PrepareError, match="aclImdb_v1.tar.gz"):
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            prepare.run_prepare_subprocess("imdb", "pca", 10)
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.mark.slow
def test_default_reuters_pipeline_reaches_the_papers_accuracy() -> None:
    result = run_cli("--dataset", "reuters", "--json", env={"RNNX_PROFILE": "full"})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["test_accuracy"] >= 0.93
    assert summary["n_sequences"] == 2300


@pytest.mark.heavy
def test_checkpoints_and_cell_type_variants(quick: None) -> None:
    from model import compare, whatif

    summary = prepare.prepare("reuters@gru", "pca", 20)
    assert summary["dataset"] == "reuters" and summary["dataset_id"] == "reuters@gru"
    assert summary["cell_type"] == "gru"
    gru = prepare.load_classifier("reuters@gru")
    assert gru.config.cell_type == "gru"
    assert prepare.model_config("reuters").cell_type == "lstm"
    assert len(gru.checkpoints) == gru.config.epochs == len(gru.history["test_accuracy"])
    analysis = prepare.load_analysis("reuters@gru", 20)
    trajectories = compare.checkpoint_trajectories("reuters@gru", analysis.texts[3], "pca", 20)
    # The last checkpoint is the final model: its trajectory is the analysed one.
    final = trajectories[-1]
    np.testing.assert_allclose(final.ep, analysis.ep[analysis.rows(3)], atol=1e-5)
    np.testing.assert_allclose(
        final.points, prepare.load_projection("reuters@gru", "pca", 20)[analysis.rows(3)], atol=1e-4
    )
    assert whatif.analyse_text("reuters@gru", "oil prices rise").words == ["oil", "prices", "rise"]


@pytest.mark.heavy
def test_cli_cell_type_prepares_the_variant(quick: None) -> None:
    result = run_cli("--dataset", "reuters", "--cell-type", "gru", "--sequences", "15", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["dataset_id"] == "reuters@gru" and summary["cell_type"] == "gru"
    seen: list[float] = []
    assert (
        prepare.run_prepare_subprocess("reuters@gru", "pca", 15, lambda f, s: seen.append(f))["cell_type"]
        == "gru"
    )
