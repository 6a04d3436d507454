"""A lesson link in the browser: ?lesson=next-word shows its walkthrough and only its tab, with its lock."""

from playwright.sync_api import expect

from tests.browser.conftest import open_page


def test_a_lesson_link_opens_the_lesson(page_server, artifacts):
    with open_page(page_server + "?lesson=next-word") as page:  # the link itself is the first page a student opens
        check_the_next_word_lesson(page, artifacts)


def check_the_next_word_lesson(page, artifacts):
    bar = page.locator("#lesson-step")
    expect(bar).to_contain_text("How a language model picks the next word", timeout=90_000)
    expect(bar).to_contain_text("Step 1 of 4")
    expect(bar).to_contain_text("Fixed for this lesson: the language model")
    expect(page.get_by_role("tab", name="Text")).to_be_visible()
    expect(page.get_by_role("tab", name="GAN")).to_be_hidden()
    expect(page.locator("#text-model input")).to_be_disabled()
    page.get_by_role("button", name="Next step →").click()
    expect(bar).to_contain_text("Step 2 of 4")
    page.screenshot(path=str(artifacts / "lesson-next-word.png"), full_page=True)


def test_a_broken_lesson_link_says_so_and_the_page_works(page_server):
    with open_page(page_server + "?lesson=../../etc/passwd") as page:
        expect(page.locator("#lesson-step")).to_contain_text("cannot be used", timeout=90_000)
        expect(page.get_by_role("tab", name="GAN")).to_be_visible()
