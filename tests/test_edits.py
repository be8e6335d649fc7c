"""Edit a word, watch the verdict: alignment, edits scored from the original's states exactly as a
separate prediction, the batched search ranking as one-by-one scoring would, and the editor's handlers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sentiment import edits
from sentiment.edits import align, aligned_positions, changed, suggest_edits
from sentiment.model import ModelConfig, SentimentRNN
from sentiment.predict import Predictor

REVIEW = "The film was great and the acting was not bad, a superb story that I loved."


def test_alignment_of_insertions_deletions_and_replacements():
    a = ["not", "bad", "at", "all"]
    assert align(a, ["not", "good", "at", "all"]) == [("equal", 0, 1, 0, 1), ("replace", 1, 2, 1, 2),
                                                      ("equal", 2, 4, 2, 4)]
    inserted = ["it", "is", "not", "bad"]
    ops = align(["it", "is", "bad"], inserted)
    assert ops == [("equal", 0, 2, 0, 2), ("insert", 2, 2, 2, 3), ("equal", 2, 3, 3, 4)]
    assert changed(ops, "b") == {2} and changed(ops, "a") == set()
    assert list(aligned_positions(ops, 4)) == [0, 1, 1.5, 2]  # "bad" lines up with "bad", "not" between
    ops = align(a, ["bad", "at", "all"])
    assert ops == [("delete", 0, 1, 0, 0), ("equal", 1, 4, 0, 3)] and changed(ops, "a") == {0}
    assert list(aligned_positions(ops, 3)) == [1, 2, 3]  # unchanged tokens keep their original position


@pytest.fixture(scope="module", params=[("lstm", "maxmean", "top"), ("gru", "max", "all"), ("rnn", "mean", "top"),
                                        ("lstm", "last", "all"), ("lstm", "maxmeanlast", "all")], ids=lambda p: "-".join(p))
def predictor(request, tiny_checkpoint):
    """A predictor per cell and pooling, with random weights on the tiny checkpoint's vocabulary."""
    cell, pooling, pooled = request.param
    loaded = Predictor.load(tiny_checkpoint)
    torch.manual_seed(0)
    model = SentimentRNN(ModelConfig(len(loaded.vocab), cell, 8, 12, pooling=pooling, pooled_layers=pooled)).eval()
    return Predictor(model, loaded.vocab, loaded.config, loaded.metrics)


def test_every_suggestion_is_what_a_separate_prediction_says(predictor):
    found = suggest_edits(predictor, REVIEW, k=10)
    assert len(found.suggestions) == 10 and found.n_positions == len(found.tokens)  # a short review: every token
    separate = predictor.predict([s.text for s in found.suggestions])
    for s, p in zip(found.suggestions, separate):
        assert s.prob == pytest.approx(p.prob_positive, abs=1e-5), s.description
        assert s.flips == ((p.prob_positive >= 0.5) != (found.original_prob >= 0.5))
    moves = [abs(s.delta) for s in found.suggestions]
    assert moves == sorted(moves, reverse=True)
    words = REVIEW.split()
    for i in (0, 3, 8):  # leave-one-out: the review without that token, predicted on its own
        without = predictor.predict([" ".join(words[:i] + words[i + 1:])])[0].prob_positive
        token = found.tokens.index(words[i].lower())
        assert found.leave_one_out[token] == pytest.approx(without, abs=1e-5)


def test_the_batched_search_ranks_as_scoring_one_by_one(predictor, monkeypatch):
    batched = suggest_edits(predictor, REVIEW, k=10)

    def one_by_one(model, base, candidates):
        return torch.stack([model(c[None, :], torch.tensor([len(c)]))[0] for c in candidates])
    monkeypatch.setattr(edits, "continuation_logits", one_by_one)
    single = suggest_edits(predictor, REVIEW, k=10)
    assert [s.text for s in batched.suggestions] == [s.text for s in single.suggestions]
    np.testing.assert_allclose([s.prob for s in batched.suggestions], [s.prob for s in single.suggestions], atol=1e-5)


