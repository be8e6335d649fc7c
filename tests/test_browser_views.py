"""What the page shows must belong to what is on it: pasted text and a changed model re-run the views;
failures say so where the user looks; the About tab's math renders; the batch table leads with the answer."""
from playwright.sync_api import expect

from sentiment.ui import predict_tab as tab
from tests.conftest import SCREENSHOTS

FIRST = "The film was great and the acting was wonderful, a superb story."
PASTED = "Awful, boring and dull. The worst plot and poor acting."


def _notice(page):
    return page.locator("#notice")


def test_pasted_text_updates_every_view(page, app_env):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    review = page.locator("#review textarea")
    review.fill(FIRST)
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(_notice(page)).to_contain_text("read 14 tokens", timeout=20_000)
    page.evaluate("text => navigator.clipboard.writeText(text)", PASTED)
    review.select_text()
    review.press("Control+V")
    expect(review).to_have_value(PASTED)
    p = tab.get_predictor("default").explain(PASTED).prob_positive
    expect(_notice(page)).to_contain_text(f"P(positive) = {p:.3f}", timeout=20_000)


def test_a_model_change_reruns_the_views_or_clears_them(page, app_env):
    review = page.locator("#review textarea")
    review.fill(FIRST)
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(_notice(page)).to_contain_text("default read 14 tokens", timeout=20_000)
    page.locator("#model input").click()
    page.get_by_role("option", name="rnn", exact=True).click()
    p = tab.get_predictor("rnn").explain(FIRST).prob_positive
    expect(_notice(page)).to_contain_text(f"rnn read 14 tokens: P(positive) = {p:.3f}", timeout=20_000)

    page.get_by_label("Update as I type").uncheck()
    review.fill(PASTED)  # with live updates off, the old answer must not stay next to the new text
    expect(_notice(page)).to_contain_text("press Predict", timeout=20_000)
    expect(page.locator("#label")).not_to_contain_text("%")


def test_a_failure_is_a_sentence_where_the_user_looks(page, app_env, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    page.get_by_text("Label a file of reviews").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(empty))
    page.get_by_role("button", name="Label them").click()
    expect(page.locator("#batch-notice")).to_contain_text("holds no reviews", timeout=20_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_the_about_tab_renders_its_math(page):
    page.get_by_role("tab", name="About").click()
    about = page.locator("#about-recurrence")
    expect(about.locator(".katex").first).to_be_visible(timeout=20_000)
    assert "$" not in about.inner_text()
    assert about.locator(".katex").count() > 10  # inline symbols as well as the display equation


def test_the_batch_table_leads_with_label_and_probability(page, app_env, tmp_path):
    txt = tmp_path / "reviews.txt"
    txt.write_text(("A great, wonderful film with a superb cast and a moving story that I loved. " * 6) + "\nDull.\n",
                   encoding="utf-8")
    page.get_by_text("Label a file of reviews").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(txt))
    page.get_by_role("button", name="Label them").click()
    table = page.locator("#batch-table")
    expect(table).to_contain_text("prob_positive", timeout=20_000)
    headers = table.locator("th").all_inner_texts()
    assert [h.strip() for h in headers[:2]] == ["label", "prob_positive"]
    label = tab.batch(str(txt))[1]["label"][0]
    label_cell = table.get_by_text(label, exact=True).filter(visible=True).first
    cell, box = label_cell.bounding_box(), table.bounding_box()
    assert box["x"] <= cell["x"] and cell["x"] + cell["width"] <= box["x"] + box["width"]  # not scrolled off
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "batch.png", full_page=True)


def test_edit_a_word_and_apply_a_suggestion_in_the_browser(page, app_env):
    review = page.locator("#review textarea")
    review.fill("Not bad at all.")
    page.get_by_text("Edit a word, watch the verdict").click()
    page.get_by_role("button", name="Start from the review above").click()
    edited = page.locator("#edited textarea")
    expect(edited).to_have_value("Not bad at all.", timeout=20_000)
    edited.fill("Not good at all.")
    page.locator("#edit-compare").click()
    expect(page.locator("#edit-notice")).to_contain_text("→", timeout=20_000)
    for side in ("original", "edit"):
        expect(page.locator(f"#edit-label-{side}")).to_contain_text("positive")
    expect(page.locator('#edit-lines .scatterlayer .trace')).to_have_count(2, timeout=20_000)  # both lines
    page.get_by_role("button", name="Suggest edits").click()
    first = page.locator("#suggestions").get_by_text("Not ", exact=False).filter(visible=True)
    expect(first.first).to_be_visible(timeout=20_000)
    suggested = tab.get_predictor("default")  # the same model the page uses
    from sentiment.edits import suggest_edits
    top = suggest_edits(suggested, "Not bad at all.").suggestions[0]
    page.locator("#suggestions").get_by_text(top.text, exact=True).filter(visible=True).first.click()
    expect(edited).to_have_value(top.text, timeout=20_000)
    expect(page.locator("#edit-notice")).to_contain_text(f"{top.prob:.3f}", timeout=20_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "edit.png", full_page=True)


def test_an_example_fills_the_review_and_every_view_even_with_live_updates_off(page, app_env):
    page.get_by_label("Update as I type").uncheck()
    page.get_by_text("Not bad at all.", exact=True).first.click()
    expect(page.locator("#review textarea")).to_have_value("Not bad at all.", timeout=20_000)
    p = tab.get_predictor("default").explain("Not bad at all.").prob_positive
    expect(_notice(page)).to_contain_text(f"P(positive) = {p:.3f}", timeout=20_000)
    expect(page.get_by_text("true", exact=True)).to_have_count(0)  # the hidden flag is not shown as a column


def test_step_to_a_token_and_see_the_gates(page, app_env):
    page.locator("#review textarea").fill("The film was great fun.")
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.locator("#tokens")).to_contain_text("great", timeout=20_000)
    page.get_by_text("Step through the recurrence").click()
    page.locator("#tokens").get_by_text("great").first.click()  # a click on a token picks it
    expect(page.locator("#step-notice")).to_contain_text("Token 3: “great”", timeout=20_000)
    expect(page.locator("#step-table")).to_contain_text("f (forget)")
    expect(page.locator("#step-notice .katex").first).to_be_visible()
    expect(page.locator("#step-chart .bars").first).to_be_visible(timeout=20_000)  # the chart beside the numbers
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#step-view").screenshot(path=SCREENSHOTS / "step.png")


def test_the_path_plot_in_the_browser(page, app_env):
    page.locator("#review textarea").fill("The film was great fun.")
    page.get_by_text("The path of the review").click()
    page.locator("#path-draw").click()
    expect(page.locator("#path-notice")).to_contain_text("logit", timeout=20_000)
    expect(page.locator("#path-plot .scatterlayer .trace")).to_have_count(1, timeout=20_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#path-view").screenshot(path=SCREENSHOTS / "path.png")
