"""RNN Explorer: the Dash app (``python app.py`` runs it; ``app:server`` serves it under gunicorn)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import DiskcacheManager, dcc, html
from flask import jsonify

from model import cache, config

config.quiet_tensorflow()


def _background_manager() -> DiskcacheManager:
    """Background callbacks run in their own processes and report through the disk cache."""
    return DiskcacheManager(cache.get_cache())


def _navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink("Trainer", href=dash.get_relative_path("/trainer"), id="nav-trainer")),
        dbc.NavItem(dbc.NavLink("Analytics", href=dash.get_relative_path("/analytics"), id="nav-analytics")),
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("RNN Explorer", href=dash.get_relative_path("/")),
                dbc.Nav(links, navbar=True, className="me-auto"),
                dbc.Button("Tour", id="tour-start", color="light", outline=True, size="sm"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def create_app() -> dash.Dash:
    """Build the multi-page app with its navbar, background manager and health route."""
    app = dash.Dash(
        __name__,
        use_pages=True,
        background_callback_manager=_background_manager(),
        suppress_callback_exceptions=True,
        title="RNN Explorer",
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            _navbar(),
            dbc.Container(dash.page_container, fluid=True, className="pb-4"),
        ]
    )

    @app.server.route("/healthz")
    def healthz():
        return jsonify({"status": "ok", "cache_dir": str(config.cache_dir())})

    return app


app = create_app()
server = app.server

if __name__ == "__main__":
    app.run(host=config.host(), port=config.port(), debug=False)