def test_suggestions_cover_the_kinds_of_edit(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    found = suggest_edits(predictor, "The plot was great and the acting was not awful.", k=100)
    kinds = {s.kind for s in found.suggestions}
    assert {"delete", "remove a negator", "add a negator", "antonym"} <= kinds
    texts = {s.text for s in found.suggestions}
    assert "The plot was terrible and the acting was not awful." in texts  # antonym, the rest untouched
    assert "The plot was great and the acting was awful." in texts  # the negator removed, one space left
    assert "The plot was not great and the acting was not awful." in texts
    assert "The plot was great and the acting was not awful" in texts  # punctuation goes alone


def test_a_long_review_is_searched_within_its_budget(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    predictor.max_len = 200
    long = " ".join(["the film was great and the acting was awful"] * 20)  # 180 tokens
    found = suggest_edits(predictor, long)
    assert found.n_positions < len(found.tokens) and np.isnan(found.leave_one_out).any()
    tried = ~np.isnan(found.leave_one_out)
    moved = np.abs(predictor.explain(long).deltas)
    assert tried[np.argmax(moved)]  # the token that moved P most is always tried
    T = len(found.tokens)  # every edit costs the tokens after it; deletions alone cost at least this much
    assert sum(T - i for i in np.flatnonzero(tried)) <= max(edits.STEP_BUDGET, 2 * T)


def test_an_empty_or_one_word_review_is_a_clear_message(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    for text in ("", "Great.", "   "):
        with pytest.raises(ValueError, match="at least two words"):
            suggest_edits(predictor, text)


# --- the editor in the app ------------------------------------------------------------------------

def test_edit_handler_shows_both_readings_aligned(app_env):
    from sentiment.ui import edit_view
    notice, label_a, label_b, tokens_a, tokens_b, lines, table = edit_view.edit("Not bad at all.", "Not good at all.")
    assert "→" in notice and set(label_a) == set(label_b) == {"positive", "negative"}
    assert [t for t, mark in tokens_a if mark] == ["bad "] and [t for t, mark in tokens_b if mark] == ["good "]
    assert [trace.name for trace in lines.data] == ["original", "edit"] and list(lines.data[1].x) == [0, 1, 2, 3, 4]
    assert table.to_dict("records") == [{"change": "replace", "original": "bad", "edit": "good"}]
    assert "Write an edit" in edit_view.edit("Not bad at all.", "")[0]


def test_suggest_handler_lists_edits_and_both_importances(app_env):
    from sentiment.ui import edit_view
    notice, table, importance = edit_view.suggest(REVIEW, "rnn")
    assert "one-word edits at every token" in notice and len(table) == 10
    assert list(table.columns) == edit_view.SUGGESTION_COLUMNS
    assert list(importance.columns) == edit_view.IMPORTANCE_COLUMNS and len(importance) > 10
    assert "at least two words" in edit_view.suggest("Great.")[0]


def test_edit_endpoints_through_the_client(client):
    notice, *_, alignment = client.predict("Not bad at all.", "Not good at all.", api_name="/edit")
    assert "→" in notice and alignment["data"] == [["replace", "bad", "good"]]
    notice, table, importance = client.predict(REVIEW, api_name="/suggest_edits")
    assert len(table["data"]) == 10 and table["headers"][0] == "edit"


def test_the_search_reports_the_running_change_the_explanation_shows(tiny_checkpoint):
    predictor = Predictor.load(tiny_checkpoint)
    found = suggest_edits(predictor, REVIEW)
    np.testing.assert_allclose(found.running_deltas, predictor.explain(REVIEW).deltas, atol=1e-6)


def test_the_cell_state_scan_is_the_recurrence():
    torch.manual_seed(0)
    for T in (1, 2, 3, 5, 64, 250, 801):
        a, b = torch.rand(T, 4), torch.randn(T, 4)
        c, loop = torch.zeros(4), []
        for t in range(T):
            c = a[t] * c + b[t]
            loop.append(c)
        torch.testing.assert_close(edits.linear_scan(a, b), torch.stack(loop), rtol=0, atol=1e-5)


@pytest.mark.parametrize("text", [
    REVIEW,
    "It wasn't good.\nNot at all,\tbut I didn't hate it (really) -- great cast!",
    "Bad\u00a0acting;  a  dull,dull plot... can't recommend it. 10/10? No: 2/10.",
    "\"Loved it\" , said nobody .I was bored:the end",
])
def test_an_edited_text_is_tokenized_again_only_around_the_edit(tiny_checkpoint, text):
    predictor = Predictor.load(tiny_checkpoint)
    cleaned = edits.clean_text(text)
    words = edits.spacy_tokens(cleaned)
    tokens = [w.lower_ for w in words]
    ids = predictor.vocab.encode(tokens)
    tried = 0
    for i in range(len(words)):
        for edit in edits.edits_at(i, cleaned, words, ids, predictor.vocab, True, "splendid"):
            whole = next(edits.tokenize_many([edit.text(cleaned)]))  # the edited text, read from scratch
            assert edits.tokens_after(cleaned, [w.idx for w in words], tokens, edit.span, True) == whole, edit
            tried += 1
    assert tried > len(words)  # a deletion at every token, and more
