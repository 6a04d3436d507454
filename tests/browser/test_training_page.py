"""A person's view of the Training tab: start a short run and watch the loss plot fill in."""

import re

from playwright.sync_api import expect


def test_start_a_run_and_see_the_plot_update(page, artifacts):
    page.get_by_role("tab", name="Training").click()
    page.locator("#train-name textarea, #train-name input").first.fill("browser-gan")
    steps = page.locator("#train-steps input[type=number]")
    steps.fill("40")  # four quality measures (one each 10 steps): enough to see the curves grow
    steps.press("Enter")
    batch = page.locator("#train-batch input[type=number]")  # a quarter of the default: the same page, less CPU
    batch.fill("16")
    batch.press("Enter")
    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text(re.compile(r"Step [1-9][0-9]* of 40"), timeout=300_000)
    plot = page.locator("#train-losses")
    expect(plot.locator("canvas, svg").first).to_be_visible(timeout=180_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "training-in-progress.png"), full_page=True)
    in_progress = plot.screenshot()
    expect(status).to_contain_text("Saved as", timeout=300_000)
    page.wait_for_timeout(1500)
    assert plot.screenshot() != in_progress, "the loss curve grew while the run went on"


def test_picking_lora_sets_its_own_steps_batch_and_name(page):
    page.get_by_role("tab", name="Training").click()
    page.get_by_label("LoRA fine-tune of SmolLM2 (text)").check()
    expect(page.locator("#train-name textarea, #train-name input").first).to_have_value(
        re.compile(r"^my-lora-[0-9a-f]{6}$"), timeout=30_000
    )
    expect(page.locator("#train-steps input[type=number]")).to_have_value("100")
    page.get_by_label("GAN (MNIST digits)").check()
    expect(page.locator("#train-steps input[type=number]")).to_have_value("300", timeout=30_000)
