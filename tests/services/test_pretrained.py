"""The shipped pretrained default classifiers (model/pretrained/) and the warm-up of `python app.py`."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from model import cache, datasets, pretrained, pretrained_checkpoints, textmodels
from tests.support.servers import ROOT

SHARED_DATA = ROOT.parent / "shared" / "data"
FLOORS = {"imdb": 0.85, "reuters": 0.93}


def archive_sums() -> dict[str, str]:
    sums = SHARED_DATA / "SHA256SUMS"
    if not sums.exists():
        return {}
    return {name: digest for digest, name in (line.split() for line in sums.read_text().splitlines() if line)}


@pytest.fixture()
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNX_PROFILE", raising=False)
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    return tmp_path / "cache"


def fake_trainer(calls: list) -> callable:
    """Stands in for the real (minutes-long) training: records the call, returns a tiny classifier."""

    def train(dataset, config, on_batch):
        calls.append((dataset, config))
        return textmodels.TrainedClassifier(
            dataset, config, ["a", "b"], textmodels.Vocabulary(["x"]), [], 0.5, {}, [[]]
        )

    return train


# ---------------------------------------------------------------- the shipped files


@pytest.mark.parametrize("dataset", pretrained.DATASETS)
def test_shipped_files_match_their_manifest(dataset: str) -> None:
    info = pretrained.manifest(dataset)
    assert info is not None, f"model/pretrained/{dataset}.json is missing"
    assert pretrained.verify(dataset, info) is None
    assert textmodels.ModelConfig(**info["config"]) == textmodels.DEFAULT_CONFIGS[dataset]
    assert info["trainer_version"] == textmodels.TRAINER_VERSION
    assert info["test_accuracy"] >= FLOORS[dataset]
    assert info["archive"] == datasets.ARCHIVES[dataset]
    assert info["data_sha256"] == pretrained.data_digest(dataset)
    if info["archive"] in archive_sums():
        assert info["archive_sha256"] == archive_sums()[info["archive"]]
    assert {"keras", "tensorflow"} <= info["versions"].keys()
    size = sum(path.stat().st_size for path in pretrained.files(dataset).values())
    assert size < 3.5 * 2**20
    # the training epochs shipped beside them
    assert pretrained_checkpoints.verify(dataset, info) is None
    assert pretrained_checkpoints.path(dataset).stat().st_size < 3.5 * 2**20
    assert pretrained.main() == 0


def test_loading_needs_no_tensorflow(tmp_path: Path) -> None:
    code = """
