"""Uploads as server-side handles: what a session dropped and what it has prepared.

The browser only ever holds ids issued here (``f-`` + 24 hex digits for a
received file, ``upload-…`` for a prepared dataset) and display names. The
files live under ``<cache>/uploads/<session>/``, beside the session's record
(``record.json``: staged files, owned datasets, expired ids); the folder is named by the
signed session id, so nothing the browser sends can name a path or claim an upload.
A file arrives as a stream of chunks (``serving.upload_route``), written to disk as it comes,
its size checked while it is received; quotas and eviction are ``services.upload_space`` (files)
and ``services.upload_results`` (what preparations keep, shared by sessions preparing the same files).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from model import cache, config
from services import byo, identity, upload_results
from services import upload_space as space
from services.upload_space import NoRoom, UploadRefused, on_disk, session_folder, uploads_root

__all__ = ["NoRoom", "UploadRefused", "session_folder", "uploads_root"]  # re-exported for the callers

FILE_ID = re.compile(r"^f-[0-9a-f]{24}$")
SLOTS = ("model", "csv", "vocab")
WHAT = {"model": "model file", "csv": "CSV file", "vocab": "vocabulary file"}
DEFAULT_NAMES = {"model": "model.keras", "csv": "data.csv", "vocab": "vocabulary.txt"}
MAX_DATASETS = 8  # prepared uploads kept per session (the oldest expires)


@dataclass(frozen=True)
class StagedFile:
    """A received file: its id (the browser's handle), display name, size and what it holds."""

    id: str
    name: str
    size: int
    facts: dict = field(default_factory=dict)


class UploadTooLarge(UploadRefused):
    """A file over ``RNNX_UPLOAD_LIMIT_MB``, noticed while it was received (nothing is kept)."""


class FormError(ValueError):
    """A request body that is not the expected form (the message is for the user)."""


def safe_name(filename: str | None, slot: str) -> str:
    """A display name without folders or odd characters (never a path the user chose)."""
    default = DEFAULT_NAMES.get(slot, "file")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or default).name).lstrip(".")
    return name[:80] or default


def too_large_message(slot: str) -> str:
    """What a user reads whose file in ``slot`` passed the upload limit."""
    limit = config.upload_limit_bytes() / 2**20
    what = WHAT.get(slot, "file")
    return f"The {what} is more than the limit of {limit:g} MB (RNNX_UPLOAD_LIMIT_MB): it was not kept."


def _write(path: Path, chunks: Iterable[bytes], slot: str) -> int:
    """Write ``chunks`` to ``path`` as they come; the byte count, or UploadTooLarge past the limit."""
    limit, size = config.upload_limit_bytes(), 0
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(too_large_message(slot))
                out.write(chunk)
    except OSError as error:
        raise cache.CacheWriteError(
            f"The upload could not be stored on the server ({error.strerror})."
        ) from error
    return size


def receive(slot: str, filename: str | None, chunks: Iterable[bytes], expected: int) -> StagedFile:
    """Keep a file arriving as ``chunks`` in this session's folder; returns its handle with its facts.

    ``expected``: its size as announced (room is made for it first). It replaces the slot's
    previous file. UploadTooLarge past the limit, byo.InputError (or ValueError) for an unusable
    file, UploadRefused when there is no room: then nothing is kept and the slot is left empty.
    """
    if slot not in SLOTS:
        raise UploadRefused("Unknown upload slot.")
    sid = identity.current_session()
    try:
        staged = _receive(sid, slot, filename, chunks, expected)
    except BaseException:
        discard(slot)
        raise
    record = space.read_record(sid)
    previous = record["staged"].get(slot)
    if isinstance(previous, dict) and previous.get("id") != staged.id:
        (session_folder(sid) / space.INCOMING / on_disk(str(previous.get("id")), slot)).unlink(
            missing_ok=True
        )
    record["staged"][slot] = asdict(staged)
    space.write_record(sid, record)
    return staged


