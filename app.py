"""RNN Explorer: the Dash app (``python app.py`` runs it; ``app:server`` serves it under gunicorn).

Production settings come from the environment (see docs/deployment.md): a URL
prefix, basic auth, read-only demo mode, and the background-callback manager:
Celery workers on Redis when ``REDIS_URL`` is set (``celery -A app:celery_app
worker``), else processes on this machine reporting through diskcache.

TensorFlow is never imported here: gunicorn forks workers from this module's
importer and DiskcacheManager forks a process per job, and TF hangs after fork.
"""

from __future__ import annotations

import logging
import os

import dash
import dash_bootstrap_components as dbc
import diskcache
import pandas  # noqa: F401  imported up front: lazy imports racing in two request threads can see it half-initialised
from celery import Celery
from dash import CeleryManager, DiskcacheManager, dcc, html
from flask import Flask, jsonify

from components.ids import common as ids
from model import cache, config
from services import identity, registry
from serving import (
    auth,
    claim_route,
    downloads,
    health,
    jobs,
    protocol,
    readiness,
    settings,
    upload_route,
    warmup,
)

config.quiet_tensorflow()
log = logging.getLogger("rnnx.app")


def make_celery(redis_url: str | None) -> Celery:
    """The Celery app of the background callbacks (broker and results in Redis)."""
    url = redis_url or "redis://127.0.0.1:6379/0"
    # Results in Redis through a backend that skips Celery's per-job pub/sub (serving.health).
    celery = Celery("rnnx", broker=url, backend=f"serving.health:JobResultsBackend+{url}")
    celery.conf.update(
        task_track_started=True,
        result_expires=settings.job_expire_seconds(),
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Riding out a Redis restart. The worker reconnects to the broker for good and keeps the
        # job it is running (no cancel on connection loss); its progress and result writes retry
        # for about a minute.
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=2,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options={
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            "socket_keepalive": True,
            "retry_on_timeout": True,
            "health_check_interval": 10,
        },
        # A web process starting a job retries the publish for about 2 s, then the page says why.
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 4,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 0.5,
        },
        # Results backend: requests never hang on a dead Redis; pooled connections are checked after idling.
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
        redis_retry_on_timeout=True,
        redis_socket_keepalive=True,
        redis_backend_health_check_interval=10,
        result_backend_transport_options={
            "retry_policy": {"max_retries": 60, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
        },
    )
    return celery


def _background_manager(celery: Celery) -> CeleryManager | DiskcacheManager:
    """CeleryManager when ``REDIS_URL`` is set, else DiskcacheManager on this machine.

    Every job belongs to the session that started it (``serving.jobs``). No ``cache_by``: heavy
    results are memoized in ``model.cache`` already, and callback-level caching would replay a
    trainer step instead of running it.
    Job bookkeeping lives in its own diskcache folder, apart from the size-limited,
    read-only-in-demo result cache.
    """
    expire = settings.job_expire_seconds()
    if settings.redis_url():
        return jobs.SessionCeleryManager(celery, expire=expire)  # polls survive a Redis restart
    jobs_dir = cache.state_dir() / "jobs"  # writable even when the results cache is a read-only volume
    jobs_dir.mkdir(parents=True, exist_ok=True)
    return jobs.SessionDiskcacheManager(diskcache.Cache(str(jobs_dir)), expire=expire)