import sys
from model import pretrained, textmodels
config = textmodels.DEFAULT_CONFIGS["imdb"]
shipped = pretrained.load("imdb", config)
assert shipped is not None and shipped.origin == "pretrained" and shipped.checkpoints == []
first = textmodels.obtain_classifier("imdb", config)
second = textmodels.obtain_classifier("imdb", config)
assert [w.dtype.name for w in first[0].weights] == ["float32"] * len(first[0].weights)
print(first[1], second[1], "tensorflow" in sys.modules, "keras" in sys.modules)
"""
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("RNNX_PROFILE", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["pretrained", "cache", "False", "False"]


def test_a_tampered_file_is_refused_with_a_warning_and_training_takes_over(
    tmp_path: Path, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "pretrained"
    shutil.copytree(pretrained.DIRECTORY, folder)
    weights = folder / "reuters.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    config = textmodels.DEFAULT_CONFIGS["reuters"]
    with caplog.at_level(logging.WARNING, logger="rnnx.pretrained"):
        assert pretrained.load("reuters", config, folder) is None
    assert "reuters.npz fails its checksum" in caplog.text
    assert "--export-pretrained" in caplog.text

    (folder / "imdb.vocab.txt").unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rnnx.pretrained"):
        assert pretrained.load("imdb", textmodels.DEFAULT_CONFIGS["imdb"], folder) is None
    assert "imdb.vocab.txt is missing" in caplog.text

    calls: list = []
    monkeypatch.setattr(pretrained, "DIRECTORY", folder)
    monkeypatch.setattr(textmodels, "_train", fake_trainer(calls))
    classifier, source = textmodels.obtain_classifier("reuters", config)
    assert source == "trained" and calls == [("reuters", config)] and classifier.origin == "trained"


@pytest.mark.heavy
def test_shipped_files_are_used_only_for_exactly_their_config(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from model import prepare

    config = textmodels.DEFAULT_CONFIGS["reuters"]
    assert pretrained.matches("reuters", config)
    assert prepare.model_config("reuters") == config
    assert textmodels.classifier_plan("reuters", config) == "pretrained"
    assert not pretrained.matches("reuters", replace(config, seed=config.seed + 1))
    assert not pretrained.matches("reuters", replace(config, cell_type="gru"))
    assert not pretrained.matches("imdb", config)
    monkeypatch.setenv("RNNX_PROFILE", "quick")
    assert not pretrained.matches("reuters", prepare.model_config("reuters"))
    monkeypatch.delenv("RNNX_PROFILE")
    with monkeypatch.context() as patched:
        # Another archive (the public download carries extra files) holding the same data: used.
        patched.setattr(datasets, "fingerprint", lambda name: "0" * 64)
        assert pretrained.matches("reuters", config)
        # Another archive with other data: not used.
        patched.setattr(pretrained, "data_digest", lambda name: "f" * 64)
        why = pretrained.mismatch("reuters", config, pretrained.manifest("reuters"))
        assert why == "the dataset differs from the one they were trained on"
        assert pretrained.load("reuters", config) is None
    with monkeypatch.context() as patched:
        patched.setattr(textmodels, "TRAINER_VERSION", textmodels.TRAINER_VERSION + 1)
        assert not pretrained.matches("reuters", config)

    calls: list = []
    monkeypatch.setattr(textmodels, "_train", fake_trainer(calls))
    other = replace(config, seed=1)
    assert textmodels.obtain_classifier("reuters", other)[1] == "trained"
    assert calls == [("reuters", other)]


def test_cache_then_shipped_files_then_training_and_retrain_replaces(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = textmodels.DEFAULT_CONFIGS["reuters"]
    calls: list = []
    monkeypatch.setattr(textmodels, "_train", fake_trainer(calls))
    first, source = textmodels.obtain_classifier("reuters", config)
    assert source == "pretrained" and first.origin == "pretrained" and calls == []
    assert cache.get(textmodels.classifier_key("reuters", config)).origin == "pretrained"
    assert textmodels.classifier_plan("reuters", config) == "cache"
    assert textmodels.obtain_classifier("reuters", config)[1] == "cache"
    assert textmodels.train_classifier("reuters", config)[1] is True  # not trained: (it, was_cached)
    retrained, source = textmodels.obtain_classifier("reuters", config, retrain=True)
    assert source == "trained" and len(calls) == 1
    assert cache.get(textmodels.classifier_key("reuters", config)).origin == "trained"
    assert textmodels.obtain_classifier("reuters", config)[1] == "cache"


CHECKPOINT_TEXTS = {
    "imdb": ["a fine film with a wonderful cast", "the plot was dull and the acting awful", "not bad at all"],
    "reuters": [
        "oil prices rose as opec cut crude output",
        "the company reported net profit up",
        "wheat exports",
    ],
}


@pytest.mark.parametrize("dataset", pretrained.DATASETS)
def test_the_checkpoint_view_draws_the_shipped_classifiers_training(
    dataset: str, fresh_cache: Path, page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped classifier (from the files, no TensorFlow) brings its epochs; the compare card draws them."""
    from components.cards import analytics_whatif_card
    from model import loaded, memo, projection, whatif
    from services import analysis as analysis_service

    memo.forget()
    config = textmodels.DEFAULT_CONFIGS[dataset]
    shipped, source = textmodels.obtain_classifier(dataset, config)  # into the cache, as a preparation does
    assert source == "pretrained" and shipped.checkpoints == []
    epochs = pretrained_checkpoints.load(shipped)
    assert [epoch for epoch, _ in epochs] == pretrained_checkpoints.kept_epochs(config.epochs)
    assert epochs[-1][1] is shipped.weights  # the last epoch is the shipped model itself
    # a real PCA of the shipped model's states stands in for the prepared projection (minutes to prepare)
    hidden = np.concatenate([whatif.classifier_states(shipped, t)[1] for t in CHECKPOINT_TEXTS[dataset]])
    _points, projector = projection.fit(hidden, "pca", seed=0)
    monkeypatch.setattr(loaded, "projector", lambda *_args: projector)

    text = CHECKPOINT_TEXTS[dataset][0]
    drawn = analytics_whatif_card.show_checkpoints("typed", None, text, "checkpoints", dataset, "pca", True)
    titles = [a["text"] for a in drawn["figure"]["layout"]["annotations"]]
    kept = pretrained_checkpoints.kept_epochs(config.epochs)
    assert [t.split("<br>")[0] for t in titles] == [f"epoch {e}" for e in kept]
    recorded = shipped.history["test_accuracy"]
    assert [t.split("<br>")[1].split(" · ")[0] for t in titles] == [
        f"acc {recorded[e - 1]:.0%}" for e in kept
    ]
    assert f"epochs {', '.join(map(str, kept))} of {config.epochs}" in drawn["note"]
    paths = [trace for trace in drawn["figure"]["data"] if trace.get("mode") == "lines+markers"]
    assert len(paths) == len(kept) and all(len(trace["x"]) == len(text.split()) for trace in paths)
    # training moved the path: the first epoch's is not the final model's, which is the analysed one
    runs = analysis_service.checkpoint_trajectories(dataset, text, "pca")
    final = whatif.classifier_states(shipped, text)[2]
    np.testing.assert_allclose(runs[-1].ep, final, atol=1e-6)
    assert np.abs(runs[0].ep - final).max() > 0.01


