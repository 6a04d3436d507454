"""A person's view of the VAE tab: draw a digit, interpolate, see the strip, then refine the digit's code."""

from playwright.sync_api import expect


def test_draw_then_interpolate(page, artifacts):
    page.get_by_role("tab", name="VAE").click()
    page.locator("#vae-sketch-a button[aria-label=Brush]").click()
    canvas = page.locator("#vae-sketch-a canvas").first
    expect(canvas).to_be_visible(timeout=90_000)
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.5 * w, y + 0.2 * h)  # a "1": one vertical stroke
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 0.5 * w, y + (0.2 + 0.06 * step) * h, steps=2)
    page.mouse.up()
    expect(page.get_by_text("your sketch")).to_be_visible(timeout=180_000)
    page.get_by_role("button", name="Interpolate A → B").click()
    strip = page.locator("#vae-strip img")
    expect(strip).to_be_visible(timeout=180_000)
    box = strip.bounding_box()
    assert box is not None and box["width"] > 200
    page.screenshot(path=str(artifacts / "vae-tab.png"), full_page=True)
    # the drawn digit's amortization gap: its code refined on its own ELBO, both reconstructions beside it
    page.get_by_text("Refine A's code (the amortization gap)").click()
    page.get_by_role("button", name="Refine A's code: 50 gradient steps on its own ELBO").click()
    expect(page.get_by_text("nats of amortization gap")).to_be_visible(timeout=120_000)
    refined = page.locator("#vae-refine img")
    expect(refined).to_be_visible(timeout=30_000)
    box = refined.bounding_box()
    assert box is not None and box["width"] > 2 * box["height"]  # three tiles side by side
