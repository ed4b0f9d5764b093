"""Room for prepared uploads' results never takes another live session's (issue 19, item 5).

Preparations are faked (no TensorFlow): each writes what a real one writes into the uploads cache
under the keys of ``model.prepare`` (the analysis, states and projection arrays, the spec and the
projector entries, the kept model), ~300 KB, so the quota can be sized in uploads. Sessions are
Flask request contexts naming the session, as the signed cookie would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from flask import Flask, g

from model import arrays, byo, cache, prepare, upload_store
from services import upload_results, upload_space, uploads

ARRAY_BYTES = 100_000  # per artefact; three per upload


def sid_of(n: int) -> str:
    return f"{n:02x}" * 16


def upload_of(n: int) -> str:
    return f"upload-{n:012x}"


@contextlib.contextmanager
def as_session(sid: str):
    with Flask(__name__).test_request_context():
        g.rnnx_session = sid
        yield


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNX_UPLOAD_QUOTA_GB", "1")
    monkeypatch.setenv("RNNX_UPLOAD_SESSION_RESULTS_MB", "512")
    model = tmp_path / "user.keras"
    model.write_bytes(b"k" * 10_000)
    return {"model": model}


def fake_prepare(store: dict, upload: str) -> int:
    """What a preparation of ``upload`` keeps; returns its bytes as the store counts them."""
    keys = prepare.upload_keys(upload, "pca")
    kept, _vocab = byo.store_files(upload, store["model"], None, "cli")
    cache.put(keys["classifier"], byo.UploadSpec(upload, str(kept), None, None, ["neg", "pos"], 16))
    cache.put(keys["projector"], {"components": [1.0, 2.0]})
    for kind in ("analysis", "states", "projection"):
        with arrays.Writer(keys[kind]) as writer:
            writer.put("x", np.zeros(ARRAY_BYTES // 4, np.float32))
            writer.commit()
    return upload_store.inventory([upload]).bytes_of(upload)


def quota(monkeypatch, n_bytes: float, share: float | None = None) -> None:
    monkeypatch.setenv("RNNX_UPLOAD_QUOTA_GB", repr(n_bytes / 2**30))
    if share is not None:
        monkeypatch.setenv("RNNX_UPLOAD_SESSION_RESULTS_MB", repr(share / 2**20))


def prepare_as(store: dict, sid: str, upload: str) -> None:
    """The Analyse job's order: room first, the preparation, then its registration (admission)."""
    with as_session(sid):
        uploads.ensure_results_room()
        fake_prepare(store, upload)
        uploads.register_dataset(upload, f"{upload}.keras on data.csv")


def intact(upload: str) -> bool:
    """Everything what-if and the cards read: analysis, projection, spec, its model file."""
    spec = cache.get(byo.spec_key(upload))
    return (
        prepare.is_prepared(upload, "pca")
        and spec is not None
        and os.path.isfile(spec.model_path)
        and cache.contains(prepare.upload_keys(upload, "pca")["projector"])
    )


def gone(upload: str) -> bool:
    return upload_store.inventory([upload]).bytes_of(upload) == 0


def owns(sid: str, upload: str) -> bool:
    with as_session(sid):
        return uploads.owns(upload)


def age(sid: str, seconds: float) -> None:
    """Make session ``sid`` unused for ``seconds``."""
    then = time.time() - seconds
    os.utime(upload_space.session_folder(sid) / upload_space.RECORD, (then, then))


WEEK_AND_A_DAY = 8 * 24 * 3600


def test_the_uploads_cache_itself_never_evicts(store, monkeypatch):
    """Writing past RNNX_UPLOAD_QUOTA_GB evicts nothing by least-recent use (the old rule did)."""
    per = fake_prepare(store, upload_of(1))
    quota(monkeypatch, 1.5 * per)
    fake_prepare(store, upload_of(2))
    assert intact(upload_of(1)) and intact(upload_of(2))
    assert cache.uploads_cache().eviction_policy == "none"


def test_a_flood_of_preparations_never_evicts_a_live_sessions_prepared_upload(store, monkeypatch):
    per = fake_prepare(store, upload_of(99))  # only to size the quota: three uploads and a bit
    upload_store.remove_upload(upload_of(99))
    quota(monkeypatch, 3.25 * per)
    prepare_as(store, sid_of(0xA), upload_of(0xA))
    admitted, refused = [], []
    for n in range(1, 7):
        try:
            prepare_as(store, sid_of(n), upload_of(n))
            admitted.append(n)
        except uploads.NoRoom as error:
            refused.append((n, str(error)))
    assert admitted == [1, 2] and [n for n, _ in refused] == [3, 4, 5, 6]
    assert all("RNNX_UPLOAD_QUOTA_GB" in text and "full" in text for _n, text in refused)
    assert intact(upload_of(0xA)) and owns(sid_of(0xA), upload_of(0xA))
    assert all(intact(upload_of(n)) and owns(sid_of(n), upload_of(n)) for n in admitted)
    assert all(gone(upload_of(n)) and not owns(sid_of(n), upload_of(n)) for n, _ in refused)
    assert upload_store.inventory().total <= 3.25 * per
    # Exactly full: the next preparation is refused before it starts.
    quota(monkeypatch, upload_store.inventory().total)
    with as_session(sid_of(7)), pytest.raises(uploads.NoRoom, match="RNNX_UPLOAD_QUOTA_GB"):
        uploads.ensure_results_room()


