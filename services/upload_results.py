"""Room for the results of prepared uploads, never taken from another live session (issue 19, item 5).

An upload's results (:mod:`model.upload_store`: its arrays, spec, projectors and the kept model) are
stored once per upload id, a hash of the files, so sessions preparing the same files share them.
Each session *holds* the uploads its record lists (``services.upload_space``) while it is live
(used within ``RNNX_UPLOAD_TTL_H``); its results share is the sum of what it holds (a shared upload
counts in full for each holder). The store never evicts by itself; room is made here, under one
cross-process lock, before a preparation starts (:func:`ensure_room`) and when its result is
registered (:func:`admit`), in this order:

1. the preparing session's own oldest uploads, when its share would pass
   ``RNNX_UPLOAD_SESSION_RESULTS_MB`` (they expire from its record, with tombstones);
2. when all results pass ``RNNX_UPLOAD_QUOTA_GB``: results no live session holds (an expired
   session's, forgotten ones, older formats, recomputable memos), least recently used first, once
   unused for ``GRACE_S`` (a preparation under way holds nothing yet);
3. other live sessions' oldest uploads, while their share is over their quota.

An upload a live session holds within its share is never removed (nor one held by another live
session besides the one giving it up): when that is all there is, the preparation is refused with
a message, and its new results are removed unless another session holds them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from model import cache, config, upload_store
from services import identity
from services import upload_space as space
from services.upload_space import NoRoom

GRACE_S = 3600  # results no one holds, used or written this recently, are a preparation under way
LOCK = "upload-results-room"  # an "upload…" key: its lock lives in the uploads cache, across processes


def quota_bytes() -> int:
    """All upload results together (``RNNX_UPLOAD_QUOTA_GB``, default 2)."""
    return cache.upload_quota_bytes()


def share_bytes() -> int:
    """One session's upload results (``RNNX_UPLOAD_SESSION_RESULTS_MB``, default 512)."""
    return int(config.env_number("RNNX_UPLOAD_SESSION_RESULTS_MB", 512.0, minimum=1e-9) * 1024**2)


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.1f} MB"


def full_message() -> str:
    return (
        f"The server's space for analysed uploads ({quota_bytes() / 2**30:.2g} GB, RNNX_UPLOAD_QUOTA_GB) "
        "is full of other sessions' analyses in use: try again later, or ask the administrator for "
        "more room."
    )


@dataclass
class _Plan:
    """What making room would take: uploads leaving records, uploads and loose items removed."""

    total: int
    holders: dict[str, set[str]]
    sizes: upload_store.Inventory
    expire: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    remove: set[str] = field(default_factory=set)
    loose: list[upload_store.Item] = field(default_factory=list)

    def release(self, sid: str, upload: str) -> None:
        """Session ``sid`` gives ``upload`` up; its results go when no one else holds it."""
        self.expire[sid].add(upload)
        self.holders[upload].discard(sid)
        if not self.holders[upload] and upload not in self.remove:
            self.remove.add(upload)
            self.total -= self.sizes.bytes_of(upload)


def _held(sessions: dict[str, space.Usage], now: float) -> dict[str, list[str]]:
    """Live sessions' prepared uploads, oldest first."""
    held = {}
    for sid, use in sessions.items():
        if identity.SESSION_ID.match(sid) and not use.expired(now):
            ordered = sorted(use.record["datasets"], key=lambda d: d.get("time", 0))
            held[sid] = [d["id"] for d in ordered if isinstance(d.get("id"), str)]
    return held


def _plan(sid: str, new: str | None, reserve: int, now: float) -> tuple[_Plan, dict[str, space.Usage]]:
    """Plan room for ``new`` (an upload ``sid`` just prepared) or, without it, ``reserve`` more bytes."""
    share, quota = share_bytes(), quota_bytes()
    sessions = space.usage(now)
    held = _held(sessions, now)
    if new is not None and new not in held.setdefault(sid, []):
        held[sid].append(new)
    inventory = upload_store.inventory({u for ids in held.values() for u in ids})
    holders: dict[str, set[str]] = defaultdict(set)
    for holder, ids in held.items():
        for upload in ids:
            holders[upload].add(holder)
    plan = _Plan(inventory.total, holders, inventory)
    size = inventory.bytes_of
    if new is not None:  # 1. this session's own share
        if size(new) > share:
            raise NoRoom(
                f"This analysis ({_mb(size(new))}) is larger than a session's space for analysed uploads "
                f"({_mb(share)}, RNNX_UPLOAD_SESSION_RESULTS_MB)."
            )
        own = sum(size(u) for u in held[sid])
        for upload in held[sid]:
            if own <= share:
                break
            if upload != new:
                plan.release(sid, upload)
                own -= size(upload)
    # 2. results no live session holds, least recently used first (a preparation under way is recent)
    unheld = [(inventory.last_used(u), u) for u in inventory.uploads if not holders.get(u)]
    candidates = [(used, u, None) for used, u in unheld] + [(i.used, "", i) for i in inventory.loose]
    for used, upload, item in sorted(candidates, key=lambda c: c[0]):
        if plan.total + reserve <= quota or used > now - GRACE_S:
            break
        if item is None:
            plan.remove.add(upload)
            plan.total -= size(upload)
        else:
            plan.loose.append(item)
            plan.total -= item.nbytes
    # 3. other live sessions over their own share, least recently used first
    for other in sorted(held, key=lambda s: sessions[s].last_used if s in sessions else now):
        theirs = sum(size(u) for u in held[other])
        for upload in held[other]:
            if plan.total + reserve <= quota or theirs <= share or other == sid:
                break
            plan.release(other, upload)
            theirs -= size(upload)
    return plan, sessions


def _carry_out(plan: _Plan, sid: str, sessions: dict[str, space.Usage]) -> None:
    for holder, gone in plan.expire.items():
        record = space.read_record(holder)
        mtime = None if holder == sid else sessions[holder].last_used  # others did not use theirs now
        space.write_record(holder, space.expire_datasets(holder, record, gone), mtime=mtime)
    for upload in plan.remove:
        upload_store.remove(plan.sizes.uploads.get(upload, []))
    upload_store.remove(plan.loose)


def ensure_room(sid: str | None = None) -> None:
    """Make room before session ``sid`` prepares an upload; NoRoom (a message) when there is none."""
    sid = sid or identity.current_session()
    with cache.computing_lock(LOCK, 120):
        plan, sessions = _plan(sid, None, 1, time.time())
        if plan.total + 1 > quota_bytes():
            raise NoRoom(full_message())
        _carry_out(plan, sid, sessions)


def admit(upload: str, sid: str | None = None) -> None:
    """Make room for ``upload``, which session ``sid`` has just prepared, before it is registered.

    NoRoom (a message) when it does not fit: then its results are removed, unless another live
    session holds them."""
    sid = sid or identity.current_session()
    with cache.computing_lock(LOCK, 120):
        now = time.time()
        try:
            plan, sessions = _plan(sid, upload, 0, now)
            if plan.total > quota_bytes():
                raise NoRoom(full_message())
        except NoRoom:
            if not any(upload in ids for ids in _held(space.usage(now), now).values()):
                upload_store.remove_upload(upload)  # no live session held it before: the new results go
            raise
        _carry_out(plan, sid, sessions)
