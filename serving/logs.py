"""The app's own loggers (``rnnx.*``: preparation, warm-up, sessions, health) on the server's error log."""

from __future__ import annotations

import logging
import sys

FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"


def route_app_logs(level: str = "info") -> logging.Logger:
    """Give the ``rnnx`` logger one stderr handler at ``level`` (once per process): under gunicorn
    nothing else handles it, and its records were lost."""
    logger = logging.getLogger("rnnx")
    if not any(getattr(h, "rnnx_route", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, "%Y-%m-%d %H:%M:%S %z"))
        handler.rnnx_route = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(getattr(logging, level.upper(), logging.INFO))
    return logger
