"""The predict and about tabs: figure builders and handlers called directly, then the launched app
through gradio_client. All on the tiny checkpoints from conftest (LSTM "default", tanh "rnn", max_len 40)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
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
    assert np.allclose(scores, np.clip(explanation.deltas / scale, -1, 1), atol=0.005)  # sent in 1% steps


def test_activation_tokens_are_one_units_hidden_state(explanation):
    shown = plots.activation_tokens(explanation, layer=1, unit=3)
    assert np.allclose([v for _, v in shown], explanation.hidden_states[1, :, 3], atol=0.005)  # sent in steps of 0.01


def test_heatmap_has_one_trace_per_layer_units_by_tokens_with_hover(explanation):
    L, T, H = explanation.hidden_states.shape
    fig = plots.hidden_heatmap(explanation, all_units=True)
    assert len(fig.data) == L
    for layer, trace in enumerate(fig.data):
        units = [int(u) for u in trace.y]  # the rows, top first
        assert sorted(units) == list(range(H))  # every unit once
        assert np.asarray(trace.z).shape == (H, T) and np.asarray(trace.z).dtype == np.int8  # a quarter of float32
        assert np.abs(np.asarray(trace.z) / 100 - explanation.hidden_states[layer][:, units].T).max() <= 0.005
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
    assert list(table.columns) == ["layer", "unit", "share of logit", "pushes toward", "firing pushes toward"]
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


def test_firing_pushes_toward_the_side_of_the_units_summed_classifier_weight(tiny_checkpoint, explanation):
    model = Predictor.load(tiny_checkpoint).model
    H = explanation.hidden_states.shape[2]
    summed = sum(w.detach().numpy() for w in model.classifier_parts().values())  # (H,) this model reads its top layer
    assert np.allclose(explanation.unit_weights[1], summed) and not explanation.unit_weights[0].any()
    table = plots.top_units(explanation, None, k=H)
    expected = ["positive" if summed[u] > 0 else "negative" for u in table["unit"]]
    assert list(table["firing pushes toward"]) == expected
    # the two columns differ exactly where a unit's share has the other sign from its weight (it pushed by staying quiet)
    shares = explanation.unit_contributions[1][table["unit"]]
    quiet = np.sign(shares) != np.sign(summed[table["unit"]])
    assert list(quiet) == list(table["pushes toward"] != table["firing pushes toward"])


def test_one_units_text_says_which_way_its_firing_pushes(explanation):
    unit = int(np.argmax(np.abs(explanation.unit_weights[1])))
    weight = float(explanation.unit_weights[1, unit])
    side = "positive" if weight > 0 else "negative"
    text = tab.describe_unit(None, 1, unit, weight)
    assert f"firing pushes the prediction toward *{side}*" in text and f"{weight:+.3f}" in text
    assert "firing" not in tab.describe_unit(None, 0, unit, 0.0)  # a layer the classifier does not read


def test_top_units_name_their_words_when_the_checkpoint_has_them(explanation):
    H = explanation.hidden_states.shape[2]
    words = {"layers": [[{"excite": [["good", 0.9], ["fun", 0.8]], "inhibit": [["bad", -0.9]]}] * H] * 2}
    table = plots.top_units(explanation, words, k=2)
    assert list(table["fires on"]) == ["good, fun"] * 2 and list(table["quiet on"]) == ["bad"] * 2


# --- handlers, called directly ----------------------------------------------------------------

def test_predict_returns_every_view(app_env):
    notice, label, tokens, line, heatmap, unit_text, top = tab.predict(REVIEW)
    unit_tokens, unit_text_again = tab.unit_after_predict(REVIEW, None, None, None, False, notice)  # its second answer
    assert set(label) == {"positive", "negative"} and sum(label.values()) == pytest.approx(1.0)
    assert "default" in notice and len(tokens) == len(line.data[0].y) == len(unit_tokens)
    assert unit_text_again == unit_text
    assert len(heatmap.data) == 2 and "Layer 2, unit" in unit_text and len(top) == 8


def test_predict_picks_the_unit_asked_for_and_explains_bad_picks(app_env):
    *_, unit_text, _ = tab.predict(REVIEW, "rnn", 1, 4)
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
    layer, unit, _, unit_text = tab._select_unit(REVIEW, "rnn", 1, 0, False, click)
    assert (layer, unit) == (row["layer"], row["unit"])
    assert unit_text.startswith(f"**Layer {row['layer']}, unit {row['unit']}**")


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_empty_input_gets_a_friendly_word_not_an_error(app_env, text):
    notice, *views = tab.predict(text)
    assert "Type or paste a movie review" in notice and views == [None] * 6


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
    titles = tab.compare_titles("default", "runs/lstm-20261130-101010")  # whole names, not "First model"
    assert [t.label for t in titles] == ["default", "runs/lstm-20261130-101010"] * 2
    *_, line = tab.compare(REVIEW, "default", "default")
    assert [trace.name for trace in line.data] == ["1: default", "2: default"]
    notice, *_ = tab.compare("A great film, qwzxv.", "default", "rnn")  # a word neither model knows
    assert notice.count("It knew") == 1 and "**default** and **rnn**: It knew" in notice  # said once, for both


def test_batch_txt_and_csv(app_env, tmp_path):
    txt = tmp_path / "reviews.txt"
    txt.write_text("A great, wonderful film.\n\nAwful and boring.\n", encoding="utf-8")
    notice, table, out = tab.batch(str(txt), "default")
    assert list(table["review"]) == ["A great, wonderful film.", "", "Awful and boring."]  # one row a line
    assert list(table["line"]) == [1, 2, 3] and list(table.columns[:2]) == ["label", "prob_positive"]
    assert "labelled 2 reviews" in notice and "1 empty row was left unlabelled" in notice
    assert table["prob_positive"].dropna().between(0, 1).all() and table["label"][1] == ""
    csv = tmp_path / "reviews.csv"
    csv.write_text('id,Review,stars\nr1,"Superb, loved it.",5\nr2,,3\nr3,"Dull.",1\n', encoding="utf-8")
    notice, table, out = tab.batch(str(csv))
    assert "1 empty row was left unlabelled" in notice and list(table["label"])[1] == ""
    saved = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(saved.columns) == ["label", "prob_positive", "id", "Review", "stars", "tokens", "truncated"]
    assert list(saved["id"]) == ["r1", "r2", "r3"] and list(saved["stars"]) == ["5", "3", "1"]


def test_batch_keeps_one_row_per_line_when_reviews_hold_unicode_line_separators(app_env, tmp_path):
    """Real IMDB reviews contain U+0085; str.splitlines() would cut them into several rows."""
    reviews = ["Great fun.\x85 A wonderful cast.", "Awful\u2028and boring.", "Superb\x1c film\u2029 indeed.",
               "Dull."]
    txt = tmp_path / "reviews.txt"
    txt.write_text("\n".join(reviews) + "\n", encoding="utf-8")
    notice, table, out = tab.batch(str(txt), "rnn")
    assert len(table) == 4 and list(pd.read_csv(out)["line"]) == [1, 2, 3, 4]
    alone = [tab.get_predictor("rnn").predict([tab.clean_input(r)])[0].prob_positive for r in reviews]
    assert np.allclose(table["prob_positive"], np.round(alone, 4))  # each row is its own line's review


def test_an_empty_or_header_only_file_is_a_message(app_env, tmp_path):
    for name, content in (("empty.txt", ""), ("header.csv", "id,text\n"), ("nothing.csv", ""),
                          ("blank.txt", "\n  \n")):
        (tmp_path / name).write_text(content, encoding="utf-8")
        notice, table, out = tab.batch(str(tmp_path / name))
        assert table is None and out is None and name in notice and notice.strip()
        assert any(word in notice for word in ("no reviews", "empty"))


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
             "/behaviour", "/failing_cases", "/edit", "/suggest_edits", "/step", "/path"}


def test_every_action_has_a_named_endpoint(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert ENDPOINTS <= named


def test_predict_through_the_client(client):
    notice, label, tokens, line, heatmap, unit_text, top = client.predict(REVIEW, api_name="/predict")
    assert label["label"] in ("positive", "negative") and "read" in notice
    assert len(tokens) > 5 and json.loads(heatmap["plot"])["data"][0]["type"] == "heatmap"
    unit_tokens, unit_words = client.predict(REVIEW, api_name="/unit")  # the review coloured by one unit
    assert len(unit_tokens) == len(tokens) and unit_words.startswith("**Layer 2, unit")
    notice, *_ = client.predict("", api_name="/predict")
    assert "Type or paste" in notice


def test_compare_and_batch_through_the_client(client, tmp_path):
    from gradio_client import handle_file
    notice, label_a, label_b, *_ = client.predict(REVIEW, "default", "rnn", api_name="/compare")
    assert label_a["label"] in ("positive", "negative")
    txt = tmp_path / "two.txt"
    txt.write_text("Great fun.\nDull and poor.\n", encoding="utf-8")
    notice, table, out = client.predict(handle_file(str(txt)), "rnn", api_name="/batch")
    assert "labelled 2 reviews" in notice and len(table["data"]) == 2 and Path(out).read_text().startswith("label,prob_positive,line,review,")
    assert "Model card" in client.predict(api_name="/model_card")


def test_text_of_no_known_words_gets_no_verdict_and_a_partial_one_says_how_much_was_known(app_env):
    for text in ("🎬🍿😀", "这部电影很好看", "فيلم رائع", "zorblax quimfle"):
        notice, label, *views = tab.predict(text, "default")
        assert "knows none of these" in notice and label is None and all(v is None for v in views)
        assert "neither model" in tab.compare(text, "default", "rnn")[0]
    notice, label, *_ = tab.predict("A great film, zorblax quimfle.", "default")
    e = tab.get_predictor("default").explain("A great film, zorblax quimfle.")
    assert label is not None and f"It knew {e.n_known} of the {len(e.tokens)} tokens" in notice
    vocab = tab.get_predictor("default").vocab
    assert e.n_known == sum(t in vocab.stoi for t in e.tokens) < len(e.tokens) and "zorblax" not in vocab.stoi
    assert "no evidence either way" not in notice  # this model reads <unk> as trained
    assert "the mean of the words it knows: no evidence either way" in tab.known_notice(e, "mean")


def test_a_misspelled_word_is_read_as_meant_and_the_notice_says_so(app_env):
    notice, label, *_ = tab.predict("The acting was wonderfull.", "default")
    e = tab.get_predictor("default").explain("The acting was wonderful.")
    assert "Read *wonderfull* as *wonderful*" in notice and f"P(positive) = {e.prob_positive:.3f}" in notice
    assert "Read *" not in tab.predict("The acting was wonderful.", "default")[0]
    notice = tab.compare("The acting was wonderfull.", "default", "default")[0]  # said once, for both models
    assert notice.count("Read *wonderfull* as *wonderful*") == 1 and "**default**: Read" in notice
    assert "Read *" not in tab.compare("The acting was wonderful.", "default", "rnn")[0]


def test_a_corrupt_model_in_the_menu_is_a_sentence_not_an_error(app_env):
    import shutil
    runs = Path(app_env["SENTIMENT_RUNS"])
    shutil.copytree(Path(app_env["SENTIMENT_CHECKPOINTS"]) / "rnn", runs / "broken")
    weights = runs / "broken" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    try:
        notice, label, *_ = tab.predict(REVIEW, "runs/broken")
        assert "cannot be read" in notice and "model.safetensors" in notice and label is None
        assert "cannot be read" in tab.compare(REVIEW, "default", "runs/broken")[0]
        assert "cannot be read" in tab.batch(str(weights.parent / "config.json"), "runs/broken")[0]
    finally:
        shutil.rmtree(runs / "broken")


def test_small_things_a_user_sees(app_env):
    assert "**" not in tab.PLACEHOLDER and "Predict" in tab.PLACEHOLDER
    fig = tab.predict("Not bad at all.", "default")[3]
    axis = fig.layout.xaxis
    assert list(axis.tickvals) == [0, 1, 2, 3, 4] and list(axis.ticktext) == ["0 not", "1 bad", "2 at", "3 all", "4 ."]
    assert fig.layout.yaxis.range[0] < 0 and fig.layout.yaxis.range[1] > 1  # a line at P = 1 is not on the border
    long = tab.predict(" ".join(["great fun"] * 40), "default")[3]
    assert long.layout.xaxis.tickformat == "d" and long.layout.xaxis.dtick >= 1  # whole tokens only


def test_the_about_tabs_sentences_on_the_examples_are_what_the_models_answer(app_env):
    from sentiment.predict import available_checkpoints
    from sentiment.ui.models import checkpoints_dir
    table = about_tab.example_answers()
    assert "turns positive only" not in about_tab.READING  # no claim about a model's answer is written by hand
    for title, text in zip(about_tab.EXAMPLE_NAMES, tab.EXAMPLES):
        row = next(line for line in table.splitlines() if line.startswith(f"| {title} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        expected = [about_tab.answer(Predictor.load(path).explain(text))
                    for path in available_checkpoints(checkpoints_dir()).values()]
        assert cells == expected
    e = Predictor.load(Path(app_env["SENTIMENT_CHECKPOINTS"]) / "rnn").explain(tab.LATE_TURN)
    sides = e.running_probs >= 0.5
    if about_tab.answer(e).count("crosses"):  # the token named is where the line last changed sides
        token = int(about_tab.answer(e).split("at token ")[1].split()[0])
        assert sides[token] != sides[token - 1] and (sides[token:] == sides[-1]).all()


def test_empty_views_have_real_headers_and_the_model_menu_room_for_run_names(app_env):
    from app import demo
    components = {getattr(b, "label", None): b for b in demo.blocks.values()}
    top = components["Units that weigh most in this prediction"]
    assert top.value["headers"] == plots.TOP_UNIT_COLUMNS  # not "1 2 3 4" before the first review
    model = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "model")
    assert model.min_width >= 300 and model.scale >= 2


def test_a_csv_with_its_own_label_column_keeps_it_beside_the_prediction(app_env, tmp_path):
    csv = tmp_path / "labelled.csv"
    csv.write_text("id,text,label\n7,Superb and moving.,pos\n8,Dull.,neg\n", encoding="utf-8")
    notice, table, out = tab.batch(str(csv), "rnn")
    saved = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(saved.columns) == ["predicted_label", "prob_positive", "id", "text", "label", "tokens", "truncated"]
    assert list(saved["label"]) == ["pos", "neg"] and set(saved["predicted_label"]) <= {"positive", "negative"}


def test_heatmap_rows_run_from_most_positive_to_most_negative_share_and_keep_the_48_largest(explanation):
    from sentiment.ui.plots import heatmap_units
    shares = explanation.unit_contributions[1]  # the read layer
    order = heatmap_units(explanation, 1, top=None)
    assert list(shares[order]) == sorted(shares, reverse=True)  # positive on top, negative at the bottom
    top = heatmap_units(explanation, 1, top=5)
    assert set(top) == set(np.argsort(-np.abs(shares))[:5]) and list(shares[top]) == sorted(shares[top], reverse=True)
    swing = np.ptp(explanation.hidden_states[0], axis=0)  # layer 1 is not read: the units that swing most
    assert list(heatmap_units(explanation, 0, top=3)) == list(np.argsort(-swing)[:3])
    assert len(plots.hidden_heatmap(explanation).data[1].y) == min(plots.HEATMAP_UNITS, len(shares))


@pytest.mark.parametrize("name", ["default", "large"])
def test_the_answer_for_a_long_review_is_small_with_the_shipped_models(name):
    """The heatmap sends the 48 units a layer that matter most: the answer shrinks with the units left out
    (about sixfold at 512 units)."""
    from sentiment.predict import CHECKPOINTS, Predictor
    from sentiment.ui.plots import hidden_heatmap
    e = Predictor.load(CHECKPOINTS / name).explain(" ".join(["a dull plot but wonderful acting and a moving end"] * 30))
    assert len(e.tokens) == 300
    shown, every = len(hidden_heatmap(e).to_json()), len(hidden_heatmap(e, all_units=True).to_json())
    assert shown < 100_000 and every / shown > 0.6 * e.hidden_states.shape[-1] / 48


def test_requests_answered_together_get_the_answers_each_would_get_alone(app_env):
    texts = [REVIEW, "", "Not bad at all.", REVIEW + " The end was dull.", "zorblax quimfle"]
    models = ["default", "default", "rnn", "default", "default"]
    tab._explained.clear()
    together = tab.predict_batch(texts, models, [2] * 5, [-1] * 5, [False] * 5)  # one padded pass per model
    assert len(together) == 7 and all(len(view) == 5 for view in together)
    for i, (text, model) in enumerate(zip(texts, models)):
        tab._explained.clear()  # read alone, not from what the batch left in the cache
        alone = tab.predict(text, model, 2, -1, False)
        assert together[0][i] == alone[0]  # the notice: the same words, the same P to three decimals
        if alone[1] is not None:
            assert together[1][i]["positive"] == pytest.approx(alone[1]["positive"], abs=1e-5)
            assert [t for t, _ in together[2][i]] == [t for t, _ in alone[2]]
