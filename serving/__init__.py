"""Server concerns of RNN Explorer, free of Dash: settings, basic auth, warm-up, session store.

Upload code calls :func:`uploads_allowed` before accepting a file (refused in demo mode).
"""

from serving.settings import demo_mode, uploads_allowed

__all__ = ["demo_mode", "uploads_allowed"]
