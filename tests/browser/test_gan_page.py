"""A person's view: open the page, generate a grid, see an image."""

from playwright.sync_api import expect


def test_generate_shows_a_grid(page, artifacts):
    expect(page.get_by_role("tab", name="GAN")).to_be_visible(timeout=90_000)
    samples = page.locator("#gan-samples img")
    expect(samples).to_be_visible(timeout=180_000)  # the first grid arrives on page load
    first_source = samples.get_attribute("src")
    page.get_by_label("Seed", exact=True).fill("777")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#gan-info")).to_contain_text("seed 777", timeout=180_000)
    assert samples.get_attribute("src") != first_source
    box = samples.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    page.screenshot(path=str(artifacts / "gan-tab.png"), full_page=True)
