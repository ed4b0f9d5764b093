"""Uploads as server-side handles: what a session dropped and what it has prepared.

The browser only ever holds ids issued here (``f-`` + 24 hex digits for a
received file, ``upload-…`` for a prepared dataset) and display names. The
files live under ``<cache>/uploads/<session>/``, beside the session's record
(``record.json``: staged files and owned datasets); the folder is named by the
signed session id, so nothing the browser sends can name a path or claim an upload.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from model import cache, config
from services import identity
from services.validation import InvalidInput

FILE_ID = re.compile(r"^f-[0-9a-f]{24}$")
SLOTS = ("model", "csv", "vocab")
SUFFIXES = {"model": ".keras", "csv": ".csv", "vocab": ".txt"}
MAX_DATASETS = 8  # prepared uploads kept per session (the oldest is forgotten)
RECORD_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class StagedFile:
    """A received file: its id (the browser's handle), display name and size."""

    id: str
    name: str
    size: int


class UploadRefused(InvalidInput):
    """An upload id that this session does not own, or a quota that is full."""


def _record_path(sid: str) -> Path:
    return session_folder(sid) / "record.json"


def _record(sid: str) -> dict:
    """The session's record (staged files, prepared datasets); empty once older than a week.

    A JSON file replaced atomically, not an SQLite row: background jobs are forked from the web
    process, and SQLite written from a forked child (which inherits its parent's lock state) was
    seen to corrupt the database.
    """
    path = _record_path(sid)
    try:
        if time.time() - path.stat().st_mtime > RECORD_TTL_S:
            return {"staged": {}, "datasets": []}
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"staged": {}, "datasets": []}
    ok = isinstance(record, dict) and isinstance(record.get("staged"), dict)
    return record if ok and isinstance(record.get("datasets"), list) else {"staged": {}, "datasets": []}


def _save(sid: str, record: dict) -> None:
    path = _record_path(sid)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".record-{os.getpid()}-{secrets.token_hex(4)}.json")
    try:
        partial.write_text(json.dumps(record), encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise cache.CacheWriteError(
            f"Your session could not be saved on the server ({error.strerror})."
        ) from error


def uploads_root() -> Path:
    return config.cache_dir() / "uploads"


def session_folder(sid: str | None = None) -> Path:
    """This session's upload folder (the id comes from the signed cookie, never from the browser)."""
    sid = sid or identity.current_session()
    if not identity.SESSION_ID.match(sid):
        raise UploadRefused("Your browser session is malformed: reload the page.")
    return uploads_root() / sid


def quota_bytes() -> int:
    """All upload files together (``RNNX_UPLOAD_FILES_GB``, default 4): the oldest sessions' go first."""
    return int(config.env_number("RNNX_UPLOAD_FILES_GB", 4.0, minimum=1e-9) * 1024**3)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def make_room(n_bytes: int, keep: Path) -> None:
    """Free space for ``n_bytes`` more upload bytes by removing the least recently used other sessions."""
    root = uploads_root()
    if not root.is_dir():
        return
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    sizes = {p: _folder_size(p) for p in folders}
    total = sum(sizes.values())
    for folder in folders:
        if total + n_bytes <= quota_bytes():
            return
        if folder == keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        total -= sizes[folder]
    if total + n_bytes > quota_bytes():
        raise UploadRefused(
            f"The server's upload space ({quota_bytes() / 2**30:.1f} GB, RNNX_UPLOAD_FILES_GB) is full: "
            "remove earlier uploads or ask the administrator for more."
        )


def _on_disk(staged_id: str, slot: str) -> str:
    """The file name of a staged upload: its id plus the suffix its reader needs (Keras wants .keras)."""
    return staged_id + SUFFIXES.get(slot, "")


def stage(slot: str, data: bytes, name: str) -> StagedFile:
    """Keep a received file in this session's folder; returns its handle."""
    if slot not in SLOTS:
        raise UploadRefused("Unknown upload slot.")
    sid = identity.current_session()
    folder = session_folder(sid) / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    record = _record(sid)
    old = record["staged"].get(slot)
    if old:
        (folder / _on_disk(old["id"], slot)).unlink(missing_ok=True)
    make_room(len(data), session_folder(sid))
    staged = StagedFile(f"f-{secrets.token_hex(12)}", name, len(data))
    try:
        (folder / _on_disk(staged.id, slot)).write_bytes(data)
    except OSError as error:
        raise cache.CacheWriteError(
            f"The upload could not be stored on the server ({error.strerror})."
        ) from error
    os.utime(session_folder(sid))
    record["staged"][slot] = asdict(staged)
    _save(sid, record)
    return staged


def discard(slot: str) -> None:
    """Forget this session's file in ``slot`` (a refused upload)."""
    sid = identity.current_session()
    record = _record(sid)
    old = record["staged"].pop(slot, None)
    if old:
        (session_folder(sid) / "incoming" / _on_disk(old["id"], slot)).unlink(missing_ok=True)
        _save(sid, record)


def staged_files() -> dict[str, StagedFile]:
    """This session's received files by slot (only those still on disk)."""
    sid = identity.current_session()
    out = {}
    for slot, entry in _record(sid)["staged"].items():
        staged = StagedFile(**entry)
        if (session_folder(sid) / "incoming" / _on_disk(staged.id, slot)).is_file():
            out[slot] = staged
    return out


def path_of(file_id: object) -> Path:
    """The server path of one of this session's received files; UploadRefused for anyone else's."""
    if not isinstance(file_id, str) or not FILE_ID.match(file_id):
        raise UploadRefused("This upload id is malformed.")
    for slot, staged in staged_files().items():
        if staged.id == file_id:
            return session_folder() / "incoming" / _on_disk(staged.id, slot)
    raise UploadRefused("This upload belongs to another session or has expired: drop the file again.")


def public_message(text: str) -> str:
    """``text`` fit for the browser: this session's file paths become the names the user gave them,
    and any other server folder under the upload root becomes "…"."""
    for slot, staged in staged_files().items():
        text = text.replace(str(session_folder() / "incoming" / _on_disk(staged.id, slot)), staged.name)
    return text.replace(str(uploads_root()), "…")


def register_dataset(dataset: str, label: str) -> list[dict]:
    """Record that this session prepared ``dataset``; returns the session's datasets."""
    sid = identity.current_session()
    record = _record(sid)
    datasets = [d for d in record["datasets"] if d["id"] != dataset]
    datasets.append({"id": dataset, "label": label[:200], "time": time.time()})
    record["datasets"] = datasets[-MAX_DATASETS:]
    _save(sid, record)
    return owned_datasets()


def owned_datasets() -> list[dict]:
    """``[{"id", "label"}]`` of the uploads this session prepared (never taken from the browser)."""
    try:
        sid = identity.current_session()
    except identity.SessionError:
        return []
    return [{"id": d["id"], "label": d["label"]} for d in _record(sid)["datasets"]]


def owns(dataset: str) -> bool:
    return any(d["id"] == dataset for d in owned_datasets())


def require_owned(dataset: str) -> str:
    """``dataset`` if this session prepared it; UploadRefused otherwise."""
    if not owns(dataset):
        raise UploadRefused(
            "This upload belongs to another session (or has expired): analyse your files again."
        )
    return dataset
