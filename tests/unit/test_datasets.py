"""The real archives: counts, cleaning, the five-topic rule, and errors for missing or corrupt files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from model import datasets

# The real archives (CI points RNNX_DATA_DIR at ../shared/data); read before any test changes it.
SHARED_DATA = Path(os.environ["RNNX_DATA_DIR"])


@pytest.mark.heavy
def test_imdb_has_25000_balanced_reviews_per_split() -> None:
    data = datasets.load("imdb")
    for split in (data.train, data.test):
        assert len(split.texts) == 25000
        assert np.bincount(split.labels).tolist() == [12500, 12500]
    assert not any("<br" in text for text in data.test.texts[:2000])
    # The fixed shuffle mixes classes, so "the first 1,000" is not one-sided.
    assert 400 < data.test.labels[:1000].sum() < 600


def test_reuters_five_topic_counts_match_modapte() -> None:
    data = datasets.load("reuters")
    assert data.class_names == ["earn", "acquisition", "crude-oil", "grain", "money-fx"]
    assert np.bincount(data.train.labels).tolist() == [2848, 1617, 361, 429, 536]
    assert np.bincount(data.test.labels).tolist() == [1084, 710, 180, 148, 178]
    assert not any("&lt;" in text or "\x03" in text for text in data.train.texts)


def test_five_topic_rule_needs_exactly_one_of_the_five() -> None:
    assert datasets.five_topic_label(["earn"]) == 0
    assert datasets.five_topic_label(["money-fx", "dlr"]) == 4
    assert datasets.five_topic_label(["grain", "wheat", "corn"]) == 3
    assert datasets.five_topic_label(["crude", "acq"]) is None
    assert datasets.five_topic_label(["dlr"]) is None


def test_sgml_parsing_reads_split_topics_title_and_body() -> None:
    sgml = (
        '<REUTERS TOPICS="YES" LEWISSPLIT="TEST" NEWID="1"><TOPICS><D>crude</D><D>nat-gas</D></TOPICS>'
        "<TEXT><TITLE>OIL &lt;UP&gt;</TITLE><BODY>Prices rose.\n&#3;</BODY></TEXT></REUTERS>"
    )
    [(split, topics, text)] = list(datasets.parse_reuters_documents(sgml))
    assert (split, topics) == ("TEST", ["crude", "nat-gas"])
    assert text == "OIL <UP> Prices rose."


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RNNX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path / "cache"))
    datasets.cache._open_in_process.cache_clear()
    yield tmp_path
    datasets.cache._open_in_process.cache_clear()


def test_missing_archive_names_the_file_and_folder(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNX_OFFLINE", "1")
    with pytest.raises(datasets.DatasetError) as error:
        datasets.load("reuters")
    assert "reuters21578.tar.gz" in str(error.value)
    assert str(data_dir) in str(error.value)


def test_failed_download_says_what_to_do(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RNNX_OFFLINE", raising=False)
    monkeypatch.setitem(datasets.DOWNLOAD_URLS, datasets.IMDB_ARCHIVE, "http://127.0.0.1:9/aclImdb_v1.tar.gz")
    with pytest.raises(datasets.DatasetError) as error:
        datasets.load("imdb")
    assert "download failed" in str(error.value)
    assert "aclImdb_v1.tar.gz" in str(error.value)
    assert not (data_dir / "aclImdb_v1.tar.gz").exists()


def test_truncated_archive_is_reported_and_nothing_is_cached(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = (SHARED_DATA / "reuters21578.tar.gz").read_bytes()
    (data_dir / "reuters21578.tar.gz").write_bytes(original[: len(original) // 2])
    with pytest.raises(datasets.DatasetError, match="corrupt or truncated"):
        datasets.load("reuters")
    # Only the archive's fingerprint is kept; no parsed dataset.
    assert not [key for key in datasets.cache.get_cache() if str(key).startswith("dataset:")]


@pytest.mark.heavy
def test_extracted_folder_works_like_the_archive(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tarfile

    with tarfile.open(SHARED_DATA / "reuters21578.tar.gz") as tar:
        tar.extractall(data_dir / "reuters21578", filter="data")
    data = datasets.load("reuters")
    assert np.bincount(data.test.labels).tolist() == [1084, 710, 180, 148, 178]
