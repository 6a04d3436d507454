"""A person's view of the Text tab: generate, watch the text stream in, see the next-token chart."""

from playwright.sync_api import expect


def test_generate_streams_text(page, artifacts):
    page.get_by_role("tab", name="Text").click()
    page.locator("#text-model input").click()
    page.get_by_role("option", name="chargpt-shakespeare").click()
    page.locator("#text-prompt textarea").fill("ROMEO:\n")
    page.locator("#text-generate").click()
    expect(page.locator("#text-info")).to_contain_text("tokens/s", timeout=180_000)
    output = page.locator("#text-out-1 textarea")
    expect(output).not_to_have_value("", timeout=180_000)
    expect(page.locator("#text-info")).to_contain_text("perplexity", timeout=180_000)
    assert len(output.input_value()) > 20
    page.screenshot(path=str(artifacts / "text-tab.png"), full_page=True)


def test_fill_the_blanks_shows_both_sides_against_the_left(page, artifacts):
    page.get_by_role("tab", name="Text").click()
    page.locator("#fill-section").get_by_text("Fill the blanks: a masked model").click()
    page.locator("#fill-text textarea").fill("A man well _nown throughout all Italy.")
    page.locator("#fill-run").click()
    expect(page.locator("#fill-summary")).to_contain_text("A man well known throughout", timeout=180_000)
    table = page.locator("#fill-table")
    expect(table).to_contain_text("masked model (both sides)")
    expect(table).to_contain_text("[_]nown")
    page.screenshot(path=str(artifacts / "text-fill.png"), full_page=True)


def test_a_held_out_passage_is_scored_at_three_temperatures(page):
    page.get_by_role("tab", name="Text").click()
    page.locator("#text-model input").click()
    page.get_by_role("option", name="chargpt-shakespeare").click()
    page.locator("#score-section").get_by_text("Score a continuation").click()
    expect(page.locator("#score-prompt textarea")).not_to_have_value("", timeout=90_000)  # passage 0, on load
    page.locator("#score-reference textarea").fill("And what is that to thee?")
    page.locator("#score-run").click()
    expect(page.locator("#score-summary")).to_contain_text("perplexity", timeout=270_000)
    expect(page.locator("#score-table")).to_contain_text("BLEU")
