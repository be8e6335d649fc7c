"""End to end in a real headless chromium: type a review, press Predict, see the label and the tokens."""
from tests.conftest import SCREENSHOTS

REVIEW = "The acting was wonderful and the story was great fun."


def test_predict_in_the_browser(page):
    page.wait_for_selector("#review textarea", timeout=20_000)
    page.fill("#review textarea", REVIEW)
    page.get_by_role("button", name="Predict", exact=True).click()
    label = page.locator("#label")
    label.get_by_text("positive").first.wait_for(timeout=20_000)
    tokens = page.locator("#tokens")
    tokens.get_by_text("wonderful").first.wait_for(timeout=20_000)
    assert "negative" in label.inner_text()  # both classes are listed with their confidence
    page.locator(".js-plotly-plot").first.wait_for(timeout=20_000)  # the line of P(positive) drew
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "predict.png"), full_page=True)
    assert (SCREENSHOTS / "predict.png").stat().st_size > 10_000
