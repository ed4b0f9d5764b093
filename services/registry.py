"""The services an app instance uses, chosen once when the app is built.

``app.create_app(services=Services(pipeline="tests.support.synthetic"))`` serves a stand-in
data pipeline (tests, benchmarks); the default is the real one, :mod:`model.prepare`.

This is configuration, not state: :func:`install` runs once per process, when the app is
built, before any request; background jobs forked from that process and Celery workers
(which build the app on start) see the same choice. No request ever changes it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

DEFAULT_PIPELINE = "model.prepare"


@dataclass(frozen=True)
class Services:
    """What the app's services are backed by.

    ``pipeline`` names a module with the interface of :mod:`model.prepare` that the analytics
    read: ``DATASETS``, ``PROJECTIONS``, ``PrepareError``, ``load_analysis``,
    ``load_projection``, ``load_states``, ``is_prepared`` and ``run_prepare_subprocess``.
    """

    pipeline: str = DEFAULT_PIPELINE

    def pipeline_module(self) -> ModuleType:
        return importlib.import_module(self.pipeline)


_chosen: dict[str, Services] = {}  # set once by install(); read by current()


def install(services: Services | None) -> Services:
    """Make ``services`` this process's choice (the default when None); returns it."""
    chosen = services or Services()
    chosen.pipeline_module()  # fail at start, not in a request, when the module is missing
    _chosen["services"] = chosen
    return chosen


def current() -> Services:
    """The services installed by the app of this process (the real ones if none was built)."""
    return _chosen.get("services") or Services()
