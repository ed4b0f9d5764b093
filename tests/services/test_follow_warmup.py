"""A visitor's preparation follows the server's warm-up instead of running a second one beside it."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from model import config
from services import analysis as service
from serving import warmup


def _write_status(**fields) -> None:
    status = {"running": True, "pid": os.getpid(), "datasets": ["imdb", "reuters"], "done": {}, **fields}
    temporary = warmup.status_path().with_suffix(".tmp")  # replaced whole, as the warm-up does
    temporary.write_text(json.dumps(status), encoding="utf-8")
    os.replace(temporary, warmup.status_path())


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    config.cache_dir().mkdir(parents=True, exist_ok=True)
    return tmp_path


def test_the_job_reports_the_warm_ups_progress_and_returns_when_it_is_done(cache_dir, monkeypatch):
    seen: list[tuple[float, str]] = []
    monkeypatch.setattr(service, "is_prepared", lambda dataset, method: dataset == "reuters")
    _write_status(current="imdb", stage="Extracting hidden states", fraction=0.4)

    def warm_up_goes_on() -> None:
        time.sleep(0.3)
        _write_status(current="reuters", stage="Projecting with PCA", fraction=0.9)
        time.sleep(0.3)
        counts = {"n_sequences": 2300, "n_hidden_states": 163236}
        _write_status(current=None, done={"reuters": {"ok": True, "seconds": 12.5, **counts}})

    threading.Thread(target=warm_up_goes_on, daemon=True).start()
    result = service.follow_warmup(
        "reuters", "pca", lambda f, label: seen.append((f, label)), poll_seconds=0.05
    )
    assert result == {
        "n_sequences": 2300,
        "n_hidden_states": 163236,
        "seconds": {"total": 12.5},
        "followed_warmup": True,
    }
    labels = [label for _f, label in seen]
    assert any("finish imdb" in label for label in labels)  # waiting behind the dataset before it
    assert (0.9, "Projecting with PCA (server warm-up)") in seen


def test_no_warm_up_or_another_analysis_means_the_job_prepares_it_itself(cache_dir):
    never = lambda f, label: pytest.fail("no progress expected")  # noqa: E731
    assert service.follow_warmup("reuters", "pca", never) is None  # no warm-up ran with this cache
    _write_status(current="imdb")
    assert service.follow_warmup("imdb", "umap", never) is None  # this warm-up prepares PCA only
    assert service.follow_warmup("imdb~all", "pca", never) is None  # not in its list
    _write_status(current="imdb", pid=2**22 + 12345)  # its process is gone
    assert service.follow_warmup("imdb", "pca", never) is None


def test_a_failed_warm_up_step_hands_the_preparation_back(cache_dir, monkeypatch):
    monkeypatch.setattr(service, "is_prepared", lambda dataset, method: False)
    _write_status(running=False, done={"imdb": {"ok": False, "seconds": 3.0}})
    assert service.follow_warmup("imdb", "pca", lambda f, label: None) is None


def test_the_warm_up_keeps_the_counts_of_each_preparations_summary() -> None:
    line = json.dumps({"classifier_source": "pretrained", "n_sequences": 1000, "n_hidden_states": 96842})
    summary = warmup._summary("tqdm noise\n" + line + "\n")
    assert (summary["n_sequences"], summary["n_hidden_states"]) == (1000, 96842)
    assert (
        warmup._summary("not json") == {} and warmup._summary("[1, 2]") == {} and warmup._summary(None) == {}
    )


def test_a_visitor_asking_for_umap_of_a_default_set_follows_the_warm_ups_umap_step(cache_dir, monkeypatch):
    seen: list[tuple[float, str]] = []
    monkeypatch.setattr(service, "is_prepared", lambda dataset, method: (dataset, method) == ("imdb", "umap"))
    steps = ["imdb", "reuters", "imdb:umap", "reuters:umap", "imdb~all"]
    _write_status(datasets=steps, current="reuters", stage="Extracting hidden states", fraction=0.5)

    def warm_up_goes_on() -> None:
        time.sleep(0.3)
        _write_status(
            datasets=steps, current="imdb:umap", stage="Projecting with UMAP: epoch 9 of 200", fraction=0.7
        )
        time.sleep(0.3)
        counts = {"n_sequences": 1000, "n_hidden_states": 96842}
        _write_status(
            datasets=steps,
            current="reuters:umap",
            done={"imdb:umap": {"ok": True, "seconds": 61.0, **counts}},
        )

    threading.Thread(target=warm_up_goes_on, daemon=True).start()
    result = service.follow_warmup(
        "imdb", "umap", lambda f, label: seen.append((f, label)), poll_seconds=0.05
    )
    assert result is not None and result["n_hidden_states"] == 96842 and result["followed_warmup"]
    assert any("finish reuters" in label for _f, label in seen)
    assert (0.7, "Projecting with UMAP: epoch 9 of 200 (server warm-up)") in seen
    never = lambda f, label: pytest.fail("no progress expected")  # noqa: E731
    assert service.follow_warmup("imdb", "tsne", never) is None  # not one of its steps


def test_the_warm_up_prepares_umap_after_the_default_sets_and_before_the_whole_split(monkeypatch) -> None:
    from serving import settings

    monkeypatch.delenv("RNNX_WARMUP_DATASETS", raising=False)
    steps = settings.warmup_datasets()
    assert steps == ["imdb", "reuters", "imdb:umap", "reuters:umap", "imdb~all"]
    lines = warmup.commands(steps)
    assert lines[2][3:] == ["--dataset", "imdb", "--projection", "umap", "--json"]
    assert lines[4][3:] == ["--dataset", "imdb", "--sequences", "all", "--json"]
    assert warmup.split_step("imdb:umap") == ("imdb", "umap") and warmup.step_name("imdb", "pca") == "imdb"
