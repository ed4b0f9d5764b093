"""Prepared sets stored for scale (issue 12): memory-mapped compact arrays, 'all', prefixes, demo mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import arrays, prepare, projection, storage
from tests.support.byo_models import gru_vectorizer_model, sentiment_texts, write_csv
from tests.support.servers import ROOT

# Several real (quick-profile) preparations: minutes on two cores, so outside CI's default run.
pytestmark = pytest.mark.slow


@pytest.fixture()
def quick(test_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RNNX_PROFILE", "quick")
    return test_cache_dir


def test_states_are_memory_mapped_compact_arrays_in_the_cache_folder(quick: Path) -> None:
    prepare.prepare("reuters", "pca", 25)
    analysis = prepare.load_analysis("reuters", 25)
    states = prepare.load_states("reuters", 25)
    points = prepare.load_projection("reuters", "pca", 25)
    hidden, cell = states["hidden"], states["cell"]
    assert isinstance(hidden, np.memmap) and hidden.dtype == np.float16 and cell.dtype == np.float16
    assert hidden.shape == cell.shape == (analysis.n_states, analysis.summary["units"])
    assert isinstance(analysis.ep, np.memmap) and analysis.ep.dtype == np.float32
    assert analysis.distance.dtype == np.float32 and len(analysis.distance) == analysis.n_states
    assert (
        isinstance(points, np.memmap)
        and points.dtype == np.float32
        and points.shape == (analysis.n_states, 2)
    )
    assert isinstance(analysis.texts, list) and isinstance(analysis.words[0], list)
    assert analysis.labels.dtype == np.int64 and analysis.offsets.dtype == np.int64
    keys = prepare._keys("reuters", 25, "pca")
    for kind in ("analysis", "states", "projection"):
        assert storage.folder(keys[kind]).parent == quick / "arrays"
    assert prepare.is_prepared("reuters", "pca", 25) and not prepare.is_prepared("reuters", "tsne", 25)
    # No scratch or temporary folder is left behind by a finished preparation.
    assert not [p.name for p in (quick / "arrays").iterdir() if p.name.startswith(".")]


def test_a_prefix_of_a_larger_set_equals_extracting_it(quick: Path) -> None:
    prepare.prepare("reuters", "pca", 12)
    fresh = prepare.load_analysis("reuters", 12)
    fresh_hidden = np.array(prepare.load_states("reuters", 12)["hidden"])
    small = prepare._keys("reuters", 12)
    for kind in ("analysis", "states"):
        arrays.delete(small[kind])
    prepare.prepare("reuters", "pca", 30)
    assert storage.copy_prefix(prepare._keys("reuters", 30), small, 12)
    copied = prepare.load_analysis("reuters", 12)
    assert copied.words == fresh.words and copied.texts == fresh.texts
    np.testing.assert_array_equal(copied.offsets, fresh.offsets)
    # Equal up to float rounding: Keras runs a batch of 12 or of 30 sequences.
    np.testing.assert_allclose(copied.ep, fresh.ep, atol=1e-5)
    np.testing.assert_array_equal(copied.predicted, fresh.predicted)
    np.testing.assert_allclose(prepare.load_states("reuters", 12)["hidden"], fresh_hidden, atol=2e-3)
    assert copied.summary["n_hidden_states"] == fresh.n_states
    assert copied.summary["max_distance"] == pytest.approx(float(fresh.distance.max()), abs=1e-5)


def test_demo_mode_serves_what_is_prepared_and_computes_nothing(quick: Path, monkeypatch) -> None:
    prepare.prepare("reuters", "pca", 25)
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")
    summary = prepare.prepare("reuters", "pca", 25)
    assert summary["cached"] is True
    assert prepare.load_analysis("reuters", 25).n_sequences == 25
    with pytest.raises(prepare.PrepareError, match="read-only"):
        prepare.prepare("reuters", "tsne", 25)


def test_sequences_all_for_an_upload_and_a_number_is_refused(tmp_path: Path) -> None:
    texts, labels = sentiment_texts(40)
    model = gru_vectorizer_model(tmp_path / "gru.keras", texts, labels, epochs=1)
    csv = write_csv(tmp_path / "reviews.csv", texts, labels)
    base = [sys.executable, "-m", "model.prepare", "--model", str(model), "--csv", str(csv), "--json"]
    run = dict(cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), timeout=600)
    result = subprocess.run([*base, "--sequences", "all"], **run)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["n_sequences"] == 40
    assert prepare.load_states(summary["dataset"])["hidden"].dtype == np.float16
    refused = subprocess.run([*base, "--sequences", "10"], **run)
    assert refused.returncode == 2 and "every row of its CSV" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_every_projection_parameter_is_part_of_the_key(quick: Path, monkeypatch) -> None:
    before = prepare._keys("reuters", 25, "umap")
    monkeypatch.setitem(
        projection.DEFAULT_PARAMS, "umap", {**projection.DEFAULT_PARAMS["umap"], "max_points": 50_000}
    )
    sampled = prepare._keys("reuters", 25, "umap")
    monkeypatch.setattr(prepare, "projection_seed", lambda dataset: 123)
    seeded = prepare._keys("reuters", 25, "umap")
    assert len({before["projection"], sampled["projection"], seeded["projection"]}) == 3
    assert len({before["projector"], sampled["projector"], seeded["projector"]}) == 3
    assert before["states"] == sampled["states"] == seeded["states"]  # the states stay shared
