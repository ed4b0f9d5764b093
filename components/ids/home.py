"""Ids of the home page (``pages/home.py``)."""

HOME_TRAINER_LINK = "home-trainer-link"
HOME_ANALYTICS_LINK = "home-analytics-link"
