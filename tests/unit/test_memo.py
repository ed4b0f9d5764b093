"""The per-process cache in front of the disk cache: hits, no remembered misses, bounded."""

from __future__ import annotations

from model import memo


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


def test_loaded_models_live_in_the_one_cache_and_a_missing_one_says_so(tmp_path, monkeypatch):
    import pytest

    from model import loaded, prepare

    memo.forget()
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    with pytest.raises(LookupError, match="not prepared"):
        loaded.classifier("reuters")
    assert memo.kinds() == {}  # the miss is not remembered: a later prepare is seen at once
    calls = []
    monkeypatch.setattr(prepare, "load_classifier", lambda dataset: calls.append(dataset) or object())
    first = loaded.classifier("reuters")
    assert loaded.classifier("reuters") is first and calls == ["reuters"]
    assert memo.kinds() == {"classifier": 1}
    memo.forget()


def test_a_function_built_for_one_model_is_never_handed_to_another():
    from model import loaded

    memo.forget()
    one, other = object(), object()
    assert loaded.per_model("f", one, lambda: "for one") == "for one"
    assert loaded.per_model("f", one, lambda: "rebuilt") == "for one"
    assert loaded.per_model("f", other, lambda: "for other") == "for other"
    memo.forget()
