"""Checks on a ``.keras`` archive before Keras (or anything else) reads it, and its config without TensorFlow.

A ``.keras`` file is a zip of config.json, metadata.json and model.weights.h5.
:func:`check_keras_archive` refuses what is unsafe to open from the zip's
directory alone (too many entries, unsafe names, oversized or bomb-like
entries), then confirms each compressed entry holds its declared size.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from model import config, nesting
from model.byo_csv import InputError, check_file, check_size, upload_limit_bytes

RECURRENT_CLASSES = ("LSTM", "GRU", "SimpleRNN")
ARCHIVE_MAX_ENTRIES = 1000
ARCHIVE_MAX_DIRECTORY_BYTES = 4 * 2**20  # the zip's central directory, read before its entries are listed
BOMB_RATIO = 200
BOMB_MIN_BYTES = 2**20
KERAS_JSON_FILES = ("config.json", "metadata.json")
MAX_CONFIG_DEPTH = 200  # real models nest a few dozen levels; deeper would strain what walks the config
NOT_KERAS = (
    "This is not a readable Keras model file: a .keras file is a zip archive saved by "
    "model.save('name.keras')."
)


def keras_config_limit_bytes() -> int:
    """Largest accepted config.json / metadata.json (``RNNX_KERAS_CONFIG_LIMIT_MB``, default 16)."""
    return int(config.env_number("RNNX_KERAS_CONFIG_LIMIT_MB", 16.0, minimum=1e-9) * 2**20)


def check_keras_archive(path: str | Path) -> None:
    """InputError unless the ``.keras`` zip at ``path`` is safe to hand to Keras.

    Before any entry is read, from the zip's directory alone: at most 1000 entries, no entry
    name with ``..`` or an absolute path, config.json and metadata.json at most
    ``RNNX_KERAS_CONFIG_LIMIT_MB`` each, all entries together at most 4 × the upload limit,
    and no entry over 1 MB that expands more than 200:1. Then each compressed entry is inflated
    in 1 MB steps (nothing kept) to confirm it holds exactly its declared size, since Keras
    reads entries whole and would otherwise trust a directory that lies.
    """
    path = check_file(path, "model file")
    check_size(path.stat().st_size, "model file")
    _check_directory_record(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except Exception as error:  # any failure to list the entries means it is not a usable archive
        raise InputError(NOT_KERAS) from error
    _check_entries(infos)
    with open(path, "rb") as handle:
        for info in infos:
            if info.compress_type == zipfile.ZIP_DEFLATED:
                size = _inflated_size(handle, info)
            else:
                size = info.compress_size
            if size != info.file_size:
                raise InputError(
                    f"The model archive's entry {info.filename!r} holds "
                    f"{'more' if size > info.file_size else 'less'} data than its zip directory says "
                    f"({_size(info.file_size)}): it looks like a zip bomb or a damaged file and was refused."
                )


def _check_directory_record(path: Path) -> None:
    """Entry count and directory size from the end record, before the directory itself is parsed."""
    try:
        with open(path, "rb") as handle:
            record = zipfile._EndRecData(handle)
        entries, directory = int(record[zipfile._ECD_ENTRIES_TOTAL]), int(record[zipfile._ECD_SIZE])
    except Exception:  # noqa: BLE001 - no end record (or another Python): ZipFile below says what is wrong
        return
    if entries > ARCHIVE_MAX_ENTRIES or directory > ARCHIVE_MAX_DIRECTORY_BYTES:
        raise InputError(
            f"The model archive lists {entries:,} entries in a {_size(directory)} directory; "
            f"a .keras file has a handful (at most {ARCHIVE_MAX_ENTRIES} are accepted)."
        )


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > ARCHIVE_MAX_ENTRIES:
        raise InputError(
            f"The model archive has {len(infos):,} entries; a .keras file has a handful "
            f"(at most {ARCHIVE_MAX_ENTRIES} are accepted)."
        )
    json_limit, total = keras_config_limit_bytes(), 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in re.split(r"[/\\]", name):
            raise InputError(
                f"The model archive has an entry with an unsafe name ({name[:80]!r}: '..' or an absolute "
                "path); it was refused."
            )
        if info.flag_bits & 0x1:
            raise InputError(f"The model archive's entry {name!r} is encrypted; Keras cannot read it.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InputError(
                f"The model archive's entry {name!r} uses an unsupported compression; save the model "
                "again with model.save('name.keras')."
            )
        if info.file_size > BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise InputError(
                f"The model archive's entry {name!r} expands from {_size(info.compress_size)} to "
                f"{_size(info.file_size)} ({info.file_size // max(info.compress_size, 1):,}:1, more than "
                f"{BOMB_RATIO}:1): it looks like a zip bomb and was refused."
            )
        if name in KERAS_JSON_FILES and info.file_size > json_limit:
            raise InputError(
                f"The model archive's {name} is {_size(info.file_size)}, more than the limit of "
                f"{json_limit / 2**20:.3g} MB (RNNX_KERAS_CONFIG_LIMIT_MB)."
            )
        total += info.file_size
    limit = 4 * upload_limit_bytes()
    if total > limit:
        raise InputError(
            f"The model archive expands to {_size(total)}, more than {limit / 2**20:.3g} MB "
            "(4 × RNNX_UPLOAD_LIMIT_MB)."
        )


def _size(n_bytes: int) -> str:
    if n_bytes >= 2**20 // 10:
        return f"{n_bytes / 2**20:,.1f} MB"
    return f"{n_bytes / 1024:.1f} KB" if n_bytes >= 1024 else f"{n_bytes} bytes"


def _inflated_size(handle, info: zipfile.ZipInfo) -> int:
    """Bytes a deflated entry really inflates to, counted in 1 MB steps; stops past its declared size."""
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise InputError(NOT_KERAS)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left, produced = info.compress_size, 0
    try:
        while left > 0 and not inflater.eof and produced <= info.file_size:
            pending = handle.read(min(left, 2**16))
            if not pending:
                break
            left -= len(pending)
            while pending and produced <= info.file_size:
                produced += len(inflater.decompress(pending, 2**20))
                pending = inflater.unconsumed_tail
    except zlib.error as error:
        raise InputError(f"The model archive's entry {info.filename!r} is damaged ({error}).") from error
    return produced


def read_keras_config(path: str | Path) -> dict:
    """The parsed config.json of a ``.keras`` file, read (without TensorFlow) only after the archive checks."""
    check_keras_archive(path)
    try:
        with zipfile.ZipFile(path) as archive, archive.open("config.json") as handle:
            raw = handle.read(keras_config_limit_bytes() + 1)
    except KeyError as error:
        raise InputError(f"{NOT_KERAS} (This archive has no config.json.)") from error
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InputError(NOT_KERAS) from error
    try:
        parsed = nesting.loads(raw, MAX_CONFIG_DEPTH, "The model's config.json")
    except nesting.TooDeep as error:
        raise InputError(f"{error} No Keras model nests that deeply: check the file.") from None
    except ValueError as error:
        raise InputError(f"The model's config.json is not valid JSON ({error}).") from error
    if not isinstance(parsed, dict):
        raise InputError("The model's config.json does not describe a Keras model.")
    return parsed


def config_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def config_layers(model_config: dict) -> list[dict]:
    layers = config_dict(model_config.get("config")).get("layers")
    return [layer for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else []


def walk_config(layers: list[dict]) -> Iterator[dict]:
    """Every layer config, those inside nested models and wrappers included."""
    for layer in layers:
        yield layer
        yield from walk_config(config_layers(layer))
        inner = config_dict(layer.get("config")).get("layer")
        if isinstance(inner, dict):
            yield from walk_config([inner])


def config_recurrent_names(layers: list[dict]) -> list[str]:
    names = []
    for layer in layers:
        inner = (
            config_dict(config_dict(layer.get("config")).get("layer"))
            if layer.get("class_name") == "Bidirectional"
            else layer
        )
        if inner.get("class_name") in RECURRENT_CLASSES:
            names.append(str(config_dict(layer.get("config")).get("name", "")))
    return [name for name in names if name]


def recurrent_layer_names(path: str | Path) -> list[str]:
    """Names of the recurrent layers in a ``.keras`` file, read without TensorFlow; InputError if unsafe."""
    return config_recurrent_names(config_layers(read_keras_config(path)))
