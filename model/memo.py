"""The one per-process cache in front of the disk cache: immutable artefacts already read or built.

Every layer keeps what it loaded (an analysis, a projection, a neighbour index, a classifier and
its compiled functions: see :mod:`model.loaded`) here, under ``(kind, key)``; the least recently used entries go first once ``MAX_ENTRIES`` is
reached. A miss is never remembered (``compute`` returning None means "not ready yet"), so a
dataset prepared later is seen at once. Only content-keyed, immutable values belong here, never
per-user state: every gunicorn worker builds its own copy and they all agree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 64

_entries: OrderedDict[tuple[str, Hashable], Any] = OrderedDict()
_lock = threading.Lock()


def remember(kind: str, key: Hashable, compute: Callable[[], T | None]) -> T | None:
    """The value of ``(kind, key)``: from this process's cache, else ``compute()`` (kept unless None)."""
    slot = (kind, key)
    with _lock:
        if slot in _entries:
            _entries.move_to_end(slot)
            return _entries[slot]
    value = compute()  # outside the lock: a slow load never blocks other requests' hits
    if value is not None:
        with _lock:
            _entries[slot] = value
            _entries.move_to_end(slot)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def forget(kind: str | None = None) -> None:
    """Drop every entry (of ``kind`` only, when given): tests swap pipelines, uploads get replaced."""
    with _lock:
        for slot in [s for s in _entries if kind is None or s[0] == kind]:
            del _entries[slot]


def kinds() -> dict[str, int]:
    """How many entries of each kind are held (for /readyz and tests)."""
    with _lock:
        counts: dict[str, int] = {}
        for kind, _key in _entries:
            counts[kind] = counts.get(kind, 0) + 1
        return counts
