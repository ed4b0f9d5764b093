"""Installed like a tool: ``pip install -e .`` in a fresh venv gives the ``rnnx`` command.

The venv sees this interpreter's packages (``--system-site-packages``), so the install needs no
network (``--no-index``) and proves that pyproject.toml's dependencies are already satisfied by
requirements.txt. The commands run outside the checkout, so only the installed ``rnnx`` is found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import ROOT

pytestmark = pytest.mark.heavy
# It starts no server or browser: under xdist it may run beside the browser tier (tests/conftest.py).
PARALLEL_OK = True


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the checkout installed in editable mode; its ``bin`` folder."""
    folder = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)], check=True)
    install = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    result = subprocess.run(
        [*install, "--no-build-isolation", "--no-index", "-e", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return folder / "bin"


def run(bin_dir: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    environment.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(bin_dir / "rnnx"), *args], cwd=cwd, capture_output=True, text=True, env=environment, timeout=300
    )


def test_rnnx_command_and_module(venv: Path, tmp_path: Path) -> None:
    help_text = run(venv, ["--help"], tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    for command in ("serve", "prepare", "hash-password"):
        assert command in help_text.stdout
    prepare_help = run(venv, ["prepare", "--help"], tmp_path)
    assert prepare_help.returncode == 0 and "rnnx prepare" in prepare_help.stdout
    assert "--model" in prepare_help.stdout and "--csv" in prepare_help.stdout
    hashed = run(venv, ["hash-password", "s3cret"], tmp_path)
    assert hashed.returncode == 0 and hashed.stdout.startswith(("scrypt:", "pbkdf2:"))
    imported = subprocess.run(
        [
            str(venv / "python"),
            "-c",
            "import importlib.util as u, rnnx; print(rnnx.analyse.__name__, bool(u.find_spec('app')))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.stdout.split() == ["analyse", "True"], imported.stderr[-2000:]


def test_rnnx_prepare_reuters_json(venv: Path, tmp_path: Path) -> None:
    """``rnnx prepare --dataset reuters --json`` (a few sequences: the shipped classifier, no training)."""
    result = run(
        venv,
        ["prepare", "--dataset", "reuters", "--sequences", "40", "--json"],
        tmp_path,
        RNNX_CACHE_DIR=str(tmp_path / "cache"),
        RNNX_PROFILE="full",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["dataset"] == "reuters" and summary["n_sequences"] == 40
    assert summary["classifier_source"] == "pretrained" and summary["test_accuracy"] > 0.8
    assert summary["classes"][0] == "earn" and not summary["cached"]
