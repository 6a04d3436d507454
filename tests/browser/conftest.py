"""Headless Debian Chromium driven by Playwright (never `playwright install`), against a real server."""

import contextlib
import shutil
import tempfile

import pytest
from playwright.sync_api import sync_playwright

from tests.integration.conftest import start_server

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
        page.goto(url)
        yield page
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(page_server):
    with open_page(page_server) as page:
        yield page
