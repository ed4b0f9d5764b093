"""The results of prepared uploads: what belongs to each upload, how large it is, and removing it.

Everything a bring-your-own preparation keeps lives in the uploads cache
(:func:`model.cache.uploads_cache`), under the upload's id, which is a hash of the files and
options: two sessions preparing the same files share one copy of

* its arrays (analysis, states, projections, neighbour index: :mod:`model.arrays` folders),
* its diskcache entries (the spec :class:`model.byo.UploadSpec` and the fitted projectors),
* the model and vocabulary kept for what-if, in ``models/<upload-id>/`` (the spec points there,
  never into one session's upload folder, so no session's eviction can take it from another).

This store evicts nothing by itself (diskcache policy ``"none"``; :func:`model.arrays.cull` skips
it): which uploads may go depends on the sessions holding them, decided by
``services.upload_results``. Anything here that belongs to no known upload (an older format, a
recomputable memo such as an attribution) is listed as loose.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from model import arrays, cache

MODELS = "models"
UPLOAD_ID = re.compile(r"upload-[0-9a-f]{12}")


@dataclass(frozen=True)
class Item:
    """One thing stored: an arrays artefact, a diskcache entry or a kept model folder."""

    kind: str  # "arrays", "entry" or "model"
    name: str  # the key (arrays, entry) or the upload id (model)
    nbytes: int
    used: float  # last use (arrays), store time (entry), last write (model)


@dataclass
class Inventory:
    """The store's contents: by upload id (those asked about and those with a kept model), and loose."""

    uploads: dict[str, list[Item]] = field(default_factory=dict)
    loose: list[Item] = field(default_factory=list)

    def bytes_of(self, upload_id: str) -> int:
        return sum(item.nbytes for item in self.uploads.get(upload_id, ()))

    def last_used(self, upload_id: str) -> float:
        return max((item.used for item in self.uploads.get(upload_id, ())), default=0.0)

    @property
    def total(self) -> int:
        return sum(self.bytes_of(upload) for upload in self.uploads) + sum(i.nbytes for i in self.loose)


def root() -> Path:
    return Path(cache.uploads_cache().directory)


def model_folder(upload_id: str) -> Path:
    """Where the model and vocabulary of ``upload_id`` are kept (shared by every session preparing it)."""
    if not UPLOAD_ID.fullmatch(upload_id):
        raise ValueError(f"not an upload id: {upload_id!r}")
    return root() / MODELS / upload_id


def _copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` atomically (a concurrent reader sees no half-written file)."""
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return  # the same content: the id is a hash of these very bytes
    partial = target.with_name(f".{target.name}-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def keep_files(upload_id: str, model_path: Path, vocab_path: Path | None) -> tuple[Path, Path | None]:
    """Keep the upload's model (and vocabulary) in its content-addressed folder; their paths there."""
    folder = model_folder(upload_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        kept_model = folder / "model.keras"
        _copy(Path(model_path), kept_model)
        kept_vocab = None
        if vocab_path is not None:
            kept_vocab = folder / "vocabulary"
            _copy(Path(vocab_path), kept_vocab)
        os.utime(folder)  # its last write: a preparation under way is recent
    except OSError as error:
        raise cache.CacheWriteError(
            f"The uploaded model could not be kept on the server ({error.strerror})."
        ) from error
    return kept_model, kept_vocab


def keys_of(upload_id: str) -> tuple[set[str], set[str]]:
    """(arrays keys, diskcache keys) a preparation of ``upload_id`` writes, for every projection."""
    from model import prepare, projection

    array_keys, entry_keys = set(), set()
    for method in projection.METHODS:
        keys = prepare.upload_keys(upload_id, method)
        entry_keys |= {keys["classifier"], keys["projector"]}
        array_keys |= {keys[k] for k in ("analysis", "states", "neighbors", "projection")}
    return array_keys, entry_keys


def _entries(store) -> list[Item]:
    try:
        rows = store._sql(
            "SELECT key, size + COALESCE(length(value), 0), store_time FROM Cache WHERE raw = 1"
        ).fetchall()
    except (OSError, sqlite3.Error):
        return []
    return [Item("entry", k, int(n or 0), float(t or 0)) for k, n, t in rows if not k.startswith("lock:")]


def _size(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    except OSError:
        return 0


def _models() -> list[Item]:
    found = []
    folder = root() / MODELS
    for path in folder.iterdir() if folder.is_dir() else ():
        if UPLOAD_ID.fullmatch(path.name):
            try:
                found.append(Item("model", path.name, _size(path), path.stat().st_mtime))
            except OSError:
                continue
    return found


def inventory(known: Iterable[str] = ()) -> Inventory:
    """Everything stored, attributed to the uploads ``known`` and those whose model is kept here.

    Arrays and entries are listed before the kept models: a preparation keeps its model before it
    writes anything else, so nothing it wrote can be listed while its upload is not yet known."""
    store = cache.uploads_cache()
    items = [Item("arrays", k, n, u) for k, n, u in arrays.listing(root() / arrays.DIRECTORY)]
    items += _entries(store)
    models = _models()
    ids = {u for u in known if UPLOAD_ID.fullmatch(u)} | {m.name for m in models}
    owner: dict[tuple[str, str], str] = {}
    for upload in ids:
        array_keys, entry_keys = keys_of(upload)
        owner.update({("arrays", k): upload for k in array_keys})
        owner.update({("entry", k): upload for k in entry_keys})
    found = Inventory({upload: [] for upload in ids})
    for item in items + models:
        upload = item.name if item.kind == "model" else owner.get((item.kind, item.name))
        if upload is None:
            found.loose.append(item)
        else:
            found.uploads[upload].append(item)
    return found


def remove(items: Iterable[Item]) -> None:
    """Remove stored items: entries first (a spec gone, the upload reads as not prepared), models last."""
    order = {"entry": 0, "arrays": 1, "model": 2}
    for item in sorted(items, key=lambda i: order[i.kind]):
        if item.kind == "entry":
            cache.uploads_cache().delete(item.name)
        elif item.kind == "arrays":
            arrays.delete(item.name)
        else:
            folder = model_folder(item.name)
            trash = folder.with_name(f".trash-{secrets.token_hex(4)}-{folder.name}")
            try:
                os.rename(folder, trash)
            except OSError:
                continue
            shutil.rmtree(trash, ignore_errors=True)


def remove_upload(upload_id: str) -> None:
    """Remove everything of ``upload_id`` (whoever asks must know no live session holds it)."""
    remove(inventory([upload_id]).uploads.get(upload_id, []))
