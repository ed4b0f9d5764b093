"""The app's version, as pyproject.toml declares it (one place), for ``/healthz`` and the logs."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


@lru_cache(maxsize=1)
def version() -> str:
    """The checkout's pyproject version, else the installed distribution's, else "unknown"."""
    try:
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version("rnn-explorer")
    except metadata.PackageNotFoundError:
        return "unknown"
