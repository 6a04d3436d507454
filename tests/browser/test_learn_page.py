"""The teaching layer in a real browser (issue 12): every tab's Learn panel renders its formulas (KaTeX, no raw
$$ left), shows the code that runs, and an experiment asks first, runs, then reveals its explanation. Screenshots of
each Learn panel and of an experiment before and after the reveal go to artifacts/."""

import re

from playwright.sync_api import expect

from tests.conftest import ARTIFACTS

TABS = ["GAN", "VAE", "Diffusion", "Text", "Training"]


def open_fold(page, selector, name):
    page.locator(selector).get_by_role("button", name=name).first.click()


def test_every_learn_panel_renders_its_formulas_and_code(page):
    expect(page.locator("#gan-samples img")).to_be_visible(timeout=180_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for tab in TABS:
        page.get_by_role("tab", name=re.compile(tab)).click()
        panel = page.locator(f"#learn-{tab.lower()}")
        expect(panel).to_be_visible(timeout=90_000)
        open_fold(page, f"#learn-{tab.lower()}", re.compile("Learn"))
        for fold in ("Derivation, step by step", "The code that runs"):
            panel.get_by_role("button", name=fold).click()
        expect(panel.locator(".katex").first).to_be_visible(timeout=30_000)
        formulas = panel.locator(".katex").count()
        assert formulas >= 8, f"{tab}: only {formulas} formulas rendered"
        text = panel.inner_text()
        assert "$$" not in text and "\\frac" not in text and "\\mathbb" not in text, f"{tab}: raw LaTeX left"
        assert "def " in text, f"{tab}: no code shown"
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"learn-{tab.lower()}.png"), full_page=True)
    # opening the page and walking through its tabs never trips the per-page request limit
    assert "Too many requests" not in page.locator("body").inner_text()


def test_an_experiment_asks_runs_and_then_reveals(page):
    expect(page.locator("#gan-samples img")).to_be_visible(timeout=180_000)
    open_fold(page, "#experiments-gan", re.compile("Experiments"))
    panel = page.locator("#experiments-gan")
    expect(page.locator("#experiment-question-gan")).to_contain_text("ψ = 0.5", timeout=30_000)
    page.locator("#experiment-prediction-gan").get_by_text("Fewer kinds of digit").click()
    page.screenshot(path=str(ARTIFACTS / "experiment-before.png"), full_page=True)
    page.locator("#experiment-run-gan").click()
    expect(page.locator("#experiment-result-gan")).to_contain_text("Inception score", timeout=180_000)
    expect(page.locator("#experiment-picture-gan img")).to_be_visible()
    explanation = page.locator("#experiment-explanation-gan")
    expect(explanation).to_be_hidden()  # the explanation waits in its fold
    panel.get_by_role("button", name="What happened, and why").click()
    expect(explanation).to_contain_text("was right", timeout=30_000)
    expect(explanation).to_contain_text("Truncation multiplies every latent vector by ψ")
    page.screenshot(path=str(ARTIFACTS / "experiment-after.png"), full_page=True)
