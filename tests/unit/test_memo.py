"""The per-process cache in front of the disk cache: hits, no remembered misses, bounded."""

from __future__ import annotations

from services import memo


def test_a_value_is_computed_once_and_a_miss_is_asked_again():
    memo.forget()
    calls = []
    assert memo.remember("t", 1, lambda: calls.append(1) or "v") == "v"
    assert memo.remember("t", 1, lambda: calls.append(1) or "other") == "v"
    assert len(calls) == 1
    assert memo.remember("t", 2, lambda: None) is None
    assert memo.remember("t", 2, lambda: "ready now") == "ready now"
    memo.forget()


def test_the_least_recently_used_entry_goes_first_and_forget_is_per_kind():
    memo.forget()
    for i in range(memo.MAX_ENTRIES):
        memo.remember("a", i, lambda i=i: i)
    memo.remember("a", 0, lambda: "recomputed")  # a hit: 0 is now the most recent
    memo.remember("b", "x", lambda: "new")  # one over the limit: entry 1 goes
    assert memo.kinds() == {"a": memo.MAX_ENTRIES - 1, "b": 1}
    assert memo.remember("a", 0, lambda: "recomputed") == 0
    assert memo.remember("a", 1, lambda: "recomputed") == "recomputed"
    memo.forget("a")
    assert memo.kinds() == {"b": 1}
    memo.forget()
