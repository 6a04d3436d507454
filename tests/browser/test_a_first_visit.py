"""The first visitor of a fresh server (this file runs first): the Text tab says SmolLM2 is getting ready and how
long it should take, then the notice goes once the model is loaded."""

from playwright.sync_api import expect


def test_the_text_tab_shows_the_model_getting_ready_then_ready(page, artifacts):
    page.get_by_role("tab", name="Text").click()
    banner = page.locator("#text-model-status")
    expect(banner).to_contain_text("is getting ready", timeout=15_000)
    expect(banner).to_contain_text("s left")
    page.screenshot(path=str(artifacts / "text-tab-loading.png"), full_page=True)
    expect(banner).not_to_contain_text("getting ready", timeout=180_000)
