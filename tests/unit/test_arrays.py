"""Array artefacts: atomic folders read memory-mapped; a crash or a concurrent reader never sees half."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from model import arrays, cache
from tests.support.servers import ROOT


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    monkeypatch.delenv("RNNX_CACHE_LIMIT_GB", raising=False)
    return tmp_path


def _write(key: str, rows: int = 1000, chunk: int = 100, replace: bool = False, value: float = 0.0) -> None:
    with arrays.Writer(key, replace=replace) as writer:
        writer.stream("hidden", np.float16, (8,))
        for start in range(0, rows, chunk):
            writer.append("hidden", np.full((min(chunk, rows - start), 8), value + start, np.float32))
        writer.put("offsets", np.arange(11) * (rows // 10))
        writer.put("cell", None)
        writer.meta = {"texts": ["a", "b"], "rows": rows}
        writer.commit()


def test_a_written_artefact_reads_back_memory_mapped(cache_dir: Path) -> None:
    key = cache.make_key("states", probe=1)
    assert arrays.load(key) is None and not arrays.contains(key)
    _write(key, rows=1000)
    stored = arrays.load(key)
    hidden = stored.arrays["hidden"]
    assert isinstance(hidden, np.memmap) and hidden.dtype == np.float16 and hidden.shape == (1000, 8)
    assert not hidden.flags.writeable
    np.testing.assert_array_equal(hidden[::100, 0], np.arange(0, 1000, 100))
    assert stored.arrays["cell"] is None and stored.meta == {"texts": ["a", "b"], "rows": 1000}
    np.testing.assert_array_equal(stored.arrays["offsets"], np.arange(11) * 100)
    assert arrays.folder_for(key).parent == cache_dir / "arrays"
    assert not [p for p in (cache_dir / "arrays").iterdir() if p.name.startswith(".")]  # no leftovers


def test_streams_of_no_rows_and_the_fixed_header(cache_dir: Path) -> None:
    key = cache.make_key("analysis", probe=2)
    with arrays.Writer(key) as writer:
        writer.stream("ep", np.float32, (2,))
        writer.stream("distance", np.float32)
        writer.commit()
    stored = arrays.load(key)
    assert stored.arrays["ep"].shape == (0, 2) and stored.arrays["distance"].shape == (0,)
    assert len(arrays.npy_header(np.float16, (2_500_000_000, 4096))) == arrays.HEADER_BYTES


def test_leaving_the_writer_without_commit_leaves_nothing(cache_dir: Path) -> None:
    key = cache.make_key("states", probe=3)
    with pytest.raises(RuntimeError), arrays.Writer(key) as writer:
        writer.stream("hidden", np.float16, (8,))
        writer.append("hidden", np.zeros((5, 8)))
        raise RuntimeError("extraction failed")
    assert arrays.load(key) is None
    assert list((cache_dir / "arrays").iterdir()) == []


CRASH = """
import os, numpy as np
from model import arrays, cache
key = cache.make_key("states", probe="crash")
writer = arrays.Writer(key)
writer.stream("hidden", np.float16, (8,))
writer.append("hidden", np.ones((1000, 8)))
print(writer.tmp, flush=True)
os._exit(9)  # killed mid-write: no commit, no cleanup
"""


def test_a_crash_mid_write_leaves_no_artefact_and_is_swept(cache_dir: Path) -> None:
    env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir)}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 9, result.stderr
    tmp = Path(result.stdout.strip())
    assert tmp.is_dir()  # the half-written folder is there ...
    key = cache.make_key("states", probe="crash")
    assert arrays.load(key) is None and not arrays.contains(key)  # ... but no reader sees it
    arrays.sweep(cache_dir / "arrays")  # its writer is dead: swept
    assert not tmp.exists()


def test_a_concurrent_reader_sees_nothing_or_the_whole(cache_dir: Path) -> None:
    key = cache.make_key("states", probe=4)
    seen: list[int] = []
    wrong: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            stored = arrays.load(key)
            if stored is None:
                continue
            hidden = stored.arrays["hidden"]
            if hidden.shape != (20_000, 8) or stored.meta["rows"] != 20_000:
                wrong.append(f"shape {hidden.shape}, meta {stored.meta}")
            elif float(hidden[-1, 0]) not in (float(np.float16(19_900)), float(np.float16(19_901))):
                wrong.append(f"last row {hidden[-1, 0]}")
            seen.append(len(hidden))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        _write(key, rows=20_000, chunk=100)
        _write(key, rows=20_000, chunk=100, replace=True, value=1.0)
    finally:
        done.set()
        reader.join()
    assert wrong == []
    assert arrays.load(key) is not None


def test_a_replaced_artefact_stays_readable_by_whoever_mapped_it(cache_dir: Path) -> None:
    key = cache.make_key("projection", probe=5)
    _write(key, rows=100, value=1.0)
    old = arrays.load(key).arrays["hidden"]
    _write(key, rows=100, value=2.0)  # not replace: the first complete artefact is kept
    assert float(arrays.load(key).arrays["hidden"][0, 0]) == 1.0
    _write(key, rows=100, value=2.0, replace=True)
    assert float(arrays.load(key).arrays["hidden"][0, 0]) == 2.0
    assert float(old[0, 0]) == 1.0  # the old mapping still reads the old file


def test_an_artefact_larger_than_the_limit_is_refused(cache_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("RNNX_CACHE_LIMIT_GB", str(8 / 2**20))  # 8 KB
    key = cache.make_key("states", probe=6)
    with pytest.raises(cache.CacheWriteError, match="larger than the cache limit"):
        _write(key, rows=1000)
    assert arrays.load(key) is None
    assert [p for p in (cache_dir / "arrays").iterdir()] == []


def test_least_recently_used_artefacts_are_evicted_to_fit(cache_dir: Path, monkeypatch) -> None:
    keys = [cache.make_key("states", probe=f"lru{i}") for i in range(4)]
    for i, key in enumerate(keys[:3]):
        _write(key, rows=3000)  # about 48 KB each
        os.utime(arrays.folder_for(key) / "used", (1000 + i, 1000 + i))
    os.utime(arrays.folder_for(keys[0]) / "used", (2000, 2000))  # the oldest is used again
    size = arrays.load(keys[0]).nbytes
    limit = cache.get_cache().volume() + 3.5 * size  # room for three and a half artefacts
    monkeypatch.setenv("RNNX_CACHE_LIMIT_GB", str(limit / 2**30))
    _write(keys[3], rows=3000)
    assert [arrays.contains(key) for key in keys] == [True, False, True, True]
    store = cache.get_cache()
    total = sum(e.nbytes for e in arrays._entries(cache_dir / "arrays")) + store.volume()
    assert total <= store.size_limit


def test_demo_mode_reads_and_never_writes(cache_dir: Path, monkeypatch) -> None:
    key = cache.make_key("states", probe=7)
    _write(key, rows=100)
    used = arrays.folder_for(key) / "used"
    os.utime(used, (1000, 1000))
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")
    assert arrays.load(key).arrays["hidden"].shape == (100, 8)
    assert used.stat().st_mtime == 1000  # the LRU clock is not touched on a read-only cache
    with pytest.raises(cache.CacheWriteError, match="read-only"):
        arrays.Writer(cache.make_key("states", probe=8))