def _receive(sid: str, slot: str, filename: str | None, chunks: Iterable[bytes], expected: int) -> StagedFile:
    what = WHAT[slot]
    old = space.read_record(sid)["staged"].get(slot) or {}
    space.make_room(expected, sid, replacing=int(old.get("size", 0) or 0))
    folder = session_folder(sid) / space.INCOMING
    folder.mkdir(parents=True, exist_ok=True)
    staged_id = f"f-{secrets.token_hex(12)}"
    partial, path = folder / f".partial-{staged_id}", folder / on_disk(staged_id, slot)
    try:
        size = _write(partial, chunks, slot)
        byo.check_size(size, what)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    try:
        return StagedFile(staged_id, safe_name(filename, slot), size, byo.describe(slot, path))
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def discard(slot: str) -> None:
    """Forget this session's file in ``slot`` (a refused upload)."""
    sid = identity.current_session()
    record = space.read_record(sid)
    old = record["staged"].pop(slot, None)
    if old:
        (session_folder(sid) / space.INCOMING / on_disk(old["id"], slot)).unlink(missing_ok=True)
        space.write_record(sid, record)


def staged_files() -> dict[str, StagedFile]:
    """This session's received files by slot (only those still on disk)."""
    sid = identity.current_session()
    out = {}
    for slot, entry in space.read_record(sid)["staged"].items():
        if slot not in SLOTS or not isinstance(entry, dict):
            continue
        staged = StagedFile(**{k: entry[k] for k in ("id", "name", "size", "facts") if k in entry})
        if (session_folder(sid) / space.INCOMING / on_disk(staged.id, slot)).is_file():
            out[slot] = staged
    return out


def path_of(file_id: object) -> Path:
    """The server path of one of this session's received files; UploadRefused for anyone else's."""
    if not isinstance(file_id, str) or not FILE_ID.match(file_id):
        raise UploadRefused("This upload id is malformed.")
    for slot, staged in staged_files().items():
        if staged.id == file_id:
            return session_folder() / space.INCOMING / on_disk(staged.id, slot)
    raise UploadRefused("This upload belongs to another session or has expired: drop the file again.")


def public_message(text: str) -> str:
    """``text`` fit for the browser: this session's file paths become the names the user gave them,
    and any other server folder under the upload root becomes "…"."""
    for slot, staged in staged_files().items():
        text = text.replace(str(session_folder() / space.INCOMING / on_disk(staged.id, slot)), staged.name)
    return text.replace(str(uploads_root()), "…")


def ensure_results_room() -> None:
    """Before this session prepares an upload: room for its results, or NoRoom with a message."""
    upload_results.ensure_room(identity.current_session())


def register_dataset(dataset: str, label: str) -> list[dict]:
    """Record that this session prepared ``dataset``; returns the session's datasets.

    Its results are admitted first (``services.upload_results``): NoRoom, with a message, when
    they do not fit without taking another live session's prepared uploads (then it is not recorded).
    """
    sid = identity.current_session()
    upload_results.admit(dataset, sid)
    record = space.read_record(sid)
    datasets = [d for d in record["datasets"] if d["id"] != dataset]
    datasets.append({"id": dataset, "label": label[:200], "time": time.time()})
    record["datasets"] = datasets[-MAX_DATASETS:]
    record["expired"] = [e for e in record["expired"] if e != dataset]
    forgotten = {d["id"] for d in datasets[:-MAX_DATASETS]}
    space.write_record(sid, space.expire_datasets(sid, record, forgotten) if forgotten else record)
    return owned_datasets()


def owned_datasets() -> list[dict]:
    """``[{"id", "label"}]`` of the uploads this session prepared (never taken from the browser)."""
    try:
        sid = identity.current_session()
    except identity.SessionError:
        return []
    return [{"id": d["id"], "label": d["label"]} for d in space.read_record(sid)["datasets"]]


def owns(dataset: str) -> bool:
    """Whether this session prepared ``dataset`` (and it has not expired); marks the session as in use."""
    owned = any(d["id"] == dataset for d in owned_datasets())
    if owned:
        space.touch(identity.current_session())
    return owned


def expired(dataset: str) -> bool:
    """Whether ``dataset`` was this session's and has expired (its tombstone is in the record)."""
    try:
        return dataset in space.read_record(identity.current_session())["expired"]
    except identity.SessionError:
        return False


def require_owned(dataset: str) -> str:
    """``dataset`` if this session prepared it; UploadRefused otherwise (saying when it expired)."""
    if owns(dataset):
        return dataset
    if expired(dataset):
        raise UploadRefused(
            "Your upload has expired: its files were removed after a long time unused or to make room "
            "on the server. Drop your model and CSV again and analyse them."
        )
    raise UploadRefused("This upload belongs to another session: analyse your own files.")
