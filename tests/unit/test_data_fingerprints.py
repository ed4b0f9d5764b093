"""Data fingerprints: broken archives are refused with a clear message, and a changed archive changes
every cache key downstream (parsed dataset, classifier, analysis), so a fixed archive is rebuilt
instead of serving the stale model."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from model import cache, datasets, prepare, textmodels
from tests.support.servers import ROOT

# The real archives (CI points RNNX_DATA_DIR at ../shared/data); read before any test changes it.
SHARED_DATA = Path(os.environ.get("RNNX_DATA_DIR", ROOT.parent / "shared" / "data"))
REAL_REUTERS = SHARED_DATA / datasets.REUTERS_ARCHIVE
CONFIG = textmodels.default_config("reuters")


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("RNNX_DATA_DIR", str(folder))
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNX_OFFLINE", "1")
    cache._open_in_process.cache_clear()
    yield folder
    cache._open_in_process.cache_clear()


@pytest.fixture(scope="module")
def real_reuters_members() -> list[tuple[tarfile.TarInfo, bytes]]:
    if not REAL_REUTERS.is_file():
        pytest.skip(f"the real {datasets.REUTERS_ARCHIVE} is not in RNNX_DATA_DIR")
    with tarfile.open(REAL_REUTERS) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]


def write_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def reuters_without(target: Path, members: list[tuple[tarfile.TarInfo, bytes]], *skip: str) -> Path:
    """A copy of the real Reuters archive lacking the SGML files ``skip``."""
    with tarfile.open(target, "w:gz", compresslevel=1) as tar:
        for member, data in members:
            if Path(member.name).name not in skip:
                tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return target


def synthetic_reuters(target: Path, word: str, skip: tuple[str, ...] = ()) -> Path:
    """A tiny Reuters-like archive with all 22 SGML files, one TRAIN and one TEST document in each."""
    files = {}
    for i, name in enumerate(datasets.REUTERS_SGML_FILES):
        if name in skip:
            continue
        topic = datasets.REUTERS_TOPICS[i % 5]
        docs = "".join(
            f'<REUTERS TOPICS="YES" LEWISSPLIT="{split}" NEWID="{i}"><TOPICS><D>{topic}</D></TOPICS>'
            f"<TEXT><TITLE>{word} {i}</TITLE><BODY>{word} {split.lower()} body.</BODY></TEXT></REUTERS>\n"
            for split in ("TRAIN", "TEST")
        )
        files[f"./{name}"] = docs.encode("latin-1")
    return write_tar(target, files)


def synthetic_imdb(target: Path, counts: dict[str, int]) -> Path:
    """An aclImdb-shaped archive with ``counts[split/polarity]`` reviews per folder."""
    files = {"aclImdb/README": b"synthetic"}
    for folder, n in counts.items():
        rating = 9 if folder.endswith("pos") else 2
        for i in range(n):
            files[f"aclImdb/{folder}/{i}_{rating}.txt"] = f"review {folder} {i}<br />".encode()
    return write_tar(target, files)


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "RNNX_DATA_DIR": str(data_dir),
        "RNNX_CACHE_DIR": str(data_dir.parent / "cli-cache"),
        "RNNX_OFFLINE": "1",
        "RNNX_PROFILE": "quick",
    }
    return subprocess.run(
        [sys.executable, "-m", "model.prepare", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def parsed_datasets() -> list[str]:
    return [key for key in cache.get_cache() if str(key).startswith("dataset:")]


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


# ---------------------------------------------------------------- refusals


def test_reuters_missing_sgml_files_is_refused_via_api_and_cli(
    data_dir: Path, real_reuters_members: list
) -> None:
    reuters_without(
        data_dir / datasets.REUTERS_ARCHIVE, real_reuters_members, "reut2-003.sgm", "reut2-017.sgm"
    )
    with pytest.raises(datasets.DatasetError) as error:
        datasets.load("reuters")
    message = str(error.value)
    assert "reut2-003.sgm, reut2-017.sgm" in message and "2 of the 22" in message
    assert "RNNX_DATA_DIR" in message and "again" in message  # what to do
    assert str(data_dir) not in message and "\n" not in message
    assert not parsed_datasets()  # nothing parsed, nothing kept

    result = run_cli(data_dir, "--dataset", "reuters", "--json")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    [line] = error_lines(result)
    assert "reut2-003.sgm, reut2-017.sgm" in line and "RNNX_DATA_DIR" in line
    assert not result.stdout.strip()  # no JSON summary


def test_reuters_extracted_folder_with_missing_files_is_refused(data_dir: Path) -> None:
    folder = data_dir / "reuters21578"
    with tarfile.open(synthetic_reuters(data_dir.parent / "r.tar.gz", "oil", skip=("reut2-021.sgm",))) as tar:
        tar.extractall(folder, filter="data")
    with pytest.raises(datasets.DatasetError, match=r"1 of the 22 .*\(reut2-021\.sgm\)") as error:
        datasets.load("reuters")
    assert "reuters21578/" in str(error.value) and str(data_dir) not in str(error.value)


def test_archive_that_is_not_reuters_at_all_is_refused(data_dir: Path) -> None:
    write_tar(data_dir / datasets.REUTERS_ARCHIVE, {"./README.txt": b"not reuters"})
    with pytest.raises(datasets.DatasetError, match="holds none of the 22 SGML files"):
        datasets.load("reuters")


def test_imdb_wrong_counts_are_refused_via_api_and_cli(data_dir: Path) -> None:
    counts = {"train/pos": 3, "train/neg": 3, "test/pos": 3, "test/neg": 2}
    synthetic_imdb(data_dir / datasets.IMDB_ARCHIVE, counts)
    with pytest.raises(datasets.DatasetError) as error:
        datasets.load("imdb")
    message = str(error.value)
    for folder, n in counts.items():
        assert f"{folder} has {n}" in message
    assert "12,500 each" in message and "RNNX_DATA_DIR" in message and "again" in message
    assert str(data_dir) not in message and "\n" not in message
    assert not parsed_datasets()

    result = run_cli(data_dir, "--dataset", "imdb", "--json")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = error_lines(result)
    assert "test/neg has 2" in line and "12,500 each" in line


def test_dataset_errors_reach_the_cli_as_prepare_errors(data_dir: Path) -> None:
    synthetic_imdb(data_dir / datasets.IMDB_ARCHIVE, {"train/pos": 1, "train/neg": 1, "test/pos": 1})
    with pytest.raises(prepare.PrepareError, match="test/neg has 0"):
        prepare.prepare("imdb", "pca", 5)


# ---------------------------------------------------------------- fingerprints and keys


def test_fingerprint_is_the_files_sha256_and_stable(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = synthetic_reuters(data_dir / datasets.REUTERS_ARCHIVE, "wheat")
    expected = hashlib.sha256(archive.read_bytes()).hexdigest()
    hashed: list[Path] = []
    real_hash = datasets._hash_file
    monkeypatch.setattr(datasets, "_hash_file", lambda path: hashed.append(path) or real_hash(path))
    datasets._fingerprint_for.cache_clear()

    assert {datasets.fingerprint("reuters") for _ in range(50)} == {expected}
    assert len(hashed) == 1  # computed once, then the per-process memo
    datasets._fingerprint_for.cache_clear()
    assert datasets.fingerprint("reuters") == expected
    assert len(hashed) == 1  # ... and the disk cache across processes

    stat = archive.stat()
    os.utime(archive, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same content
    assert datasets.fingerprint("reuters") == expected
    assert len(hashed) == 2  # a new archive version is hashed again, once

    if REAL_REUTERS.is_file():  # the real archive's fingerprint is its published checksum
        sums = dict(line.split()[::-1] for line in (SHARED_DATA / "SHA256SUMS").read_text().splitlines())
        shutil.copy(REAL_REUTERS, archive)
        assert datasets.fingerprint("reuters") == sums[datasets.REUTERS_ARCHIVE]


def test_a_changed_archive_changes_the_fingerprint_and_every_key(data_dir: Path) -> None:
    archive = data_dir / datasets.REUTERS_ARCHIVE
    assert datasets.fingerprint("reuters") == datasets.MISSING
    missing_key = textmodels.classifier_key("reuters", CONFIG)

    synthetic_reuters(archive, "wheat")
    first = datasets.fingerprint("reuters")
    first_key = textmodels.classifier_key("reuters", CONFIG)
    first_keys = prepare._keys("reuters", 10, "pca")
    assert datasets.load("reuters").train.texts[0].startswith("wheat")
    cache.put(first_key, "the model trained on the first archive")

    synthetic_reuters(archive, "barley")  # another valid-looking archive
    second = datasets.fingerprint("reuters")
    second_key = textmodels.classifier_key("reuters", CONFIG)
    second_keys = prepare._keys("reuters", 10, "pca")
    assert first != second and len({missing_key, first_key, second_key}) == 3
    assert all(first_keys[kind] != second_keys[kind] for kind in first_keys)
    assert cache.get(second_key) is None  # the stale model is not served for the new archive
    assert datasets.load("reuters").train.texts[0].startswith("barley")  # parsed again, not stale

    assert datasets.fingerprint("reuters") == second  # stable for the same file
    assert textmodels.classifier_key("reuters", CONFIG) == second_key


def test_same_content_elsewhere_has_the_same_fingerprint(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic_reuters(data_dir / datasets.REUTERS_ARCHIVE, "corn")
    here = (datasets.fingerprint("reuters"), textmodels.classifier_key("reuters", CONFIG))
    other = data_dir.parent / "elsewhere"
    other.mkdir()
    shutil.copy(data_dir / datasets.REUTERS_ARCHIVE, other / datasets.REUTERS_ARCHIVE)
    monkeypatch.setenv("RNNX_DATA_DIR", str(other))
    assert (datasets.fingerprint("reuters"), textmodels.classifier_key("reuters", CONFIG)) == here


def test_fixing_a_broken_archive_rebuilds(data_dir: Path, real_reuters_members: list) -> None:
    archive = reuters_without(data_dir / datasets.REUTERS_ARCHIVE, real_reuters_members, "reut2-000.sgm")
    broken_key = textmodels.classifier_key("reuters", CONFIG)
    with pytest.raises(datasets.DatasetError, match="reut2-000.sgm"):
        datasets.load("reuters")
    shutil.copy(REAL_REUTERS, archive)
    assert textmodels.classifier_key("reuters", CONFIG) != broken_key
    data = datasets.load("reuters")
    assert len(data.train.texts) == 2848 + 1617 + 361 + 429 + 536


def test_extracted_folder_fingerprint_follows_its_files(data_dir: Path) -> None:
    folder = data_dir / "reuters21578"
    with tarfile.open(synthetic_reuters(data_dir.parent / "r.tar.gz", "rice")) as tar:
        tar.extractall(folder, filter="data")
    first = datasets.fingerprint("reuters")
    assert first not in (datasets.MISSING, datasets.UNREADABLE)
    assert datasets.load("reuters").test.texts[0].startswith("rice")
    (folder / "reut2-005.sgm").write_text((folder / "reut2-005.sgm").read_text().replace("rice", "oats"))
    datasets._directory_signatures.clear()  # a folder listing is trusted for a few seconds
    assert datasets.fingerprint("reuters") != first


# ---------------------------------------------------------------- archive status (readiness)


def test_archive_status_reports_presence_without_absolute_paths(data_dir: Path) -> None:
    assert datasets.archive_status() == {
        "imdb": {"present": False, "path": datasets.IMDB_ARCHIVE, "bytes": None},
        "reuters": {"present": False, "path": datasets.REUTERS_ARCHIVE, "bytes": None},
    }
    archive = synthetic_reuters(data_dir / datasets.REUTERS_ARCHIVE, "sugar")
    (data_dir / "aclImdb").mkdir()
    status = datasets.archive_status()
    assert status["reuters"] == {
        "present": True,
        "path": datasets.REUTERS_ARCHIVE,
        "bytes": archive.stat().st_size,
    }
    assert status["imdb"] == {"present": True, "path": "aclImdb/", "bytes": None}
    assert str(data_dir) not in json.dumps(status) and "/" not in status["reuters"]["path"]
    assert len(cache.get_cache()) == 0  # nothing hashed or parsed
