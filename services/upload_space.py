"""Where uploads live and how much room they may take: each session's record, quotas, eviction.

A session's folder (``<cache>/uploads/<session>/``, named by the signed cookie's id) holds its
record (``record.json``) and its received files (``incoming/``); folders ``upload-…/`` of older
versions held a prepared upload's model (now kept with its results, shared by every session that
prepared the same files: ``model.upload_store``; their room is ``services.upload_results``). The
record lists the staged files, the prepared uploads (``datasets``, which the session holds while
it is live) and the ids of those that expired (``expired``: tombstones, so a returning user reads
"expired", never "another session's").

Room is made, in this order, only from (1) the uploading session's own oldest prepared uploads
when it would pass its own quota (``RNNX_UPLOAD_SESSION_MB``), then, when all uploads together
would pass ``RNNX_UPLOAD_FILES_GB``, (2) sessions idle longer than ``RNNX_UPLOAD_TTL_H`` (expired)
and (3) other sessions over their own quota, least recently used first. A prepared upload of a
live session within its quota is never taken: the new upload is refused with a message instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from model import cache, config
from services import identity
from services.validation import InvalidInput

RECORD = "record.json"
INCOMING = "incoming"
SUFFIXES = {"model": ".keras", "csv": ".csv", "vocab": ".txt"}
MAX_TOMBSTONES = 32  # expired upload ids remembered per session
TOUCH_S = 300  # a record's "last used" time is refreshed at most this often
ORPHAN_GRACE_S = 24 * 3600  # files no record names (a preparation under way) are kept this long
TOMBSTONE_KEEP = 4  # a session that expired keeps its tombstones for this many idle periods


class UploadRefused(InvalidInput):
    """An upload id that this session does not own, or no room for a new file."""


class NoRoom(UploadRefused):
    """No room for a new file without taking another live session's uploads."""


def quota_bytes() -> int:
    """All upload files together (``RNNX_UPLOAD_FILES_GB``, default 4)."""
    return int(config.env_number("RNNX_UPLOAD_FILES_GB", 4.0, minimum=1e-9) * 1024**3)


def session_quota_bytes() -> int:
    """One session's upload files (``RNNX_UPLOAD_SESSION_MB``, default 1024)."""
    return int(config.env_number("RNNX_UPLOAD_SESSION_MB", 1024.0, minimum=1e-9) * 1024**2)


def ttl_seconds() -> float:
    """How long a session's uploads stay after its last use (``RNNX_UPLOAD_TTL_H``, default 168: a week)."""
    return config.env_number("RNNX_UPLOAD_TTL_H", 168.0, minimum=1e-6) * 3600


def uploads_root() -> Path:
    return config.cache_dir() / "uploads"


def session_folder(sid: str | None = None) -> Path:
    """This session's upload folder (the id comes from the signed cookie, never from the browser)."""
    sid = sid or identity.current_session()
    if not identity.SESSION_ID.match(sid):
        raise UploadRefused("Your browser session is malformed: reload the page.")
    return uploads_root() / sid


# ---------------------------------------------------------------- the record


def on_disk(staged_id: str, slot: str) -> str:
    """The file name of a staged upload: its id plus the suffix its reader needs (Keras wants .keras)."""
    return staged_id + SUFFIXES.get(slot, "")


def empty_record() -> dict:
    return {"staged": {}, "datasets": [], "expired": []}


def _load(sid: str) -> tuple[dict, float | None]:
    """The record as stored and its modification time (None when there is none)."""
    path = session_folder(sid) / RECORD
    try:
        mtime = path.stat().st_mtime
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty_record(), None
    ok = isinstance(record, dict) and isinstance(record.get("staged"), dict)
    if not ok or not isinstance(record.get("datasets"), list):
        return empty_record(), mtime
    expired = record.get("expired")
    record["expired"] = [e for e in expired if isinstance(e, str)] if isinstance(expired, list) else []
    return record, mtime


