"""Serve the real app over a stand-in data pipeline, as ``python app.py`` would serve the real one.

    python -m tests.support.serve tests.support.synthetic

The pipeline is passed to ``app.create_app`` through ``services.registry`` before the app
module is imported (importing it builds the app); everything else (port, cache folder,
settings) comes from the environment as usual.
"""

from __future__ import annotations

import sys

from services import registry


def run(pipeline: str) -> None:
    registry.install(registry.Services(pipeline=pipeline))
    import app

    app.main()


if __name__ == "__main__":
    run(sys.argv[1])
