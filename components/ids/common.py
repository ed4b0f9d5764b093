"""Ids of the app shell, shared by every page: the URL, the navbar, the app-level alert, the tour."""

URL = "url"
NAV_TRAINER = "nav-trainer"
NAV_ANALYTICS = "nav-analytics"
TOUR_START = "tour-start"
# The alert a lost dependency (Redis) opens; serving.health.ALERT_ID holds the same value (it
# sits below components and cannot import this module; tests/unit/test_ids.py keeps them equal).
APP_ERROR = "app-error"

# ---------------------------------------------------------------- made by assets/tour.js
TOUR_POPOVER = "tour-popover"
TOUR_SPOT = "tour-spot"
TOUR_TITLE = "tour-title"
TOUR_SKIP = "tour-skip"
TOUR_BODY = "tour-body"
TOUR_ACTIONS = "tour-actions"
TOUR_WAIT = "tour-wait"
TOUR_PROGRESS = "tour-progress"
TOUR_BACK = "tour-back"
TOUR_NEXT = "tour-next"
TOUR_HINT = "tour-hint"
