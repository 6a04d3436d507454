"""The first visitor of a fresh server: the Text tab says SmolLM2 is getting ready and how long it should take,
then the notice goes once the model is loaded. The server is this test's own, so no other test has loaded the model
first, whatever order the tests run in."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from tests.conftest import ARTIFACTS
from tests.integration.conftest import start_server


@pytest.fixture
def fresh_page():
    process, url = start_server("first-visit-server.log")
    try:
        with open_page(url) as page:
            yield page
    finally:
        process.terminate()
        process.wait(timeout=20)
    log = (ARTIFACTS / "first-visit-server.log").read_text()
    assert "Traceback" not in log, "the server logged a traceback; see first-visit-server.log under artifacts/"


def test_the_text_tab_shows_the_model_getting_ready_then_ready(fresh_page, artifacts):
    page = fresh_page
    page.get_by_role("tab", name="Text").click()
    banner = page.locator("#text-model-status")
    # one reading of the banner holds both: the model may finish loading a moment later
    expect(banner).to_contain_text(re.compile(r"is getting ready.*s left", re.DOTALL), timeout=15_000)
    page.screenshot(path=str(artifacts / "text-tab-loading.png"), full_page=True)
    expect(banner).not_to_contain_text("getting ready", timeout=180_000)
