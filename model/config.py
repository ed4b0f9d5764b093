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


# ---------------------------------------------------------------- the one way to read a setting

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def env_flag(name: str, default: bool = False) -> bool:
    """A boolean switch: ``1``, ``true``, ``yes``, ``on`` are true; unset or blank means ``default``."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in TRUE_WORDS


def env_number(name: str, default: float, minimum: float | None = None) -> float:
    """A number; ``default`` when unset, blank, malformed, or below ``minimum``."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return default if minimum is not None and value < minimum else value


def env_text(name: str, default: str = "") -> str:
    """A string setting, stripped; ``default`` when unset or blank."""
    return os.environ.get(name, "").strip() or default


def profile() -> str:
    """``RNNX_PROFILE``: ``full`` (the paper's settings, default) or ``quick`` (tiny, for tests and demos)."""
    return "quick" if env_text("RNNX_PROFILE", "full").lower() == "quick" else "full"


def upload_limit_bytes() -> int:
    """Largest accepted upload (``RNNX_UPLOAD_LIMIT_MB``, default 200)."""
    return int(env_number("RNNX_UPLOAD_LIMIT_MB", 200.0, minimum=1e-9) * 1024 * 1024)


def offline() -> bool:
    """``RNNX_OFFLINE``: never try to download a dataset archive."""
    return env_flag("RNNX_OFFLINE")


POINT_BUDGET_MAX = 5_000_000


def point_budget() -> int:
    """Most states the projection draws as points (``RNNX_POINT_BUDGET``, default 150,000).

    A drawn set above it is shown as a density image until a zoom brings at most this many into view.
    Bounded to 1 .. 5,000,000; a malformed or smaller value means the default."""
    return int(min(env_number("RNNX_POINT_BUDGET", 150_000, minimum=1), POINT_BUDGET_MAX))
