"""A person's view of the Text tab: generate, watch the text stream in, see the next-token chart."""

from playwright.sync_api import expect


def test_generate_streams_text(page, artifacts):
    page.get_by_role("tab", name="Text").click()
    page.locator("#text-model input").click()
    page.get_by_role("option", name="chargpt-shakespeare").click()
    page.locator("#text-prompt textarea").fill("ROMEO:\n")
    page.locator("#text-generate").click()
    expect(page.locator("#text-info")).to_contain_text("tokens/s", timeout=60_000)
    output = page.locator("#text-out-1 textarea")
    expect(output).not_to_have_value("", timeout=60_000)
    expect(page.locator("#text-info")).to_contain_text("perplexity", timeout=60_000)
    assert len(output.input_value()) > 20
    page.screenshot(path=str(artifacts / "text-tab.png"), full_page=True)
