"""gunicorn settings for RNN Explorer (``gunicorn app:server`` picks this file up from the cwd).

No ``preload_app``: the app is imported in each worker, never in the master, so
nothing TensorFlow-related can be inherited through fork.  Every value can be
overridden on the command line or through the environment.
"""

from __future__ import annotations

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("RNNX_THREADS", "4"))
# gthread, except that request heads are read in the worker's main loop (a slow client holds no
# thread) and GET /healthz, /readyz are answered there, never queued behind callbacks.
worker_class = "serving.gworker.HealthWorker"
timeout = int(os.environ.get("RNNX_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycling a worker every 1000 requests bounds slow leaks; without Redis, background jobs are
# forked from the workers, and a recycled worker waits for them until ``timeout`` kills it with its
# jobs (queued ones wait long), so then no recycling unless RNNX_MAX_REQUESTS asks for it.
max_requests = int(os.environ.get("RNNX_MAX_REQUESTS", "1000" if os.environ.get("REDIS_URL") else "0"))
max_requests_jitter = max_requests // 10
preload_app = False
accesslog = os.environ.get("RNNX_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("RNNX_LOG_LEVEL", "info")
# The heartbeat file lives in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def when_ready(server) -> None:
    """Start the dataset warm-up once per launch (a subprocess; the master never imports TF).

    Off unless ``RNNX_WARMUP=1`` (the Docker image sets it); it stops with the master.
    """
    from serving import settings, warmup
    from serving.logs import route_app_logs

    route_app_logs(loglevel).info("RNN Explorer %s: gunicorn ready", _version())
    if settings.warmup_enabled():
        server.log.info("warm-up: preparing %s in the background", ", ".join(settings.warmup_datasets()))
        warmup.start(settings.warmup_datasets())


def post_worker_init(worker) -> None:
    """Read the prepared default analyses into each new worker in a background thread, so the first
    visitor a fresh worker serves does not wait for them (``RNNX_WORKER_WARM=0`` turns it off)."""
    import threading

    from serving import settings
    from serving.logs import route_app_logs

    route_app_logs(loglevel)

    if not settings.worker_warm_enabled():
        return

    def warm() -> None:
        try:
            from pages import analytics

            warmed = analytics.warm_worker(settings.warmup_datasets())
            worker.log.info("worker %s warmed: %s", worker.pid, ", ".join(warmed) or "nothing prepared yet")
        except Exception:  # noqa: BLE001 - a warm-up is an optimisation: requests still work without it
            worker.log.exception("worker warm-up failed")

    threading.Thread(target=warm, name="rnnx-worker-warm", daemon=True).start()


def _version() -> str:
    from serving.version import version

    return version()
