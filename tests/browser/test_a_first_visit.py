"""The first visitor of a fresh server: the Text tab says SmolLM2 is getting ready and how long it should take,
then the notice goes once the model is loaded. The server is this test's own, so no other test has loaded the model
first, whatever order the tests run in.

SmolLM2 loads in about 15 s here, and a browser on a busy machine can take that long to show the page, so the
notice could come and go unseen. The server's first load of the model is therefore held back, through a
sitecustomize hook that only this test's server gets, until the test has seen the notice (or at most 120 s): the
page meets the model still loading, as a visitor of a slower server would, and no fixed wait idles the machine."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from tests.conftest import ARTIFACTS
from tests.integration.conftest import start_server

HOLD_SECONDS = 120  # at most; the test lets the load go on as soon as it has seen the notice
SLOW_FIRST_LOAD = """
import importlib.abc, importlib.util, os, sys, time

class _SlowFirstLoad(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "genmodels.text_models":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            load = module.TextModels.load
            held = []  # the first load's name, then how long it was held

            def slow_load(models, name):
                if not held:
                    held.append(name)
                    started = time.monotonic()
                    release = os.environ["GENLAB_TEST_RELEASE"]
                    while not os.path.exists(release) and time.monotonic() - started < HOLD_SECONDS:
                        time.sleep(0.1)
                    held.append(time.monotonic() - started)
                return load(models, name)

            record = module.TextModels._record_seconds  # the next server's estimate: the real load time

            module.TextModels.load = slow_load
            module.TextModels._record_seconds = lambda models, name, took: record(models, name, took - sum(held[1:]))

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _SlowFirstLoad())
""".replace("HOLD_SECONDS", str(HOLD_SECONDS))


@pytest.fixture
def fresh_page(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SLOW_FIRST_LOAD)
    release = tmp_path / "release"  # the test creates it once it has seen the notice
    hook = {
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "GENLAB_TEST_RELEASE": str(release),
    }
    process, url = start_server("first-visit-server.log", extra_env=hook)
    try:
        with open_page(url) as page:
            yield page, release
    finally:
        process.terminate()
        process.wait(timeout=20)
    log = (ARTIFACTS / "first-visit-server.log").read_text()
    assert "Traceback" not in log, "the server logged a traceback; see first-visit-server.log under artifacts/"


def test_the_text_tab_shows_the_model_getting_ready_then_ready(fresh_page, artifacts):
    page, release = fresh_page
    page.get_by_role("tab", name="Text").click()
    banner = page.locator("#text-model-status")
    expect(banner).to_contain_text(re.compile(r"is getting ready.*s left", re.DOTALL), timeout=100_000)
    page.screenshot(path=str(artifacts / "text-tab-loading.png"), full_page=True)
    release.touch()  # the model may load now
    expect(banner).not_to_contain_text("getting ready", timeout=180_000)
