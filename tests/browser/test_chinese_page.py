"""简体中文 (issue 14, item 4): a browser set to Chinese gets a Chinese page and Chinese results; the page's
language buttons switch in place, the server follows, and the choice is remembered. Screenshots of every tab in
Chinese go to artifacts/."""

import re
import shutil
import tempfile

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, FLAGS
from tests.conftest import ARTIFACTS
from tests.test_i18n import english_left

TABS = {
    "GAN": "生成对抗网络",
    "VAE": "变分自编码器",
    "Text": "文本",
    "Training": "训练",
    "Diffusion": "扩散模型",
    "Scoreboard": "排行榜",
}


@pytest.fixture
def chinese_page(page_server):
    profile = tempfile.mkdtemp(prefix="genlab-chromium-zh-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=[*FLAGS, "--lang=zh-CN"],
            locale="zh-CN",
            viewport={"width": 1400, "height": 1100},
        )
        page = context.new_page()
        page.goto(page_server)
        yield page
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


# The visible text of the tabs, less what is content rather than interface: example prompts (the language models
# write English), code, and text the reader typed.
VISIBLE_TEXT = """() => {
    const skip = 'code, pre, table, textarea, input, style, script, svg, .gallery, .gallery-item';
    const walker = document.createTreeWalker(document.querySelector('#genlab-tabs'), NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const element = node.parentElement;
        if (!element || element.closest(skip) || element.offsetParent === null) continue;
        parts.push(node.textContent);
    }
    return parts.join(' ');
}"""


def _visible_english(page) -> list[str]:
    """Latin words left in the visible interface text of the tabs (the footer is Gradio's own, translated by it)."""
    return english_left(page.evaluate(VISIBLE_TEXT))


def test_every_tab_in_chinese(chinese_page):
    page = chinese_page
    expect(page.locator("#gan-samples img")).to_be_visible(timeout=180_000)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    expect(page.locator("#gan-info")).to_contain_text("个样本", timeout=90_000)  # a result the server wrote
    alt = page.locator("#gan-samples img").get_attribute("alt")
    assert "数字分类器" in alt and not english_left(alt), alt
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for tab, title in TABS.items():
        page.get_by_role("tab", name=re.compile(title)).click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / f"zh-CN-{tab.lower()}-tab.png"), full_page=True)
        left = _visible_english(page)
        assert len(left) <= 3, f"{tab} tab shows English: {left[:20]}"
    assert "$$" not in page.locator("body").inner_text()


def test_language_buttons_switch_the_page_and_the_server(chinese_page):
    page = chinese_page
    expect(page.locator("#gan-samples img")).to_be_visible(timeout=180_000)
    page.locator("#genlab-lang-en").click()
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible(timeout=30_000)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#gan-info")).to_contain_text("samples · seed", timeout=90_000)  # the server follows
    page.reload()
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible(timeout=180_000)  # remembered
    page.locator("#genlab-lang-zh-CN").click()
    expect(page.get_by_role("button", name="生成", exact=True)).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="生成", exact=True).click()
    expect(page.locator("#gan-info")).to_contain_text("个样本", timeout=90_000)
