"""The predict and about tabs: figure builders and handlers called directly, then the launched app
through gradio_client. All on the tiny checkpoints from conftest (LSTM "default", tanh "rnn", max_len 40)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sentiment.predict import Predictor
from sentiment.ui import about_tab, plots
from sentiment.ui import predict_tab as tab

REVIEW = "The film was great and the acting was wonderful, a superb story."


@pytest.fixture(scope="module")
def explanation(tiny_checkpoint):
    return Predictor.load(tiny_checkpoint).explain(REVIEW)


# --- figure builders -------------------------------------------------------------------------

def test_delta_tokens_scale_the_biggest_move_after_the_first_to_one(explanation):
    shown = plots.delta_tokens(explanation)
    assert [t.strip() for t, _ in shown] == explanation.tokens
    scores = np.array([s for _, s in shown])
    scale = np.abs(explanation.deltas[1:]).max()
    assert plots.delta_scale(explanation) == pytest.approx(scale)
    assert np.abs(scores[1:]).max() == pytest.approx(1.0) and np.abs(scores).max() <= 1.0
    assert np.allclose(scores, np.clip(explanation.deltas / scale, -1, 1), atol=1e-3)


def test_activation_tokens_are_one_units_hidden_state(explanation):
    shown = plots.activation_tokens(explanation, layer=1, unit=3)
    assert np.allclose([v for _, v in shown], explanation.hidden_states[1, :, 3], atol=1e-3)


def test_heatmap_has_one_trace_per_layer_units_by_tokens_with_hover(explanation):
    L, T, H = explanation.hidden_states.shape
    fig = plots.hidden_heatmap(explanation)
    assert len(fig.data) == L
    for layer, trace in enumerate(fig.data):
        assert np.asarray(trace.z).shape == (H, T) and np.asarray(trace.z).dtype == np.int8  # a quarter of float32
        assert np.abs(np.asarray(trace.z) / 100 - explanation.hidden_states[layer].T).max() <= 0.005  # percents
        assert "unit %{y}" in trace.hovertemplate and "token %{x}" in trace.hovertemplate
        assert "activation %{z}%" in trace.hovertemplate
    assert list(fig.data[0].x) == [f"{i} {t}" for i, t in enumerate(explanation.tokens)]
    bar = fig.layout.coloraxis
    assert (bar.cmin, bar.cmax) == (-100, 100) and list(bar.colorbar.ticktext) == ["-1", "-0.5", "0", "0.5", "1"]


def test_prob_line_is_the_running_prediction(explanation):
    fig = plots.prob_line({"a": explanation, "b": explanation})
    assert len(fig.data) == 2 and fig.layout.showlegend
    assert np.allclose(fig.data[0].y, explanation.running_probs)
    assert fig.data[0].y[-1] == pytest.approx(explanation.prob_positive)


def test_top_units_are_the_largest_shares_and_add_up_to_the_logit(explanation):
    table = plots.top_units(explanation, None, k=5)
    shares = np.abs(explanation.unit_contributions)  # (L, H); this model reads its top layer only
    assert not shares[0].any() and shares[1].any()
    assert list(table["layer"]) == [2] * 5 and list(table["unit"]) == list(np.argsort(-shares[1])[:5])
    assert list(table.columns) == ["layer", "unit", "share of logit", "pushes toward"]
    logit = explanation.unit_contributions.sum() + explanation.bias
    assert 1 / (1 + np.exp(-logit)) == pytest.approx(explanation.prob_positive, abs=1e-5)


def test_a_model_that_pools_every_layer_shows_both_layers_shares(tiny_checkpoint):
    import torch

    from sentiment.model import ModelConfig, SentimentRNN
    loaded = Predictor.load(tiny_checkpoint)
    torch.manual_seed(0)
    model = SentimentRNN(ModelConfig(len(loaded.vocab), "gru", 8, 12, pooled_layers="all")).eval()
    e = Predictor(model, loaded.vocab, loaded.config, loaded.metrics).explain(REVIEW)
    assert e.unit_contributions.shape == (2, 12) and np.abs(e.unit_contributions).min(axis=1).all()
    logit = e.unit_contributions.sum() + e.bias
    assert 1 / (1 + np.exp(-logit)) == pytest.approx(e.prob_positive, abs=1e-5)
    table = plots.top_units(e, None, k=24)  # every unit of both layers, largest share first
    shares = [e.unit_contributions[layer - 1, unit] for layer, unit in zip(table["layer"], table["unit"])]
    assert sorted(zip(table["layer"], table["unit"])) == [(l, u) for l in (1, 2) for u in range(12)]
    assert list(np.abs(shares)) == sorted(np.abs(shares), reverse=True)
    assert tab.strongest_unit(e, 0) == np.abs(e.unit_contributions[0]).argmax()  # layer 1 is read too


def test_top_units_name_their_words_when_the_checkpoint_has_them(explanation):
    H = explanation.hidden_states.shape[2]
    words = {"layers": [[{"excite": [["good", 0.9], ["fun", 0.8]], "inhibit": [["bad", -0.9]]}] * H] * 2}
    table = plots.top_units(explanation, words, k=2)
    assert list(table["fires on"]) == ["good, fun"] * 2 and list(table["quiet on"]) == ["bad"] * 2


# --- handlers, called directly ----------------------------------------------------------------

def test_predict_returns_every_view(app_env):
    notice, label, tokens, line, heatmap, unit_tokens, unit_text, top = tab.predict(REVIEW)
    assert set(label) == {"positive", "negative"} and sum(label.values()) == pytest.approx(1.0)
    assert "default" in notice and len(tokens) == len(line.data[0].y) == len(unit_tokens)
    assert len(heatmap.data) == 2 and "Layer 2, unit" in unit_text and len(top) == 8


def test_predict_picks_the_unit_asked_for_and_explains_bad_picks(app_env):
    *_, unit_tokens, unit_text, _ = tab.predict(REVIEW, "rnn", 1, 4)
    assert unit_text.startswith("**Layer 1, unit 4**")
    _, text = tab.unit_view(REVIEW, "rnn", 7, 500)
    assert "layers 1-2 and units 0-11" in text
    e = tab.get_predictor("rnn").explain(REVIEW)
    _, text = tab.unit_view(REVIEW, "rnn", 1, -1)  # -1: on layer 1, the unit that swings most
    assert text.startswith(f"**Layer 1, unit {np.ptp(e.hidden_states[0], axis=0).argmax()}**")
    _, text = tab.unit_view(REVIEW, "rnn", 2, -1)  # on the top layer, the largest share of the logit
    assert text.startswith(f"**Layer 2, unit {np.abs(e.unit_contributions[1]).argmax()}**")


def test_a_click_on_a_top_units_row_shows_that_layers_unit(app_env):
    *_, top = tab.predict(REVIEW, "rnn")
    row = top.iloc[2]
    click = type("Select", (), {"row_value": [int(v) if i < 2 else v for i, v in enumerate(row)]})()
    layer, unit, _, unit_text = tab._select_unit(REVIEW, "rnn", 1, 0, click)
    assert (layer, unit) == (row["layer"], row["unit"])
    assert unit_text.startswith(f"**Layer {row['layer']}, unit {row['unit']}**")


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_empty_input_gets_a_friendly_word_not_an_error(app_env, text):
    notice, *views = tab.predict(text)
    assert "Type or paste a movie review" in notice and views == [None] * 7


def test_odd_bytes_and_huge_text_are_read(app_env):
    notice, label, *_ = tab.predict("great\x00 film \ud800\x1b wonderful")
    assert label is not None and "read 3 tokens" in notice
    notice, label, tokens, *_ = tab.predict("great film " * 60_000)  # 1.2 M characters
    assert "the model reads the first 40" in notice and len(tokens) == 40


def test_long_review_is_cut_with_a_notice(app_env):
    notice, _, tokens, *_ = tab.predict(" ".join(["great"] * 100))
    assert "This review has 100 tokens; the model reads the first 40" in notice and len(tokens) == 40


def test_unknown_model_is_named_in_the_answer(app_env):
    notice, label, *_ = tab.predict(REVIEW, "nope")
    assert "No model named 'nope'" in notice and "default" in notice and label is None


def test_compare_two_models_and_a_model_with_itself(app_env):
    notice, label_a, label_b, tokens_a, tokens_b, line = tab.compare(REVIEW, "default", "rnn")
    assert label_a != label_b and len(tokens_a) == len(tokens_b) and len(line.data) == 2
    *_, line = tab.compare(REVIEW, "default", "default")
    assert [trace.name for trace in line.data] == ["1: default", "2: default"]


def test_batch_txt_and_csv(app_env, tmp_path):
    txt = tmp_path / "reviews.txt"
    txt.write_text("A great, wonderful film.\n\nAwful and boring.\n", encoding="utf-8")
    notice, table, out = tab.batch(str(txt), "default")
    assert list(table["review"]) == ["A great, wonderful film.", "Awful and boring."]
    assert "labelled 2 reviews" in notice and table["prob_positive"].between(0, 1).all()
    csv = tmp_path / "reviews.csv"
    csv.write_text('id,Review\n1,"Superb, loved it."\n2,\n', encoding="utf-8")
    notice, table, out = tab.batch(str(csv))
    assert "1 empty rows were left unlabelled" in notice and list(table["label"])[1] == ""
    assert Path(out).read_text(encoding="utf-8").splitlines()[0] == "review,label,prob_positive,tokens,truncated"


def test_batch_says_what_a_csv_lacks(app_env, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    notice, table, out = tab.batch(str(bad))
    assert "needs a column named 'text' or 'review'; it has: a, b" in notice and table is None
    assert "Upload a .txt" in tab.batch(None)[0]


def test_unit_words_missing_on_shipped_checkpoint_are_never_computed_there(app_env):
    text, button = tab.units_status("default")
    assert "has no units.json" in text and button.visible is False
    assert "does not write into" in tab.compute_units("default")
    assert not (Path(app_env["SENTIMENT_CHECKPOINTS"]) / "default" / "units.json").exists()


def test_unit_words_computed_for_a_run_and_shown(app_env, tiny_checkpoint):
    run = Path(app_env["SENTIMENT_RUNS"]) / "mine"
    shutil.copytree(tiny_checkpoint, run, ignore=shutil.ignore_patterns("resume"), dirs_exist_ok=True)
    text, button = tab.units_status("runs/mine")
    assert "Compute unit words" in text and button.visible is True
    assert "Stored the words of 24 units" in tab.compute_units("runs/mine", progress=lambda *a, **k: None)
    assert tab.units_status("runs/mine")[0] == ""
    *_, unit_text, top = tab.predict(REVIEW, "runs/mine")
    assert "fires most on:" in unit_text and "fires on" in top.columns
    assert "runs/mine" in tab.refresh_models("default").choices[-1]  # a new run shows in the dropdown


def test_model_card_reads_metrics_at_run_time(app_env):
    metrics = json.loads((Path(app_env["SENTIMENT_CHECKPOINTS"]) / "rnn" / "metrics.json").read_text())
    card = about_tab.model_card()
    assert f"| Validation accuracy | {metrics['val_accuracy']:.4f} |" in card
    assert "### `default`" in card and "2 × LSTM (12 units" in card and "### `rnn`" in card
    assert "| Test accuracy (25,000 reviews) | not measured yet |" in card


# --- the launched app, through gradio_client --------------------------------------------------

ENDPOINTS = {"/predict", "/unit", "/compare", "/batch", "/models", "/units_status", "/compute_units", "/model_card",
             "/behaviour", "/failing_cases"}


def test_every_action_has_a_named_endpoint(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert ENDPOINTS <= named


def test_predict_through_the_client(client):
    notice, label, tokens, line, heatmap, unit_tokens, unit_text, top = client.predict(REVIEW, api_name="/predict")
    assert label["label"] in ("positive", "negative") and "read" in notice
    assert len(tokens) > 5 and json.loads(heatmap["plot"])["data"][0]["type"] == "heatmap"
    notice, *_ = client.predict("", api_name="/predict")
    assert "Type or paste" in notice


def test_compare_and_batch_through_the_client(client, tmp_path):
    from gradio_client import handle_file
    notice, label_a, label_b, *_ = client.predict(REVIEW, "default", "rnn", api_name="/compare")
    assert label_a["label"] in ("positive", "negative")
    txt = tmp_path / "two.txt"
    txt.write_text("Great fun.\nDull and poor.\n", encoding="utf-8")
    notice, table, out = client.predict(handle_file(str(txt)), "rnn", api_name="/batch")
    assert "labelled 2 reviews" in notice and len(table["data"]) == 2 and Path(out).read_text().startswith("review,")
    assert "Model card" in client.predict(api_name="/model_card")