def tombstones(record: dict) -> list[str]:
    """The record's expired ids, with its prepared uploads added (as when the whole session expires)."""
    ids = record["expired"] + [d["id"] for d in record["datasets"] if d.get("id") not in record["expired"]]
    return ids[-MAX_TOMBSTONES:]


def read_record(sid: str) -> dict:
    """The session's record; once idle longer than the TTL, only its tombstones are left.

    A JSON file replaced atomically, not an SQLite row: background jobs are forked from the web
    process, and SQLite written from a forked child (which inherits its parent's lock state) was
    seen to corrupt the database.
    """
    record, mtime = _load(sid)
    if mtime is not None and time.time() - mtime > ttl_seconds():
        return {**empty_record(), "expired": tombstones(record)}
    return record


def write_record(sid: str, record: dict, mtime: float | None = None) -> None:
    """Replace the session's record atomically (``mtime``: keep that modification time)."""
    path = session_folder(sid) / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".record-{os.getpid()}-{secrets.token_hex(4)}.json")
    try:
        partial.write_text(json.dumps(record), encoding="utf-8")
        if mtime is not None:
            os.utime(partial, (mtime, mtime))
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise cache.CacheWriteError(
            f"Your session could not be saved on the server ({error.strerror})."
        ) from error


def touch(sid: str) -> None:
    """Mark the session's uploads as used now (at most every few minutes: one stat per request)."""
    path = session_folder(sid) / RECORD
    try:
        if time.time() - path.stat().st_mtime > TOUCH_S:
            os.utime(path)
    except OSError:
        pass


def expire_datasets(sid: str, record: dict, ids: set[str]) -> dict:
    """Remove the prepared uploads ``ids`` of the session (their folders) and leave tombstones."""
    for dataset in ids:
        shutil.rmtree(session_folder(sid) / dataset, ignore_errors=True)
    record["datasets"] = [d for d in record["datasets"] if d.get("id") not in ids]
    record["expired"] = [e for e in record["expired"] if e not in ids] + sorted(ids)
    record["expired"] = record["expired"][-MAX_TOMBSTONES:]
    return record


# ---------------------------------------------------------------- room


def _size(path: Path) -> int:
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:  # removed meanwhile by another worker
        return 0


def _dataset_sizes(folder: Path, record: dict) -> list[tuple[str, int]]:
    """(id, bytes) of the session's prepared uploads, oldest first."""
    ordered = sorted(record["datasets"], key=lambda d: d.get("time", 0))
    return [(d["id"], _size(folder / d["id"])) for d in ordered if isinstance(d.get("id"), str)]


@dataclass
class Usage:
    """One session's folder: its bytes, last use and record as stored."""

    sid: str
    size: int
    last_used: float
    record: dict

    def expired(self, now: float) -> bool:
        return now - self.last_used > ttl_seconds()


def _sweep(folder: Path, record: dict, now: float) -> None:
    """Remove what no record names (aborted uploads, forgotten preparations) once past the grace time."""
    named = {RECORD, INCOMING, *(d.get("id") for d in record["datasets"])}
    staged = {on_disk(str(e.get("id")), slot) for slot, e in record["staged"].items() if isinstance(e, dict)}
    entries = [p for p in folder.iterdir() if p.name not in named]
    if (folder / INCOMING).is_dir():
        entries += [p for p in (folder / INCOMING).iterdir() if p.name not in staged]
    for path in entries:
        try:
            old = now - path.stat().st_mtime > ORPHAN_GRACE_S
        except OSError:
            continue
        if old and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif old:
            path.unlink(missing_ok=True)


def usage(now: float) -> dict[str, Usage]:
    """Every session folder's use (after sweeping its orphans); folders of other names count as used."""
    root = uploads_root()
    found: dict[str, Usage] = {}
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        if not identity.SESSION_ID.match(folder.name):  # the CLI's folder: counted, never evicted
            found[folder.name] = Usage(folder.name, _size(folder), now, empty_record())
            continue
        record, mtime = _load(folder.name)
        _sweep(folder, record, now)
        last = mtime if mtime is not None else folder.stat().st_mtime
        if mtime is not None and now - mtime > TOMBSTONE_KEEP * ttl_seconds() and not record["datasets"]:
            shutil.rmtree(folder, ignore_errors=True)  # long gone: its tombstones too
            continue
        found[folder.name] = Usage(folder.name, _size(folder), last, record)
    return found


