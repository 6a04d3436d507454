"""Headless Debian Chromium driven by Playwright (never `playwright install`), against a real server."""

import contextlib
import shutil
import tempfile

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.integration.conftest import start_server

# Waits end as soon as the page is ready; their limits leave room for a loaded machine (two test workers on two
# cores take several times longer to render a grid than one), since a wait that runs out fails CI.
expect.set_options(timeout=30_000)
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def page_server():
    process, url = start_server("browser-server.log")
    yield url
    process.terminate()
    process.wait(timeout=20)


def goto_first(page, url: str, tries: int = 3) -> None:
    """A fresh profile's first navigation, tried again when Chromium aborts it (net::ERR_ABORTED: seen once in
    hundreds of runs on a loaded machine, while the new profile's start page was still settling)."""
    for attempt in range(tries):
        try:
            page.goto(url, timeout=120_000)
            return
        except PlaywrightError as error:
            if "ERR_ABORTED" not in str(error) or attempt == tries - 1:
                raise
            page.wait_for_timeout(1000)


@contextlib.contextmanager
def open_page(url: str):
    """A fresh Chromium profile with one page at `url`."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does this)")
    profile = tempfile.mkdtemp(prefix="genlab-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1400, "height": 1100}
        )
        page = context.new_page()
        page.set_default_timeout(90_000)  # clicks and fills wait for their element as long
        goto_first(page, url)
        yield page
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(page_server):
    with open_page(page_server) as page:
        yield page
