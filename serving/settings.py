"""Production settings read from the environment (documented in docs/deployment.md).

Every function reads ``os.environ`` when called, so nothing is frozen at import
time and tests can change the environment per server process.
"""

from __future__ import annotations

import os

from model import cache

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def flag(name: str, default: bool = False) -> bool:
    """A boolean environment switch (``1``, ``true``, ``yes``, ``on`` count as true)."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in TRUE_WORDS


def base_path() -> str:
    """The URL prefix the app is served under (``RNNX_BASE_PATH``), normalised to ``/x/`` or ``/``."""
    raw = os.environ.get("RNNX_BASE_PATH", "/").strip().strip("/")
    return f"/{raw}/" if raw else "/"


def dash_path_kwargs() -> dict[str, str]:
    """Path arguments for ``dash.Dash``.

    Behind a proxy that keeps the prefix, Dash routes and requests both use it
    (``url_base_pathname``); when the proxy strips it (``RNNX_PROXY_STRIPS_PREFIX=1``)
    the browser requests the prefix while the server routes at ``/``.
    """
    prefix = base_path()
    if prefix == "/":
        return {}
    if flag("RNNX_PROXY_STRIPS_PREFIX"):
        return {"requests_pathname_prefix": prefix, "routes_pathname_prefix": "/"}
    return {"url_base_pathname": prefix}


def demo_mode() -> bool:
    """Read-only demo mode (``RNNX_DEMO_MODE``): no uploads, no new cache entries."""
    return cache.read_only()


def uploads_allowed() -> bool:
    """Whether the app may accept user uploads (models, data sets) right now."""
    return not demo_mode()


def upload_limit_mb() -> float:
    """Largest accepted upload in MB (``RNNX_UPLOAD_LIMIT_MB``, default 200)."""
    try:
        value = float(os.environ.get("RNNX_UPLOAD_LIMIT_MB", "200"))
    except ValueError:
        value = 200.0
    return value if value > 0 else 200.0


FORM_OVERHEAD_BYTES = 64 * 1024  # a multipart body's boundaries and part headers around the file


def request_limit_bytes() -> int:
    """Largest HTTP request body (Flask's ``MAX_CONTENT_LENGTH``): one upload plus its form's overhead.

    Only the upload route (``serving.upload_route``) takes bodies that large; every Dash callback
    body is held to :func:`callback_limit_bytes`."""
    return int(upload_limit_mb() * 1024 * 1024) + FORM_OVERHEAD_BYTES


def callback_limit_bytes() -> int:
    """Largest Dash callback request body (``RNNX_MAX_CALLBACK_KB``, default 1024): refused with 413."""
    try:
        value = float(os.environ.get("RNNX_MAX_CALLBACK_KB", "1024"))
    except ValueError:
        value = 1024.0
    return int((value if value > 0 else 1024.0) * 1024)


def redis_url() -> str | None:
    """``REDIS_URL`` when set: background callbacks then run on Celery workers."""
    url = os.environ.get("REDIS_URL", "").strip()
    return url or None


def warmup_enabled(default: bool = False) -> bool:
    """Whether to prepare the default datasets in the background on start (never in demo mode).

    ``RNNX_WARMUP=1`` turns it on, ``RNNX_WARMUP=0`` off; unset, ``default`` decides: on for
    ``python app.py``, off under a bare gunicorn (the Docker image sets ``RNNX_WARMUP=1``).
    """
    return flag("RNNX_WARMUP", default) and not demo_mode()


def auto_prepare() -> bool:
    """Whether a first visit to an unprepared default analysis prepares it without a click
    (``RNNX_AUTO_PREPARE``, on by default; never in demo mode)."""
    return flag("RNNX_AUTO_PREPARE", True) and not demo_mode()


def worker_warm_enabled() -> bool:
    """Whether each gunicorn worker reads the prepared warm-up sets when it starts (``RNNX_WORKER_WARM``, on)."""
    return flag("RNNX_WORKER_WARM", default=True)


def warmup_datasets() -> list[str]:
    """The steps the warm-up prepares, in order (``RNNX_WARMUP_DATASETS``): dataset ids (their PCA),
    or ``id:method`` for another projection of the same states.

    Default ``imdb,reuters,imdb:umap,reuters:umap,imdb~all``: the page's default sets first
    (answering within the first minute), then their UMAP (about a minute each on two cores: only the
    projection is computed), then IMDB's whole test split (25,000 reviews, about 2.4M states).
    """
    raw = os.environ.get("RNNX_WARMUP_DATASETS", "imdb,reuters,imdb:umap,reuters:umap,imdb~all")
    return [name.strip() for name in raw.split(",") if name.strip()]


def job_expire_seconds() -> int:
    """How long finished background-job results are kept (``RNNX_JOB_EXPIRE_S``, default 1 h)."""
    return int(os.environ.get("RNNX_JOB_EXPIRE_S", "3600"))


def session_ttl_seconds() -> int:
    """How long an idle trainer session is kept (``RNNX_SESSION_TTL_S``, default 24 h)."""
    return int(os.environ.get("RNNX_SESSION_TTL_S", str(24 * 3600)))


def session_redis_url() -> str | None:
    """Where trainer sessions live: ``RNNX_SESSION_REDIS_URL``, else ``REDIS_URL``, else None (disk).

    A Redis of their own (``--maxmemory-policy volatile-lru``) lets sessions fill their share and
    be evicted without ever evicting Celery's queued jobs and results (kept at ``noeviction``).
    """
    url = os.environ.get("RNNX_SESSION_REDIS_URL", "").strip()
    return url or redis_url()


def disk_free_floor_mb() -> int:
    """``/readyz`` fails when a folder the app writes to has less free space (``RNNX_DISK_FREE_MIN_MB``, 500)."""
    try:
        return max(int(float(os.environ.get("RNNX_DISK_FREE_MIN_MB", "500"))), 0)
    except ValueError:
        return 500


def header_timeout_s() -> float:
    """How long a connection may take to send a whole request head (``RNNX_HEADER_TIMEOUT_S``, 10 s).

    ``serving.gworker`` gathers heads in the worker's main loop, never in a pool thread, and closes
    a connection that has not sent its head (and a small body) in this time: a slow client
    (slowloris) holds no thread and is dropped.
    """
    try:
        value = float(os.environ.get("RNNX_HEADER_TIMEOUT_S", "10"))
    except ValueError:
        return 10.0
    return value if value > 0 else 10.0