def _evict_session(use: Usage) -> int:
    """Empty an expired session's folder, keeping its tombstones; returns the bytes freed."""
    folder = session_folder(use.sid)
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name != RECORD:
            path.unlink(missing_ok=True)
    record = {**empty_record(), "expired": tombstones(use.record)}
    write_record(use.sid, record, mtime=use.last_used)  # still expired: the tombstones read "expired"
    return use.size - _size(folder)


def _oldest(sid: str, record: dict, excess: int) -> tuple[set[str], int]:
    """The session's oldest prepared uploads whose removal frees ``excess`` bytes (or all of them).

    Uploads that keep no files in the session's folder (their model is kept with their results,
    ``model.upload_store``) free nothing here and are never taken for room for files."""
    gone, freed = set(), 0
    for dataset, size in _dataset_sizes(session_folder(sid), record):
        if freed >= excess:
            break
        if not size:
            continue
        gone.add(dataset)
        freed += size
    return gone, freed


def _expire_oldest(sid: str, record: dict, excess: int, mtime: float | None = None) -> None:
    """Expire the session's oldest prepared uploads until ``excess`` bytes are freed.

    ``mtime``: keep that as the record's last use (another session's, which did not use it now)."""
    gone, _freed = _oldest(sid, record, excess)
    if gone:
        write_record(sid, expire_datasets(sid, record, gone), mtime=mtime)


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.1f} MB"


def make_room(n_bytes: int, sid: str, replacing: int = 0) -> None:
    """Free room for ``n_bytes`` more of session ``sid``'s files (``replacing``: bytes it replaces).

    UploadRefused (a message for the user) when there is none without taking another live
    session's uploads.
    """
    own_limit, limit, now = session_quota_bytes(), quota_bytes(), time.time()
    if n_bytes > own_limit:
        raise NoRoom(
            f"This file ({_mb(n_bytes)}) is larger than a session's upload space "
            f"({_mb(own_limit)}, RNNX_UPLOAD_SESSION_MB)."
        )
    sessions = usage(now)
    mine = sessions.get(sid) or Usage(sid, 0, now, empty_record())
    if mine.expired(now) and mine.size:  # this session's own uploads expired: they go first
        mine.size, replacing = mine.size - _evict_session(mine), 0
    # Plan first, remove after: nothing is taken unless the new file then fits.
    own_excess, record = mine.size - replacing + n_bytes - own_limit, read_record(sid)
    own_freed = _oldest(sid, record, own_excess)[1] if own_excess > 0 else 0
    if own_freed < own_excess:
        raise NoRoom(
            f"Your session's upload space ({_mb(own_limit)}, RNNX_UPLOAD_SESSION_MB) is full: "
            "your files in the other slots take the rest."
        )
    total = sum(u.size for u in sessions.values()) - replacing + n_bytes - own_freed
    plan: list[tuple[Usage, int | None]] = []
    for use in sorted(sessions.values(), key=lambda u: u.last_used):
        if total <= limit:
            break
        if use.sid == sid or not identity.SESSION_ID.match(use.sid):
            continue
        if use.expired(now):
            plan.append((use, None))
            total -= use.size
        elif use.size > own_limit:
            freed = _oldest(use.sid, use.record, use.size - own_limit)[1]
            plan.append((use, use.size - own_limit))
            total -= freed
    if total > limit:
        raise NoRoom(
            f"The server's upload space ({limit / 2**30:.2g} GB, RNNX_UPLOAD_FILES_GB) is full of other "
            "sessions' files in use: try again later, or ask the administrator for more room."
        )
    if own_excess > 0:
        _expire_oldest(sid, record, own_excess)
    for use, excess in plan:
        if excess is None:
            _evict_session(use)
        else:
            _expire_oldest(use.sid, use.record, excess, mtime=use.last_used)
