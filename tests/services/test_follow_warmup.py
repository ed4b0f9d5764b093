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
    warmup.status_path().write_text(json.dumps(status), encoding="utf-8")


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
    assert service.follow_warmup("imdb", "umap", never) is None  # the warm-up prepares PCA only
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