def test_checkpoints_that_belong_to_other_weights_are_refused_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from model import compare, loaded, memo

    folder = tmp_path / "pretrained"
    shutil.copytree(pretrained.DIRECTORY, folder)
    shipped = pretrained.load("imdb", textmodels.DEFAULT_CONFIGS["imdb"], folder)
    assert pretrained_checkpoints.load(shipped, folder)
    assert (
        pretrained_checkpoints.load(replace(shipped, weights=[w + 1 for w in shipped.weights]), folder)
        is None
    )
    stored = pretrained_checkpoints.path("imdb", folder)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    memo.forget("shipped-checkpoints")  # the files are read once per process: a new process
    with caplog.at_level(logging.WARNING, logger="rnnx.pretrained"):
        assert pretrained_checkpoints.load(shipped, folder) is None
    assert "imdb.checkpoints.npz fails its checksum" in caplog.text
    monkeypatch.setattr(pretrained, "DIRECTORY", folder)
    monkeypatch.setattr(loaded, "classifier", lambda dataset: shipped)
    with pytest.raises(LookupError, match=r"python -m model.prepare --dataset imdb --retrain"):
        compare.checkpoint_trajectories("imdb~all", "a fine film", "pca")


@pytest.mark.heavy
def test_cli_summary_says_where_the_classifier_came_from(tmp_path: Path) -> None:
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("RNNX_PROFILE", None)
    command = [sys.executable, "-m", "model.prepare", "--dataset", "reuters", "--sequences", "40", "--json"]
    sources = []
    for _ in range(2):
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        sources.append(summary["classifier_source"])
        assert summary["test_accuracy"] >= FLOORS["reuters"]
    assert sources == ["pretrained", "cache"]
    assert "Loading the pretrained classifier" in result.stderr or "Loading the classifier" in result.stderr
    refused = subprocess.run(
        [*command[:5], "--export-pretrained"],
        cwd=ROOT,
        env={**env, "RNNX_PROFILE": "quick"},
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "default LSTM classifiers only" in refused.stderr


# ---------------------------------------------------------------- warm-up of `python app.py`


def test_warmup_is_on_by_default_for_app_py_and_off_by_choice_or_in_demo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from serving import settings

    monkeypatch.delenv("RNNX_WARMUP", raising=False)
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    assert settings.warmup_enabled(default=True)
    assert not settings.warmup_enabled()  # a bare gunicorn: only with RNNX_WARMUP=1 (the image sets it)
    monkeypatch.setenv("RNNX_WARMUP", "0")
    assert not settings.warmup_enabled(default=True)
    monkeypatch.setenv("RNNX_WARMUP", "1")
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")
    assert not settings.warmup_enabled(default=True)


@pytest.mark.heavy
def test_app_py_warms_up_in_a_low_priority_process_that_stops_with_it(tmp_path: Path) -> None:
    import psutil

    from tests.support.servers import free_port, start_server, stop_server, wait_for

    port = free_port()
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "RNNX_CACHE_DIR": str(cache_dir)}
    env.update(RNNX_WARMUP_DATASETS="reuters,no-such-dataset")
    for name in ("RNNX_WARMUP", "RNNX_DEMO_MODE", "RNNX_PROFILE"):
        env.pop(name, None)
    proc = start_server([sys.executable, "app.py"], env, port)
    status_file = cache_dir / "warmup-status.json"
    try:
        deadline = time.monotonic() + 60
        while not status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        status = json.loads(status_file.read_text())
        assert status["datasets"] == ["reuters", "no-such-dataset"]
        runner = psutil.Process(status["pid"])
        assert runner.nice() >= 10
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=5)  # the server answers meanwhile
    finally:
        stop_server(proc)
    deadline = time.monotonic() + 20
    while runner.is_running() and runner.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not runner.is_running() or runner.status() == psutil.STATUS_ZOMBIE


# ---------------------------------------------------------------- accuracy (Keras)


@pytest.mark.parametrize(
    "dataset",
    # IMDB: 25,000 reviews through Keras, about 70 s on two busy cores; Reuters about 15 s.
    [pytest.param("imdb", marks=pytest.mark.slow), "reuters"],
)
def test_shipped_model_reaches_the_papers_accuracy_on_the_whole_test_split(dataset: str) -> None:
    shipped = pretrained.load(dataset, textmodels.DEFAULT_CONFIGS[dataset])
    assert shipped is not None
    accuracy = pretrained.evaluate(shipped)
    assert accuracy >= FLOORS[dataset]
    assert accuracy == pytest.approx(pretrained.manifest(dataset)["test_accuracy"], abs=0.002)


@pytest.mark.heavy
def test_cli_retrain_trains_anew_and_replaces_the_cache_entry(tmp_path: Path) -> None:
    """The quick profile (never the shipped files): trained, then --retrain trains again, then a cache hit."""
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path / "cache"), "RNNX_PROFILE": "quick"}
    base = [sys.executable, "-m", "model.prepare", "--dataset", "reuters", "--sequences", "20", "--json"]
    seen = []
    for extra in ([], ["--retrain"], []):
        result = subprocess.run(
            [*base, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        seen.append((summary["classifier_source"], summary["cached"]))
    assert seen == [("trained", False), ("trained", False), ("cache", True)]
