"""A full disk, a failed write, a cache limit smaller than one result: a message, no orphan files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.servers import ROOT

PUT_ONE_MB = """
import resource, signal, sys
from model import cache
{setup}
try:
    cache.put(cache.make_key("states", probe=1), b"x" * 2**20)
except cache.CacheWriteError as error:
    print("MESSAGE", error)
    sys.exit(3)
print("STORED")
"""


def _run(cache_dir: Path, setup: str = "", **env: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(PUT_ONE_MB).format(setup=setup)
    full_env = {**os.environ, "RNNX_CACHE_DIR": str(cache_dir), **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def _value_files(cache_dir: Path) -> list[Path]:
    return list(cache_dir.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*.val"))


def test_a_result_larger_than_the_cache_limit_gets_a_message(tmp_path):
    result = _run(tmp_path, RNNX_CACHE_LIMIT_GB=str(256 / 2**20))  # 256 KB
    assert result.returncode == 3, result.stderr
    assert "larger than the cache limit" in result.stdout and "RNNX_CACHE_LIMIT_GB" in result.stdout
    assert "Traceback" not in result.stderr
    assert _value_files(tmp_path) == []  # nothing eviction would have to find later


def test_a_full_disk_gets_a_message_and_leaves_no_partial_file(tmp_path):
    """RLIMIT_FSIZE makes the value file's write fail half-way, as a full disk does."""
    setup = (
        "cache.get_cache()\n"  # the index exists before the limit applies
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))"
    )
    result = _run(tmp_path, setup)
    assert result.returncode == 3, result.stderr
    assert "is full" in result.stdout and "Traceback" not in result.stderr
    assert _value_files(tmp_path) == []


@pytest.mark.heavy
def test_the_cli_says_the_result_did_not_fit_in_one_line(tmp_path):
    env = {**os.environ, "RNNX_CACHE_DIR": str(tmp_path), "RNNX_CACHE_LIMIT_GB": str(64 / 2**20)}
    command = [sys.executable, "-m", "model.prepare", "--dataset", "reuters", "--json"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cache limit" in errors[0], result.stderr[-2000:]