def _navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink("Trainer", href=dash.get_relative_path("/trainer"), id=ids.NAV_TRAINER)),
        dbc.NavItem(
            dbc.NavLink("Analytics", href=dash.get_relative_path("/analytics"), id=ids.NAV_ANALYTICS)
        ),
    ]
    badge = [dbc.Badge("demo · read-only", color="warning", className="ms-2")] if settings.demo_mode() else []
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(["RNN Explorer", *badge], href=dash.get_relative_path("/")),
                dbc.Nav(links, navbar=True, className="me-auto"),
                dbc.Button("Tour", id=ids.TOUR_START, color="light", outline=True, size="sm"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def _health(background: str):
    """The ``/healthz`` view (liveness): JSON with status and what this process serves, no I/O.

    Readiness, with every dependency checked, is ``/readyz`` (``serving.readiness.readyz``).
    """

    def healthz():
        return jsonify(readiness.liveness(background))

    return healthz


def _on_callback_error(error: Exception) -> None:
    """Dash's global ``on_error``: a lost Redis becomes an alert in the page (200), not a 500.

    Other errors are raised again, unchanged. See ``serving.health.on_callback_error``.
    """
    health.on_callback_error(error)


def create_app(celery: Celery, services: registry.Services | None = None) -> dash.Dash:
    """Build the multi-page app with production settings, auth, background manager and health route.

    ``services`` chooses what the pages are backed by (the real pipeline by default; tests pass a
    stand-in, see ``tests/support/serve.py``); it is installed for this process before any page loads.
    """
    registry.install(services or registry.current())
    server = Flask(__name__)
    # Bodies over the limit are refused while they are received (413), never decoded in full. This is
    # an upload's limit (serving.upload_route); callbacks are held to RNNX_MAX_CALLBACK_KB (serving.protocol).
    server.config["MAX_CONTENT_LENGTH"] = settings.request_limit_bytes()
    server.secret_key = identity.secret_key()
    auth.install(
        server,
        auth.load_users(),
        exempt={f"{p}{n}" for p in ("/", settings.base_path()) for n in ("healthz", "readyz")},
    )
    identity.install(server, settings.base_path())
    manager = _background_manager(celery)
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        background_callback_manager=manager,
        suppress_callback_exceptions=True,
        title="RNN Explorer",
        on_error=_on_callback_error,
        **settings.dash_path_kwargs(),
    )
    app.layout = html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            _navbar(),
            # Callback failures caused by a lost dependency (Redis) open this alert (serving.health).
            dbc.Alert(id=health.ALERT_ID, is_open=False, dismissable=True, color="warning", className="mx-3"),
            dbc.Container(dash.page_container, fluid=True, className="pb-4"),
        ]
    )
    background = "celery" if isinstance(manager, CeleryManager) else "diskcache"
    routes_prefix = app.config.routes_pathname_prefix
    for name, view in (("healthz", _health(background)), ("readyz", readiness.readyz)):
        server.add_url_rule(f"/{name}", name, view)
        if routes_prefix != "/":
            server.add_url_rule(f"{routes_prefix}{name}", f"{name}_prefixed", view)
    upload_route.install(server, routes_prefix)
    downloads.install(server, routes_prefix)  # exports built on disk, by their handle
    claim_route.install(server, routes_prefix, app.config.requests_pathname_prefix)  # rnnx.explore's links
    health.install_error_handlers(server)
    _finish_dash_setup(app)
    protocol.install(server, lambda: app.callback_map)
    return app


def _finish_dash_setup(app: dash.Dash) -> None:
    """Run Dash's first-request setup now, once per process.

    Dash marks that setup done before it has finished it, so on a threaded gunicorn worker two
    first requests race and the second can be answered with only part of the callbacks.
    """
    with app.server.test_request_context():
        app._setup_server()


def start_warmup() -> None:
    """Prepare the default datasets in a detached, low-priority subprocess (``RNNX_WARMUP=0``: don't).

    On by default for ``python app.py``; never in demo mode. It never blocks this process, and
    stops when this process ends.
    """
    if settings.warmup_enabled(default=True):
        names = settings.warmup_datasets()
        print(
            f"warm-up: preparing {', '.join(names)} in the background (RNNX_WARMUP=0 turns it off)",
            flush=True,
        )
        warmup.start(names)


def main() -> None:
    """``python app.py``: the warm-up in the background, then the development server."""
    if not settings.flag("RNNX_DEBUG") or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        start_warmup()  # with the debug reloader, only in the serving child (the lock makes it once anyway)
    app.run(host=config.host(), port=config.port(), debug=settings.flag("RNNX_DEBUG"))


celery_app = make_celery(settings.redis_url())
# Built with the services installed so far in this process: the real ones, unless a launcher
# (tests/support/serve.py) installed a stand-in before importing this module.
app = create_app(celery_app, registry.current())
server = app.server

if __name__ == "__main__":
    main()
