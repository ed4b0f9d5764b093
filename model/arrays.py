"""Large arrays in the cache folder: a folder per artefact, written atomically, read memory-mapped.

Layout, inside the cache folder a key belongs to (:func:`model.cache.store_for`)::

    arrays/<kind>-<hash>/            the artefact of key "<kind>:<hash>", complete
        <name>.npy                   one array each, numpy format, opened with mmap_mode="r"
        meta.pkl                     small metadata (optional)
        manifest.json                names, dtypes, shapes and bytes of the arrays
        used                         touched (at most every few minutes) when read: the LRU clock
    arrays/.tmp-<host>-<pid>-<rnd>-<kind>-<hash>/   a write in progress
    arrays/.trash-<rnd>-<kind>-<hash>/              a replaced or evicted artefact being deleted

A write goes to a temporary folder which is renamed into place (``os.replace``) only
when every file is complete and synced, and an artefact is removed by renaming it
away first: a reader sees either no artefact or the whole of one, and a crash
mid-write leaves only a temporary folder, swept later. Readers get ``np.memmap``
views, so the OS page cache shares them between processes (gunicorn workers, Celery). Every read
checks the files' headers and sizes against the manifest (:mod:`model.arrays_check`): a damaged
artefact counts as absent, and the next write of its key replaces it.

Size limit: array folders and the diskcache next to them share the cache's limit
(``RNNX_CACHE_LIMIT_GB``, the uploads quota for upload keys). After each write the
least recently used array folders are evicted until arrays and diskcache together fit;
the diskcache keeps culling its own entries as before. A cache whose eviction policy is
``"none"`` (the uploads cache) is never culled here: room there is made by whoever knows
which artefacts are in use (``services.upload_results``). An artefact larger than the
whole limit is refused with :class:`model.cache.CacheWriteError`. A folder evicted
while a process has it mapped stays readable by that process (POSIX unlink semantics).
In demo mode (read-only cache) nothing is written or touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import secrets
import shutil
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model import arrays_check, cache
from model.lifeline import process_alive

DIRECTORY = "arrays"
HEADER_BYTES = 128  # a fixed-size .npy header, rewritten with the final shape when a stream closes
TOUCH_SECONDS = 300  # how stale the LRU clock of an artefact may get before a read touches it
STALE_TMP_SECONDS = 6 * 3600  # a temporary folder this old (or of a dead local process) is swept
log = logging.getLogger("rnnx.arrays")


@dataclass
class Stored:
    """An artefact read back: its arrays (memory-mapped, read-only; None where stored as None) and metadata."""

    arrays: dict[str, np.ndarray | None]
    meta: Any = None
    nbytes: int = 0


def root_for(key: str) -> Path:
    """The ``arrays`` folder of the cache ``key`` belongs to."""
    return Path(cache.store_for(key).directory) / DIRECTORY


def folder_for(key: str) -> Path:
    """The folder holding the artefact of ``key``."""
    return root_for(key) / key.replace(":", "-")


def contains(key: str) -> bool:
    """Whether a complete, undamaged artefact of ``key`` is stored (a damaged one counts as absent)."""
    return (folder_for(key) / "manifest.json").is_file() and damage(key) is None


def damage(key: str) -> str | None:
    """Why the stored artefact of ``key`` is damaged (None: it is whole, or there is none).

    Checks every file against the manifest: each array's ``.npy`` header (dtype, shape, order)
    and its size, and the size of ``meta.pkl``. Cheap: headers and sizes only, never the data.
    """
    try:
        handle = os.open(folder_for(key), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        return arrays_check.damage(handle)
    finally:
        os.close(handle)


def load(key: str) -> Stored | None:
    """The artefact of ``key`` (arrays memory-mapped), or None when there is none (or it just vanished).

    Every file is opened through one handle on the folder, so a concurrent replacement
    can never mix files of the old and the new artefact. A damaged artefact (:func:`damage`)
    is logged and counts as absent; the next preparation rebuilds it.
    """
    folder = folder_for(key)
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        problem = arrays_check.damage(handle)
        if problem is not None:
            log.warning("The stored artefact %s is damaged (%s): it counts as absent.", key, problem)
            return None
        stored = _read(handle)
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as error:
        log.warning(
            "The stored artefact %s is unreadable (%s): it counts as absent.", key, type(error).__name__
        )
        return None
    finally:
        os.close(handle)
    if not isinstance(cache.store_for(key), cache.ReadOnlyCache):
        _touch(folder)
    return stored


def _read(folder_handle: int) -> Stored:
    def opened(name: str):
        return arrays_check.opened(folder_handle, name)

    with opened("manifest.json") as handle:
        manifest = json.load(handle)
    found: dict[str, np.ndarray | None] = {}
    for name, info in manifest["arrays"].items():
        if info is None:
            found[name] = None
            continue
        with opened(f"{name}.npy") as handle:
            found[name] = _map(handle)
    meta = None
    if manifest.get("meta"):
        with opened("meta.pkl") as handle:
            meta = pickle.load(handle)
    return Stored(found, meta, int(manifest.get("nbytes", 0)))


def delete(key: str) -> None:
    """Remove the artefact of ``key`` (renamed away first, so no reader sees half of it)."""
    if not isinstance(cache.store_for(key), cache.ReadOnlyCache):
        _discard(folder_for(key))


def _touch(folder: Path) -> None:
    used = folder / "used"
    try:
        if time.time() - used.stat().st_mtime > TOUCH_SECONDS:
            os.utime(used)
    except OSError:
        pass


def _discard(folder: Path) -> None:
    trash = folder.with_name(f".trash-{secrets.token_hex(4)}-{folder.name}")
    try:
        os.rename(folder, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def _map(handle) -> np.ndarray:
    """A read-only memmap of the open ``.npy`` file (an empty array is read, not mapped)."""
    shape, dtype, start = arrays_check.header(handle)
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype)
    return np.memmap(handle, dtype=dtype, mode="r", offset=start, shape=shape)


class _Stream:
    """One array written a chunk of rows at a time (its length unknown until it closes)."""

    def __init__(self, path: Path, dtype: np.dtype, row_shape: tuple[int, ...]) -> None:
        self.path, self.dtype, self.row_shape, self.rows = path, np.dtype(dtype), tuple(row_shape), 0
        self.handle = open(path, "wb")  # noqa: SIM115 (closed by close() or the Writer)
        self.handle.write(npy_header(self.dtype, (0, *self.row_shape)))

    def append(self, chunk: np.ndarray) -> None:
        chunk = np.ascontiguousarray(chunk, dtype=self.dtype)
        if chunk.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {chunk.shape[1:]} do not fit {self.path.name} {self.row_shape}")
        self.handle.write(chunk.tobytes())
        self.rows += len(chunk)

    def close(self) -> tuple[int, ...]:
        shape = (self.rows, *self.row_shape)
        self.handle.seek(0)
        self.handle.write(npy_header(self.dtype, shape))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        return shape


def npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """A version 1.0 ``.npy`` header of exactly HEADER_BYTES bytes (so it can be rewritten in place)."""
    described = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False}
    text = repr({**described, "shape": tuple(int(s) for s in shape)})
    body_bytes = HEADER_BYTES - 10
    if len(text) + 1 > body_bytes:
        raise ValueError(f"shape {shape} is too long for a {HEADER_BYTES}-byte header")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_bytes) + (text.ljust(body_bytes - 1) + "\n").encode()


class Writer:
    """Writes one artefact into a temporary folder and moves it into place on :meth:`commit`.

    Use as a context manager: leaving it by an exception (or without ``commit``) deletes
    the temporary folder. ``replace=True`` replaces an existing artefact (a recomputation);
    otherwise an artefact another process completed first is kept and this one dropped.
    """

    def __init__(self, key: str, replace: bool = False) -> None:
        if isinstance(cache.store_for(key), cache.ReadOnlyCache):
            raise cache.CacheWriteError("The cache is read-only (demo mode): nothing new can be stored.")
        self.key, self.replace = key, replace
        self.final = folder_for(key)
        host = socket.gethostname().replace("-", "_")
        self.tmp = self.final.with_name(f".tmp-{host}-{os.getpid()}-{secrets.token_hex(4)}-{self.final.name}")
        self.arrays: dict[str, dict | None] = {}
        self.streams: dict[str, _Stream] = {}
        self.meta: Any = None
        self._guard(lambda: self.tmp.mkdir(parents=True))

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info) -> None:
        for stream in self.streams.values():
            stream.handle.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _guard(self, action):
        try:
            return action()
        except OSError as error:
            if isinstance(error, cache.CacheWriteError):
                raise
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise cache.CacheWriteError(cache.write_message(cache.store_for(self.key), error)) from error

    def put(self, name: str, array: np.ndarray | None) -> None:
        """Store a whole array (None is remembered as None)."""
        if array is None:
            self.arrays[name] = None
            return
        array = np.ascontiguousarray(array)
        self._guard(lambda: np.save(self.tmp / f"{name}.npy", array, allow_pickle=False))
        self.arrays[name] = {"dtype": array.dtype.str, "shape": list(array.shape)}

    def stream(self, name: str, dtype: Any, row_shape: tuple[int, ...] = ()) -> _Stream:
        """An array written in chunks of rows: ``writer.stream(...).append(rows)``."""
        stream = self._guard(lambda: _Stream(self.tmp / f"{name}.npy", np.dtype(dtype), row_shape))
        self.streams[name] = stream
        return stream

    def append(self, name: str, chunk: np.ndarray) -> None:
        self._guard(lambda: self.streams[name].append(chunk))

    def path(self, name: str) -> Path:
        """Where array ``name`` is being written (readable with mmap once its stream is closed)."""
        return self.tmp / f"{name}.npy"

    def close_streams(self) -> None:
        for name, stream in list(self.streams.items()):
            shape = self._guard(stream.close)
            self.arrays[name] = {"dtype": stream.dtype.str, "shape": list(shape)}
            del self.streams[name]

    def commit(self) -> None:
        """Sync every file and move the artefact into place; CacheWriteError if it cannot be kept."""
        self.close_streams()
        self._guard(self._write_manifest)
        nbytes = _folder_bytes(self.tmp)
        store = cache.store_for(self.key)
        if nbytes > store.size_limit:
            raise cache.CacheWriteError(
                f"The result ({nbytes / 2**20:.0f} MB) is larger than the cache limit "
                f"({store.size_limit / 2**20:.0f} MB): raise RNNX_CACHE_LIMIT_GB (or the limit of this cache)."
            )
        self._guard(self._move_into_place)
        cull(self.final.parent, store, keep=self.final.name)

    def _write_manifest(self) -> None:
        if self.meta is not None:
            with open(self.tmp / "meta.pkl", "wb") as handle:
                pickle.dump(self.meta, handle, protocol=pickle.HIGHEST_PROTOCOL)
        for name, info in self.arrays.items():
            if info is not None and name not in self.streams:
                _fsync(self.tmp / f"{name}.npy")
        manifest = {"key": self.key, "arrays": self.arrays, "meta": self.meta is not None}
        manifest["nbytes"] = _folder_bytes(self.tmp)
        (self.tmp / "used").touch()
        (self.tmp / "manifest.json").write_text(json.dumps(manifest))
        for name in ("meta.pkl", "manifest.json"):
            if (self.tmp / name).exists():
                _fsync(self.tmp / name)

    def _move_into_place(self) -> None:
        if self.final.exists():
            problem = damage(self.key)
            if not self.replace and problem is None:
                shutil.rmtree(self.tmp, ignore_errors=True)  # another process finished it first
                return
            if problem is not None:
                log.warning("Replacing the damaged artefact %s (%s).", self.key, problem)
            _discard(self.final)
        try:
            os.replace(self.tmp, self.final)
        except OSError:
            if not self.final.exists():
                raise
            shutil.rmtree(self.tmp, ignore_errors=True)  # a concurrent writer won the race
        _fsync_dir(self.final.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)


def _folder_bytes(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())


@dataclass(order=True)
class _Entry:
    used: float
    nbytes: int = field(compare=False)
    path: Path = field(compare=False)


def _entries(root: Path) -> list[_Entry]:
    found = []
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.name.startswith("."):
            continue
        try:
            nbytes = json.loads((folder / "manifest.json").read_text()).get("nbytes", 0)
            found.append(_Entry((folder / "used").stat().st_mtime, int(nbytes), folder))
        except (OSError, ValueError):
            continue
    return sorted(found)


def listing(root: Path) -> list[tuple[str, int, float]]:
    """``(key, bytes, last use)`` of every complete artefact under ``root``, least recently used first."""
    found = []
    for entry in _entries(root):
        try:
            key = json.loads((entry.path / "manifest.json").read_text()).get("key")
        except (OSError, ValueError):
            continue
        if isinstance(key, str):
            found.append((key, entry.nbytes, entry.used))
    return found


def sweep(root: Path) -> None:
    """Delete leftovers: trash, and temporary folders of dead local processes or older than a few hours."""
    host = socket.gethostname().replace("-", "_")
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.name.startswith(".trash-"):
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.name.startswith(".tmp-"):
            parts = folder.name.split("-")
            try:
                dead = parts[1] == host and not process_alive(int(parts[2]))
                stale = time.time() - folder.stat().st_mtime > STALE_TMP_SECONDS
            except (ValueError, IndexError, OSError):
                continue
            if dead or stale:
                shutil.rmtree(folder, ignore_errors=True)


def cull(root: Path, store, keep: str | None = None) -> list[str]:
    """Evict least recently used artefacts until arrays and the diskcache fit the store's limit.

    Nothing is evicted from a store whose eviction policy is ``"none"`` (only leftovers are swept)."""
    sweep(root)
    if getattr(store, "eviction_policy", None) == "none":
        return []
    try:
        budget = int(store.size_limit) - int(store.volume())
    except (AttributeError, OSError):
        return []
    entries = _entries(root)
    total = sum(entry.nbytes for entry in entries)
    evicted = []
    for entry in entries:
        if total <= budget:
            break
        if entry.path.name == keep:
            continue
        _discard(entry.path)
        total -= entry.nbytes
        evicted.append(entry.path.name)
    return evicted
