"""A ``.keras`` upload is a zip: it is checked from its directory before any entry is read.

The zip bomb here declares a 1 GiB config.json in about 1 MB; it is written by
``zipfile`` in 16 MiB steps, so neither the test nor the code under test ever
holds more than a few MB of it.
"""

from __future__ import annotations

import json
import resource
import struct
import zipfile
import zlib
from pathlib import Path

import psutil
import pytest

from model import byo

GIB = 2**30
CHUNK = 2**24
CONFIG = {
    "class_name": "Functional",
    "config": {
        "layers": [
            {"class_name": "InputLayer", "config": {"name": "in", "dtype": "int32"}},
            {"class_name": "Embedding", "config": {"name": "emb", "input_dim": 50}},
            {"class_name": "LSTM", "config": {"name": "lstm_1"}},
            {"class_name": "Bidirectional", "config": {"name": "bi", "layer": {"class_name": "GRU"}}},
            {"class_name": "Dense", "config": {"name": "out"}},
        ]
    },
}


class _RepeatedBlock:
    """Stands in for zipfile's zlib compressor: one precomputed, independently decodable deflate
    block per chunk of zeros (Z_FULL_FLUSH), so writing the 1 GiB bomb takes a second, not twenty."""

    def __init__(self) -> None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.block = compressor.compress(bytes(CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
        self.end = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty final block

    def compress(self, data: bytes) -> bytes:
        assert data == bytes(CHUNK)
        return self.block

    def flush(self) -> bytes:
        return self.end


def write_bomb(path: Path, size: int = GIB) -> Path:
    """A .keras-like zip whose config.json inflates to ``size`` zero bytes (ZIP_DEFLATED, zip64)."""
    chunk = bytes(CHUNK)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3"}))
        with archive.open("config.json", "w", force_zip64=True) as handle:
            assert hasattr(handle, "_compressor")
            handle._compressor = _RepeatedBlock()
            for _ in range(size // CHUNK):
                handle.write(chunk)
    return path


def write_archive(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def config_archive(path: Path, config: dict | None = None, **extra: bytes) -> Path:
    return write_archive(path, {"config.json": json.dumps(config or CONFIG).encode(), **extra})


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_bomb(tmp_path_factory.mktemp("bomb") / "bomb.keras")
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.json")
    assert info.file_size == GIB and info.compress_size < 2 * 2**20
    assert path.stat().st_size < byo.upload_limit_bytes()
    return path


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_zip_bomb_is_refused_before_anything_is_inflated(bomb: Path) -> None:
    process = psutil.Process()
    rss, peak = process.memory_info().rss, _peak_kib()
    for check in (byo.check_keras_archive, byo.load_model, byo.recurrent_layer_names, byo.read_keras_config):
        with pytest.raises(byo.InputError, match=r"'config\.json' expands from .* looks like a zip bomb"):
            check(bomb)
    with pytest.raises(byo.InputError, match="zip bomb"):
        byo.check_model_file(bomb)
    assert process.memory_info().rss - rss < 300 * 2**20
    assert (_peak_kib() - peak) * 1024 < 300 * 2**20


def test_an_entry_that_holds_more_than_its_directory_says_is_refused(tmp_path: Path) -> None:
    """A directory that lies (declares 64 KB, holds 64 MB) would make zipfile inflate it all at once."""
    path = write_archive(tmp_path / "liar.keras", {"config.json": bytes(64 * 2**20)}, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    declared = struct.pack("<I", 64 * 1024)
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = declared  # uncompressed size in the local header
    data[central + 24 : central + 28] = declared  # ... and in the central directory
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.json")
    assert info.file_size == 64 * 1024 and info.compress_size < info.file_size  # passes the size checks
    rss = psutil.Process().memory_info().rss
    with pytest.raises(byo.InputError, match="holds more data than its zip directory says"):
        byo.check_keras_archive(path)
    with pytest.raises(byo.InputError, match="holds more data"):
        byo.load_model(path)
    assert psutil.Process().memory_info().rss - rss < 100 * 2**20


@pytest.mark.parametrize("name", ["../evil.json", "assets/../../evil.json", "/etc/evil.json", "C:/evil.json"])
def test_unsafe_entry_names_are_refused(name: str, tmp_path: Path) -> None:
    path = config_archive(tmp_path / "names.keras", **{name: b"{}"})
    with pytest.raises(byo.InputError, match=r"unsafe name .*'\.\.' or an absolute path"):
        byo.check_keras_archive(path)


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    entries = {f"assets/{i}.txt": b"" for i in range(1000)}  # and config.json: 1001
    path = config_archive(tmp_path / "many.keras", **entries)
    with pytest.raises(byo.InputError, match=r"1,001 entries .*at most 1000"):
        byo.check_keras_archive(path)
    fine = config_archive(tmp_path / "fine.keras", **dict(list(entries.items())[:999]))
    byo.check_keras_archive(fine)


@pytest.mark.parametrize("name", ["config.json", "metadata.json"])
def test_config_and_metadata_over_the_limit_are_refused(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNNX_KERAS_CONFIG_LIMIT_MB", "0.01")
    padded = json.dumps({**CONFIG, "padding": "x" * 20_000}).encode()
    path = write_archive(tmp_path / "big.keras", {"config.json": json.dumps(CONFIG).encode(), name: padded})
    with pytest.raises(byo.InputError, match=rf"{name} is 19\.\d KB, more than the limit of 0\.01 MB"):
        byo.check_keras_archive(path)


def test_total_uncompressed_size_is_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNX_UPLOAD_LIMIT_MB", "1")  # so at most 4 MB once inflated
    entries = {f"assets/part{i}.bin": bytes(900 * 1024) for i in range(6)}  # each under 1 MB
    path = write_archive(tmp_path / "wide.keras", {"config.json": b"{}", **entries}, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    with pytest.raises(
        byo.InputError, match=r"expands to 5\.3 MB, more than 4 MB \(4 × RNNX_UPLOAD_LIMIT_MB\)"
    ):
        byo.check_keras_archive(path)


def test_recurrent_layer_names_come_from_the_checked_config(tmp_path: Path) -> None:
    assert byo.recurrent_layer_names(config_archive(tmp_path / "m.keras")) == ["lstm_1", "bi"]
    deflated = write_archive(
        tmp_path / "d.keras", {"config.json": json.dumps(CONFIG).encode()}, zipfile.ZIP_DEFLATED
    )
    assert byo.recurrent_layer_names(deflated) == ["lstm_1", "bi"]
    with pytest.raises(byo.InputError, match="no config.json"):
        byo.recurrent_layer_names(write_archive(tmp_path / "n.keras", {"other.json": b"{}"}))
    with pytest.raises(byo.InputError, match="not valid JSON"):
        byo.recurrent_layer_names(write_archive(tmp_path / "j.keras", {"config.json": b"{nope"}))
    not_zip = tmp_path / "x.keras"
    not_zip.write_bytes(b"plain text")
    with pytest.raises(byo.InputError, match="not a readable Keras model file"):
        byo.recurrent_layer_names(not_zip)


def test_config_checks_run_without_tensorflow(tmp_path: Path) -> None:
    path = config_archive(tmp_path / "m.keras")
    byo.check_model_file(path, "bi", {"a": 0, "b": 49})
    with pytest.raises(byo.InputError, match="its recurrent layers are: lstm_1, bi"):
        byo.check_model_file(path, "gru", {"a": 1})
    with pytest.raises(byo.InputError, match="ids go up to 50"):
        byo.check_model_file(path, None, {"a": 1, "b": 50})
    with pytest.raises(byo.InputError, match="upload its vocabulary"):
        byo.check_model_file(path)


def test_a_real_keras_file_passes(tmp_path: Path) -> None:
    from tests.support.byo_models import token_id_model

    path = token_id_model(tmp_path / "real.keras", 20)
    byo.check_keras_archive(path)
    assert byo.recurrent_layer_names(path) == ["lstm_a", "gru_b"]
    byo.check_model_file(path, "gru_b", {"[PAD]": 0, "[UNK]": 1, "good": 19})
