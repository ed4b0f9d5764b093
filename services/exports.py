"""Downloads of a prepared analysis: files built once on disk, served by an opaque, per-session handle.

:func:`request` (in the request that asks) checks the analysis is there, names the file by
everything it depends on (dataset, method, format, options, a fingerprint of the data, the code
version) and issues a random token bound to the asking session. :func:`build` (in a background job)
writes the file as one of the server's queued heavy jobs (``serving.jobqueue``): a chunk of rows at
a time (``model.export_stream``), so memory stays bounded; two requests for the same file join one
build, and a second request later finds it at once. :func:`resolve` answers the download route
(``serving.downloads``): only the session a token was issued to gets the file, streamed from disk.

Files live in ``<state>/exports/`` (writable in demo mode too), at most ``RNNX_EXPORT_LIMIT_GB``
(default 4) together; the least recently used go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import cache, config
from model.artifacts import Analysis
from services import analysis as analysis_service
from services import identity

TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
TOKEN_SECONDS = 24 * 3600
STALE_SECONDS = 6 * 3600  # a partial file this old belongs to a build that died
UNKNOWN = "This download link is unknown, has expired or belongs to another browser session: export the file again from the analytics page."


@dataclass(frozen=True)
class Kind:
    """One export format: its file name ending, media type, and whether it reads the projection."""

    suffix: str
    media_type: str
    per_method: bool
    label: str


KINDS = {
    "states": Kind("states.csv.gz", "application/gzip", True, "hidden states (gzip CSV)"),
    "parquet": Kind("states.parquet", "application/vnd.apache.parquet", True, "hidden states (Parquet)"),
    "sequences": Kind("sequences.csv", "text/csv", False, "sequences and predictions (CSV)"),
    "projector": Kind("projector.zip", "application/zip", False, "TensorBoard projector (zip)"),
}


class ExportError(RuntimeError):
    """An export that cannot be made; the message is meant for the user."""


class NotServed(LookupError):
    """A download the route does not serve: ``status`` and a message for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Ticket:
    """A requested export: its handle, file name, whether it is built, its size and any note."""

    token: str
    filename: str
    ready: bool
    size: int
    note: str | None


@dataclass(frozen=True)
class Served:
    """What the download route sends: the built file, its download name and media type."""

    path: Path
    filename: str
    media_type: str


def folder() -> Path:
    path = cache.state_dir() / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def limit_bytes() -> int:
    """How much disk the built files may take together (``RNNX_EXPORT_LIMIT_GB``, default 4)."""
    return int(config.env_number("RNNX_EXPORT_LIMIT_GB", 4.0, minimum=0.0) * 1024**3)


def code_version() -> str:
    """A hash of the code that writes the files: a change to it builds every file anew."""
    from model import export, export_stream

    digest = hashlib.sha256()
    for module in (export, export_stream):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(analysis: Analysis, points: np.ndarray | None, hidden: np.ndarray | None) -> str:
    """A cheap hash of the data a file is made of: sizes, summary, per-sequence arrays, each
    per-state array's first and last rows (a re-prepared analysis gets other files)."""
    digest = hashlib.sha256()
    facts = {
        "dataset": analysis.dataset,
        "classes": list(analysis.class_names),
        "sizes": [analysis.n_sequences, analysis.n_states],
        "summary": analysis.summary,
    }
    digest.update(json.dumps(facts, sort_keys=True, default=str).encode())
    for array in (analysis.offsets, analysis.labels, analysis.predicted, analysis.confidence):
        digest.update(np.ascontiguousarray(array).tobytes())
    for array in (analysis.ep, analysis.distance, points, hidden):
        if array is None:
            digest.update(b"none")
            continue
        digest.update(repr((array.shape, str(array.dtype))).encode())
        digest.update(np.ascontiguousarray(array[:256]).tobytes())
        digest.update(np.ascontiguousarray(array[-256:]).tobytes())
    return digest.hexdigest()[:32]


def safe_filename(dataset: str, method: str, kind: str) -> str:
    """The download name: ASCII letters, digits, ``.``, ``_`` and ``-`` only, no folder."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"rnnx-{dataset}").strip(".-") or "rnnx"
    middle = f"-{method}" if KINDS[kind].per_method else ""
    return f"{stem[:80]}{middle}-{KINDS[kind].suffix}"


def _tokens():
    return cache.sessions_cache()


def _path(key: str, kind: str) -> Path:
    return folder() / f"{key.replace(':', '-')}.{KINDS[kind].suffix}"


def _inputs(dataset: str, method: str, kind: str, with_hidden: bool) -> tuple:
    """(analysis, points, hidden, key) of an export; ExportError when the analysis is not there."""
    analysis, _dmax, _xy = analysis_service.load(dataset, method)
    if analysis is None:
        raise ExportError(
            f"{analysis_service.dataset_label(dataset)} is not prepared yet: prepare it first, then export."
        )
    per_method = KINDS[kind].per_method
    points = analysis_service.raw_projection(dataset, method) if per_method else None
    wants_hidden = kind == "projector" or (per_method and with_hidden)
    states = analysis_service.states(dataset) if wants_hidden else None
    hidden = states["hidden"] if states else None
    if kind == "projector" and hidden is None:
        raise ExportError("No hidden states are stored for this analysis: the projector needs them.")
    key = cache.make_key(
        "export",
        dataset=str(dataset),
        method=method if per_method else None,
        format=kind,
        hidden=hidden is not None,
        data=fingerprint(analysis, points, hidden),
        code=code_version(),
    )
    return analysis, points, hidden, key


def _note(kind: str, analysis: Analysis) -> str | None:
    from model import export_stream

    return export_stream.projector_note(analysis.n_states) if kind == "projector" else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _touch(path: Path) -> None:
    """Mark ``path`` used now (the clock of the least-recently-used eviction)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def request(dataset: str, method: str, kind: str, with_hidden: bool) -> Ticket:
    """A handle on the export of ``dataset`` as ``kind`` for this session; built already or not.

    The caller has checked ``dataset`` (a built-in one or an upload this session owns)."""
    if kind not in KINDS:
        raise ExportError(f"Unknown export {kind[:20]!r}.")
    try:
        owner = identity.current_session()
    except identity.SessionError as error:
        raise ExportError(str(error)) from None
    analysis, _points, _hidden, key = _inputs(dataset, method, kind, with_hidden)
    token = secrets.token_urlsafe(24)
    record = {
        "owner": _owner_tag(owner),
        "key": key,
        "dataset": str(dataset),
        "method": method,
        "kind": kind,
        "hidden": bool(with_hidden),
        "filename": safe_filename(dataset, method, kind),
        "note": _note(kind, analysis),
    }
    _tokens().set(f"export-token:{token}", record, expire=TOKEN_SECONDS)
    path = _path(key, kind)
    ready = path.is_file()
    if ready:
        _touch(path)
    return Ticket(token, record["filename"], ready, _size(path), record["note"])


