"""Usable by everyone (issue 14): pictures say what they show, every control shows keyboard focus, text has
enough contrast, and the interpolation GIFs play in the page while staying downloadable."""

import re

from playwright.sync_api import expect

# For each element reached by Tab: is a focus ring drawn (outline or box-shadow)?
FOCUS_STYLE = """element => {
    const style = getComputedStyle(element);
    const own = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const label = element.closest('label');
    const around = label && getComputedStyle(label).outlineStyle !== 'none' &&
        parseFloat(getComputedStyle(label).outlineWidth) > 0;
    return {tag: element.tagName, type: element.type || '', name: element.getAttribute('aria-label') ||
        (element.labels && element.labels[0] ? element.labels[0].innerText : '') || element.innerText || '',
        visible: own || around || style.boxShadow !== 'none'};
}"""

# WCAG contrast of each visible text element against the first opaque background behind it.
CONTRAST = """() => {
    const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = element => {
        for (let e = element; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
        }
        return [255, 255, 255];
    };
    const worst = [];
    for (const e of document.querySelectorAll('label span, p, button, .prose, h1, h2, [role=tab]')) {
        if (!e.offsetParent || !e.innerText || !e.innerText.trim()) continue;
        const fg = luminance(parse(getComputedStyle(e).color)), bg = luminance(background(e));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        if (ratio < 4.5) worst.push(`${e.innerText.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
    }
    return worst;
}"""


def _alt_texts(page, selector):
    return page.locator(f"{selector} img").evaluate_all("images => images.map(i => i.alt)")


def test_pictures_have_alt_text_saying_what_they_show(page):
    samples = page.locator("#gan-samples img")
    expect(samples).to_be_visible(timeout=180_000)
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#gan-info")).to_contain_text("samples", timeout=180_000)
    alt = samples.get_attribute("alt")
    assert re.search(r"\d+ GAN samples?, read by the digit classifier as: [0-9]( [0-9])+", alt or ""), alt
    page.get_by_role("button", name="Interpolate").first.click()
    gif = page.locator("#gan-gif img")
    expect(gif).to_be_visible(timeout=180_000)
    assert gif.get_attribute("src").endswith(".gif")  # an animation in the page, not a file link
    assert "frames from seed" in gif.get_attribute("alt")
    expect(page.locator("#gan-gif").get_by_role("button", name=re.compile("download", re.IGNORECASE))).to_have_count(1)
    assert "frames from seed" in page.locator("#gan-strip img").get_attribute("alt")


def test_every_control_shows_keyboard_focus_and_text_has_contrast(page):
    expect(page.locator("#gan-samples img")).to_be_visible(timeout=180_000)
    page.locator("body").click(position={"x": 5, "y": 5})
    seen, missing = set(), []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate_handle("document.activeElement")
        info = focused.evaluate(FOCUS_STYLE)
        key = (info["tag"], info["type"], info["name"][:30])
        if info["tag"] == "BODY" or key in seen:
            continue
        seen.add(key)
        if not info["visible"]:
            missing.append(key)
    kinds = {(tag, kind) for tag, kind, _ in seen}
    assert ("INPUT", "range") in kinds and ("INPUT", "radio") in kinds, kinds  # the sliders and radios were reached
    assert not missing, f"no visible focus on: {missing}"
    for tab in ("GAN", "VAE", "Text", "Training"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(500)
        low = page.evaluate(CONTRAST)
        assert not low, f"{tab} tab: text below 4.5:1 contrast: " + "; ".join(low)


def test_every_picture_in_the_vae_tab_says_what_it_shows(page):
    page.get_by_role("tab", name="VAE").click()
    page.get_by_role("button", name="Interpolate A → B").click()
    expect(page.locator("#vae-strip img")).to_be_visible(timeout=180_000)
    expect(page.locator("#vae-gif img")).to_be_visible(timeout=180_000)
    page.wait_for_timeout(1000)
    pictures = page.locator("img:visible").evaluate_all(
        "images => images.filter(i => i.src.includes('/file=')).map(i => [i.closest('[id]')?.id, i.alt])"
    )
    assert len(pictures) >= 4, pictures  # inputs A and B, their reconstructions, the walk, its GIF
    unnamed = [where for where, alt in pictures if not alt or "read by the digit classifier" not in alt]
    assert not unnamed, f"pictures without alt text: {unnamed}; all: {pictures}"
