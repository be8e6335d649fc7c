"""A short training run from a real browser: fill the form, Start, watch the curves, keep a screenshot."""
import re

import torch
from playwright.sync_api import expect

from sentiment.ui import models
from tests.conftest import SCREENSHOTS


def set_slider(page, label: str, value: int) -> None:
    box = page.get_by_label(f"number input for {label}")
    box.fill(str(value))
    box.press("Enter")


def test_a_short_run_in_the_browser_draws_its_curves(page):
    runs_before = set(models.model_choices())
    page.get_by_role("tab", name="Train").click()
    set_slider(page, "Epochs", 4)
    page.get_by_label("Learning rate").fill("0.01")
    set_slider(page, "Batch size", 16)
    set_slider(page, "Hidden size", 16)
    page.get_by_role("button", name="Start").click()

    expect(page.locator("#train-result")).to_contain_text("Test accuracy", timeout=120_000)
    status = page.locator("#train-status")
    expect(status).to_contain_text("Finished")
    expect(status).to_contain_text("GPU" if torch.cuda.is_available() else "CPU")
    expect(page.locator("#train-epochs [role=grid]")).to_have_attribute("aria-rowcount", "5")  # header + 4 epochs
    for plot in ("#train-loss", "#train-accuracy"):  # a train and a validation line, 4 points each
        expect(page.locator(f'{plot} [aria-roledescription="line mark"]')).to_have_count(2)
        expect(page.locator(f'{plot} [aria-roledescription="point"]')).to_have_count(8)

    [new_run] = set(models.model_choices()) - runs_before
    expect(page.locator("#train-result")).to_contain_text(new_run)
    assert re.fullmatch(r"runs/lstm-\d{8}-\d{6}(-\d+)?", new_run)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "train_curves.png", full_page=True)