def _owner_tag(session: str) -> str:
    return hashlib.sha256(f"rnnx-export|{session}".encode()).hexdigest()[:32]


def _owned(token: object) -> dict | None:
    """The record of ``token`` when it was issued to the session of this request, else None."""
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        return None
    try:
        owner = _owner_tag(identity.current_session())
    except identity.SessionError:
        return None
    record = _tokens().get(f"export-token:{token}")
    if not isinstance(record, dict) or not secrets.compare_digest(str(record.get("owner")), owner):
        return None
    return record


def build(token: str, on_progress) -> Ticket:
    """Build the file of ``token`` (this session's) unless it is on disk; ``on_progress(fraction, stage)``.

    One of the server's queued heavy jobs; a build of the same file elsewhere is joined, not repeated."""
    from serving import jobqueue

    record = _owned(token)
    if record is None:
        raise ExportError(UNKNOWN)
    kind = record["kind"]
    analysis, points, hidden, key = _inputs(record["dataset"], record["method"], kind, record["hidden"])
    if key != record["key"]:  # the analysis was prepared again since: the file of today's data
        record = {**record, "key": key}
        _tokens().set(f"export-token:{token}", record, expire=TOKEN_SECONDS)
    path = _path(key, kind)

    def joined(fraction: float, stage: str) -> None:
        on_progress(fraction, f"{stage or 'starting'} (joined the same export started earlier)")

    def waiting(place: int, estimate: float | None) -> None:
        on_progress(0.0, jobqueue.waiting_label(place, estimate))

    def running(fraction: float, stage: str) -> None:
        jobqueue.publish(key, fraction, stage)
        on_progress(fraction, stage)

    if not path.is_file():
        try:
            with jobqueue.building(key, joined):
                if not path.is_file():
                    with jobqueue.slot(identity.current_session(), "export", waiting):
                        _write(path, kind, analysis, points, hidden, running)
        except jobqueue.QueueRefused as error:
            raise ExportError(str(error)) from None
        evict(keep=path)
    _touch(path)
    return Ticket(token, record["filename"], True, _size(path), record["note"])


def _write(path: Path, kind: str, analysis: Analysis, points, hidden, on_progress) -> None:
    """Write the file next to ``path`` and move it into place when complete."""
    from model import export_stream

    partial = path.with_name(f".partial-{os.getpid()}-{secrets.token_hex(4)}-{path.name}")
    try:
        if kind == "states":
            export_stream.write_states_csv_gz(partial, analysis, points, hidden, on_progress)
        elif kind == "parquet":
            export_stream.write_states_parquet(partial, analysis, points, hidden, on_progress)
        elif kind == "sequences":
            export_stream.write_sequences_csv(partial, analysis, on_progress)
        else:
            export_stream.write_projector_zip(partial, analysis, hidden, on_progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def evict(keep: Path | None = None) -> None:
    """Remove the least recently used files until all fit in :func:`limit_bytes` (never ``keep``),
    and partial files of builds that died."""
    now, files = time.time(), []
    for path in folder().iterdir():
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.name.startswith(".partial-"):
            if now - stat.st_mtime > STALE_SECONDS:
                path.unlink(missing_ok=True)
        elif path.is_file():
            files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _t, size, _p in files)
    for _mtime, size, path in sorted(files, key=lambda item: item[0]):
        if total <= limit_bytes():
            break
        if path != keep:
            path.unlink(missing_ok=True)
            total -= size


def resolve(token: str) -> Served:
    """The file behind ``token`` for the session of this request; NotServed(status, message) otherwise."""
    record = _owned(token)
    if record is None:
        raise NotServed(404, UNKNOWN)
    path = _path(record["key"], record["kind"])
    if not path.is_file():
        raise NotServed(
            409,
            "This file is not ready: it is still being built (the page downloads it when it is done), "
            "or it was removed to make room: export it again.",
        )
    _touch(path)
    return Served(path, record["filename"], KINDS[record["kind"]].media_type)
