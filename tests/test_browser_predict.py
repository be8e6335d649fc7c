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


def test_the_heatmap_shows_the_units_that_matter_ordered_by_their_share(page, app_env):
    from sentiment.ui import plots, predict_tab
    page.wait_for_selector("#review textarea", timeout=20_000)
    page.fill("#review textarea", REVIEW)
    page.get_by_role("button", name="Predict", exact=True).click()
    heatmap = page.locator("#heatmap")
    heatmap.locator(".heatmaplayer image").first.wait_for(state="attached", timeout=20_000)
    e = predict_tab.get_predictor("default").explain(REVIEW)
    top_rows = [str(u) for u in plots.heatmap_units(e, 1)]  # the top layer: most positive share first
    drawn = heatmap.locator(".js-plotly-plot").evaluate("plot => plot.data.map(trace => trace.y)")
    assert drawn[1] == top_rows  # the top layer's rows as drawn: the units pushing positive most on top
    unit_tokens = page.locator("#unit-tokens")  # the second, small answer: the review coloured by one unit
    unit_tokens.get_by_text("wonderful").first.wait_for(timeout=20_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    heatmap.screenshot(path=str(SCREENSHOTS / "heatmap.png"))


def test_the_train_tabs_homework_preset_fills_the_form(page):
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-preset input").click()
    page.get_by_role("option", name="The homework", exact=False).click()
    hidden = page.get_by_label("number input for Hidden size")
    hidden.wait_for(timeout=10_000)
    page.wait_for_function("document.querySelector('[aria-label=\"number input for Hidden size\"]').value === '5'",
                           timeout=10_000)
    assert page.get_by_label("number input for Epochs").input_value() == "20"
    assert page.get_by_label("number input for Batch size").input_value() == "128"
    assert page.get_by_label("last", exact=True).is_checked() and page.get_by_label("rnn", exact=True).is_checked()
    assert "no gradient clipping" in page.locator("#train-preset-note").inner_text()
    hidden.fill("7")  # every field stays the user's to change
    hidden.press("Enter")
    assert hidden.input_value() == "7"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "train_preset.png"), full_page=True)
