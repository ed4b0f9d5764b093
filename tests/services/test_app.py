"""The app starts, serves the home page and /healthz."""

import json
import urllib.request

import pytest

from tests.support.browser import console_errors


def test_healthz_answers_ok(app_server: str) -> None:
    with urllib.request.urlopen(f"{app_server}/healthz") as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"


@pytest.mark.browser
def test_home_links_to_both_workbenches(app_server: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(app_server + "/")
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "home-trainer-link")))
    assert browser.find_element(By.ID, "home-trainer-link").get_attribute("href").endswith("/trainer")
    assert browser.find_element(By.ID, "home-analytics-link").get_attribute("href").endswith("/analytics")
    assert console_errors(browser) == []
