"""Issue 19, item 7: a damaged artefact counts as absent, and preparing rebuilds it (and says why).

Each stored artefact is checked when read against its manifest (every ``.npy`` header and size, and
the size of ``meta.pkl``). A truncated or garbled file used to leave ``contains`` true, so Prepare
and the CLI answered "cached" while every view said "not prepared".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import arrays, cache, prepare
from tests.support.servers import ROOT


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    return tmp_path


def _write(key: str, value: float = 1.0) -> None:
    with arrays.Writer(key) as writer:
        writer.stream("hidden", np.float16, (4,))
        writer.append("hidden", np.full((50, 4), value, np.float32))
        writer.put("offsets", np.arange(6) * 10)
        writer.put("cell", None)
        writer.meta = {"texts": ["a", "b"]}
        writer.commit()


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garble(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.write(b"garbage!" * 4)


def _reshape_header(path: Path) -> None:
    """The same number of bytes, but a header naming another shape (a file of another artefact)."""
    data = path.read_bytes()
    path.write_bytes(arrays.npy_header(np.dtype(np.float16), (25, 8)) + data[arrays.HEADER_BYTES :])


def _shorten_meta(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-3])


@pytest.mark.parametrize(
    ("damage", "name", "reason"),
    [
        (_truncate, "hidden.npy", "hidden.npy is"),
        (_garble, "hidden.npy", "hidden.npy has no valid array header"),
        (_garble, "offsets.npy", "offsets.npy has no valid array header"),
        (_reshape_header, "hidden.npy", "hidden.npy holds <f2 [25, 8], not <f2 [50, 4]"),
        (Path.unlink, "offsets.npy", "offsets.npy is missing"),
        (_shorten_meta, "meta.pkl", "meta.pkl is"),
        (_garble, "manifest.json", "its manifest is unreadable"),
    ],
)
def test_a_damaged_artefact_counts_as_absent_and_is_rebuilt(cache_dir: Path, damage, name, reason) -> None:
    key = cache.make_key("states", probe="verify")
    _write(key, 1.0)
    assert arrays.contains(key) and arrays.damage(key) is None
    damage(arrays.folder_for(key) / name)
    assert reason in (arrays.damage(key) or "")
    assert not arrays.contains(key)
    assert arrays.load(key) is None
    # A plain write (not a forced replacement) used to keep the damaged folder: it replaces it now.
    _write(key, 2.0)
    stored = arrays.load(key)
    assert stored is not None and arrays.contains(key) and arrays.damage(key) is None
    np.testing.assert_array_equal(stored.arrays["hidden"], np.full((50, 4), 2.0, np.float16))
    np.testing.assert_array_equal(stored.arrays["offsets"], np.arange(6) * 10)
    assert stored.meta == {"texts": ["a", "b"]}


def test_a_whole_artefact_is_kept_when_another_writer_finishes_second(cache_dir: Path) -> None:
    key = cache.make_key("states", probe="kept")
    _write(key, 1.0)
    _write(key, 2.0)  # another process completed it first: its copy stays
    np.testing.assert_array_equal(arrays.load(key).arrays["hidden"], np.full((50, 4), 1.0, np.float16))


def test_an_absent_artefact_is_not_damaged(cache_dir: Path) -> None:
    key = cache.make_key("states", probe="absent")
    assert arrays.damage(key) is None and not arrays.contains(key) and arrays.load(key) is None


def test_a_damaged_cached_value_counts_as_absent(cache_dir: Path) -> None:
    key = cache.make_key("projector", probe="pickle")
    cache.put(key, {"weights": np.arange(20_000, dtype=np.float64)})  # large enough for a file of its own
    (value_file,) = cache_dir.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*.val")
    _truncate(value_file)
    assert cache.get(key, "absent") == "absent"
    value, cached = cache.memoize(key, lambda: {"weights": np.arange(3)})
    assert not cached and list(value["weights"]) == [0, 1, 2]


# ---------------------------------------------------------------- a real (quick) preparation


def _corrupt(keys: dict[str, str]) -> None:
    """What the issue did: truncate the states' hidden.npy, garble the projection's points.npy."""
    _truncate(arrays.folder_for(keys["states"]) / "hidden.npy")
    _garble(arrays.folder_for(keys["projection"]) / "points.npy")


@pytest.mark.heavy
def test_prepare_and_the_cli_rebuild_damaged_artefacts_and_say_why(
    test_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNNX_PROFILE", "quick")
    prepare.prepare("reuters", "pca", 25)
    keys = prepare._keys("reuters", 25, "pca")
    hidden = np.array(prepare.load_states("reuters", 25)["hidden"])
    points = np.array(prepare.load_projection("reuters", "pca", 25))

    _corrupt(keys)
    assert not prepare.is_prepared("reuters", "pca", 25)
    assert (
        prepare.load_states("reuters", 25) is None and prepare.load_projection("reuters", "pca", 25) is None
    )
    command = [sys.executable, "-m", "model.prepare", "--dataset", "reuters", "--sequences", "25", "--json"]
    env = {**os.environ, "RNNX_CACHE_DIR": str(test_cache_dir)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["cached"] is False
    assert "hidden.npy is" in summary["rebuilt"]["states"]
    assert "points.npy has no valid array header" in summary["rebuilt"]["projection"]
    assert "Rebuilding the states artefact" in result.stderr and "hidden.npy is" in result.stderr
    assert prepare.is_prepared("reuters", "pca", 25)
    np.testing.assert_allclose(prepare.load_states("reuters", 25)["hidden"], hidden, atol=2e-3)
    np.testing.assert_allclose(prepare.load_projection("reuters", "pca", 25), points, atol=1e-3)

    # In process (what a worker's preparation runs): the same, and a second run is a hit again.
    _corrupt(keys)
    summary = prepare.prepare("reuters", "pca", 25)
    assert summary["cached"] is False and set(summary["rebuilt"]) == {"states", "projection"}
    np.testing.assert_allclose(prepare.load_states("reuters", 25)["hidden"], hidden, atol=2e-3)
    np.testing.assert_allclose(prepare.load_projection("reuters", "pca", 25), points, atol=1e-3)
    again = prepare.prepare("reuters", "pca", 25)
    assert again["cached"] is True and "rebuilt" not in again
