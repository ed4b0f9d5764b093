"""Settings read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Folder holding the dataset archives (``RNNX_DATA_DIR``)."""
    default = Path.home() / ".cache" / "rnn-explorer" / "data"
    return Path(os.environ.get("RNNX_DATA_DIR", default)).expanduser()


def cache_dir() -> Path:
    """Folder of the shared disk cache (``RNNX_CACHE_DIR``)."""
    default = Path.home() / ".cache" / "rnn-explorer" / "cache"
    return Path(os.environ.get("RNNX_CACHE_DIR", default)).expanduser()


def cache_size_limit() -> int:
    """Upper bound of the disk cache in bytes (``RNNX_CACHE_LIMIT_GB``, default 8)."""
    return int(float(os.environ.get("RNNX_CACHE_LIMIT_GB", "8")) * 1024**3)


def host() -> str:
    return os.environ.get("HOST", "127.0.0.1")


def port() -> int:
    return int(os.environ.get("PORT", "8050"))


def quiet_tensorflow() -> None:
    """Silence TensorFlow's start-up chatter before it is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
