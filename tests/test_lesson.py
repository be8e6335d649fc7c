"""Lesson links: the address restores the review, model, tab, layer and unit; ?view=simple hides the rest."""
from urllib.parse import parse_qsl

from playwright.sync_api import expect

from sentiment.ui import lesson
from tests.conftest import SCREENSHOTS


def test_a_lesson_link_round_trips_the_view():
    query = lesson.lesson_query("Not bad at all & more?", "rnn", 1, 17, tab="predict", simple=True)
    view = lesson.read_query(dict(parse_qsl(query[1:])))
    assert view == {"text": "Not bad at all & more?", "model": "rnn", "layer": 1, "unit": 17, "tab": "predict",
                    "simple": True}
    assert lesson.read_query({"unit": "x", "tab": "nowhere"}) == {"simple": False}  # bad values are left out


def test_restored_sets_what_the_link_names_and_hides_the_advanced_parts():
    request = type("Request", (), {"query_params": {"review": "Great fun.", "model": "rnn", "unit": "3",
                                                    "view": "simple"}})()
    tabs, text, model, layer, unit, opened, *hidden = lesson.restored(request, 2)
    assert (text, model, unit, opened) == ("Great fun.", "rnn", 3, True)
    assert all(h["visible"] is False for h in hidden) and len(hidden) == 2
    assert "review=Great+fun." in lesson.copy_link("Great fun.", "rnn", 2, 3)


def test_opening_a_lesson_link_restores_the_review_model_and_unit(page, app_env, app_url):
    page.goto(app_url + lesson.lesson_query("The acting was wonderful and the story great.", "rnn", 1, 3))
    expect(page.locator("#review textarea")).to_have_value("The acting was wonderful and the story great.",
                                                           timeout=20_000)
    expect(page.locator("#model input")).to_have_value("rnn")
    expect(page.locator("#notice")).to_contain_text("rnn read", timeout=20_000)
    expect(page.get_by_text("Layer 1, unit 3").first).to_be_visible(timeout=20_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "lesson_link.png", full_page=True)


def test_the_simple_view_hides_the_advanced_parts(page, app_url):
    page.goto(app_url + "?view=simple&review=Not+bad+at+all.")
    expect(page.locator("#notice")).to_contain_text("read", timeout=20_000)
    expect(page.get_by_text("Compare two models on this review")).to_be_hidden()
    expect(page.get_by_text("Label a file of reviews")).to_be_hidden()
    expect(page.get_by_text("Step through the recurrence")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "simple_view.png", full_page=True)