def test_room_comes_from_expired_sessions_then_from_sessions_over_their_share(store, monkeypatch):
    monkeypatch.setattr(upload_results, "GRACE_S", 0)  # results no one holds may go at once
    per = fake_prepare(store, upload_of(99))
    upload_store.remove_upload(upload_of(99))
    quota(monkeypatch, 3.25 * per)
    expired, over = sid_of(0xE), sid_of(0x0)
    prepare_as(store, expired, upload_of(0xE))
    prepare_as(store, over, upload_of(1))
    prepare_as(store, over, upload_of(2))
    age(expired, WEEK_AND_A_DAY)
    quota(monkeypatch, 3.25 * per, share=1.5 * per)  # the administrator lowered the share: `over` is over it
    prepare_as(store, sid_of(0x10), upload_of(0x10))  # room from the expired session
    assert gone(upload_of(0xE)) and all(intact(upload_of(n)) for n in (1, 2, 0x10))
    with as_session(expired), pytest.raises(uploads.UploadRefused, match="expired"):
        uploads.require_owned(upload_of(0xE))
    prepare_as(store, sid_of(0x11), upload_of(0x11))  # room from `over`'s oldest upload
    assert gone(upload_of(1)) and intact(upload_of(2)) and owns(over, upload_of(2))
    with as_session(over), pytest.raises(uploads.UploadRefused, match="expired"):
        uploads.require_owned(upload_of(1))
    with pytest.raises(uploads.NoRoom, match="full"):  # everyone left is live and within their share
        prepare_as(store, sid_of(0x12), upload_of(0x12))
    assert gone(upload_of(0x12)) and all(intact(upload_of(n)) for n in (2, 0x10, 0x11))


def test_a_session_past_its_share_gives_up_its_own_oldest_upload(store, monkeypatch):
    per = fake_prepare(store, upload_of(99))
    upload_store.remove_upload(upload_of(99))
    quota(monkeypatch, 10 * per, share=1.5 * per)
    sid = sid_of(5)
    prepare_as(store, sid, upload_of(1))
    prepare_as(store, sid, upload_of(2))
    assert gone(upload_of(1)) and not owns(sid, upload_of(1)) and intact(upload_of(2))
    quota(monkeypatch, 10 * per, share=0.5 * per)
    with pytest.raises(uploads.NoRoom, match="RNNX_UPLOAD_SESSION_RESULTS_MB"):
        prepare_as(store, sid, upload_of(3))
    assert gone(upload_of(3)) and intact(upload_of(2)) and owns(sid, upload_of(2))


def test_identical_files_share_one_model_that_stays_while_any_session_holds_it(store, monkeypatch):
    """Issue 19 item 5 (b): the spec never points into one session's folder."""
    monkeypatch.setattr(upload_results, "GRACE_S", 0)
    per = fake_prepare(store, upload_of(99))
    upload_store.remove_upload(upload_of(99))
    quota(monkeypatch, 2.25 * per, share=1.5 * per)
    first, last = sid_of(0x1), sid_of(0x2)
    shared = upload_of(0x5)
    prepare_as(store, first, shared)
    prepare_as(store, last, shared)  # the same files: the same id, a cache hit, one copy
    spec = cache.get(byo.spec_key(shared))
    assert Path(spec.model_path) == upload_store.model_folder(shared) / "model.keras"
    assert upload_space.uploads_root() not in Path(spec.model_path).parents  # in no session's folder
    # The last preparer goes away: its whole upload folder is evicted ...
    shutil.rmtree(upload_space.session_folder(last))
    prepare_as(store, sid_of(0x3), upload_of(0x3))
    # ... and the first session's upload is whole: analysis, projector, the model what-if loads.
    assert intact(shared) and owns(first, shared)
    with pytest.raises(uploads.NoRoom):  # still held by `first`: never taken to make room
        prepare_as(store, sid_of(0x4), upload_of(0x4))
    assert intact(shared)
    # `first` gives it up to its own share: the results go with the last holder.
    quota(monkeypatch, 10 * per, share=1.5 * per)
    prepare_as(store, first, upload_of(0x6))
    assert gone(shared) and not (upload_store.model_folder(shared)).exists()


def test_results_no_one_holds_are_kept_while_a_preparation_may_be_writing_them(store, monkeypatch):
    """Within GRACE_S, unregistered results (a preparation under way, the CLI's) are not taken."""
    per = fake_prepare(store, upload_of(1))  # nobody registers it
    quota(monkeypatch, 1.5 * per)
    with pytest.raises(uploads.NoRoom):
        prepare_as(store, sid_of(2), upload_of(2))
    assert intact(upload_of(1)) and gone(upload_of(2))
    monkeypatch.setattr(upload_results, "GRACE_S", 0)  # later: now it may go
    prepare_as(store, sid_of(2), upload_of(2))
    assert gone(upload_of(1)) and intact(upload_of(2))
