"""Still offline (issue 14): a tour of every tab, a lesson and a generation makes no request that leaves the
machine (no fonts, scripts or analytics from elsewhere)."""

from urllib.parse import urlparse

from playwright.sync_api import expect

from tests.browser.conftest import goto_first, open_page


def test_a_page_tour_requests_nothing_from_elsewhere(page_server):
    with open_page("about:blank") as page:
        tour(page, page_server)


def tour(page, page_server):
    hosts = []
    page.on("request", lambda request: hosts.append(request.url))
    goto_first(page, page_server + "?lesson=gans-in-45-minutes")
    expect(page.locator("#lesson-step")).to_contain_text("GANs in 45 minutes", timeout=90_000)
    page.goto(page_server)
    for tab in ("GAN", "VAE", "Text", "Training"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(700)
    page.get_by_role("tab", name="GAN").click()
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#gan-info")).to_contain_text("samples", timeout=180_000)
    server = urlparse(page_server).netloc
    elsewhere = [url for url in hosts if urlparse(url).scheme in ("http", "https", "ws", "wss")
                 and urlparse(url).netloc != server]  # fmt: skip
    assert len(hosts) > 10, "the tour made requests"
    assert not elsewhere, f"requests that leave the machine: {elsewhere[:10]}"
