"""The behaviour tab: pass rates of every shipped model, failing cases, and a click that opens a case
in the Predict tab. On the tiny checkpoints from conftest ("default" an LSTM, "rnn" a tanh RNN)."""
from __future__ import annotations

import gradio as gr
import pytest
from playwright.sync_api import expect

from sentiment.behaviour import expand, failures, load_suite, results_from_report
from sentiment.ui import behaviour_tab as tab
from tests.conftest import SCREENSHOTS


def test_pass_rates_put_every_shipped_model_side_by_side(app_env):
    table, note = tab.pass_rates("test")
    assert note == ""
    assert list(table.columns) == ["capability", "type", "default", "rnn"]
    report = tab.report_for("rnn")
    records = report["splits"]["test"]["records"]
    assert len(table) == len(records) + 3  # + all cases, sure of short texts, calibration
    first = records[0]
    assert table.iloc[0]["rnn"] == f"{first['pass_rate']:.1%} ({first['passed']}/{first['n']})"
    overall = report["splits"]["test"]["overall"]
    assert table.iloc[len(records)]["rnn"] == f"{overall['pass_rate']:.1%} ({overall['passed']}/{overall['n']})"
    assert table.iloc[-1]["rnn"] == "not measured"  # the tiny checkpoints' test set was never scored
    dev, _ = tab.pass_rates("dev")
    assert dev.iloc[len(records)]["rnn"].endswith(f"/{sum(c.split == 'dev' for c in expand(load_suite()))})")


def test_failing_cases_are_the_reports_failures_worst_first(app_env):
    table, summary = tab.failing_cases("default", "negated_negative", "test")
    results = [r for r in results_from_report(tab.report_for("default"))
               if r.case.split == "test" and r.case.capability == "negated_negative"]
    failed = failures(results)
    assert list(table["text"]) == [r.case.text for r in failed]
    assert summary == f"**default** fails {len(failed)} of {len(results)} cases here."
    assert list(table.columns) == tab.CASE_COLUMNS


def test_failing_cases_of_an_unknown_model_say_so(app_env):
    table, summary = tab.failing_cases("no-such-model", "short")
    assert table.empty and "No model named 'no-such-model'" in summary


def test_a_click_on_a_case_opens_its_text_or_its_edit_in_predict(app_env):
    row = ["INV", "same label", "0.9 → 0.2", "The acting was great.", "THE ACTING WAS GREAT."]
    click = lambda column: gr.SelectData(None, {"index": [0, column], "value": row[column], "row_value": row})
    tabs, text, model, opened = tab.open_case("rnn", click(3))
    assert (text, model, opened) == ("The acting was great.", "rnn", True) and tabs.selected == "predict"
    assert tab.open_case("rnn", click(4))[1] == "THE ACTING WAS GREAT."
    row[-1] = ""
    assert tab.open_case("rnn", click(4))[1] == "The acting was great."  # an MFT has no edit: its text


def test_behaviour_endpoints_through_the_client(client):
    table = client.predict("dev", api_name="/behaviour")[0]
    assert table["headers"] == ["capability", "type", "default", "rnn"]
    cases, summary = client.predict("rnn", "short", "test", api_name="/failing_cases")
    assert cases["headers"] == tab.CASE_COLUMNS and "**rnn** fails" in summary


def test_a_failing_case_clicked_in_the_browser_opens_in_predict(page, app_env):
    table, _ = tab.failing_cases("default", tab.FIRST_CAPABILITY, "test")
    if table.empty:
        pytest.skip("the tiny default model passes every case of the first capability")
    page.get_by_role("tab", name="Behaviour").click()
    expect(page.locator("#behaviour-table")).to_contain_text("Negated negative reads not negative", timeout=20_000)
    cell = page.locator("#behaviour-cases").get_by_text(table.iloc[0]["text"], exact=True).first
    cell.click()
    review = page.locator("#review textarea")
    expect(review).to_have_value(table.iloc[0]["text"], timeout=20_000)
    expect(review).to_be_visible()
    expect(page.locator("#label")).to_contain_text("negative", timeout=20_000)
    expect(page.locator("#tokens")).to_contain_text(table.iloc[0]["text"].split()[0].lower(), timeout=20_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=20_000)  # the line of P(positive) drew
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "behaviour_case_opened.png", full_page=True)
