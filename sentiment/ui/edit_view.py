"""Edit a word, watch the verdict: the original review and an edit of it side by side, suggested
one-word edits, and two answers to "which word mattered?". A part of the Predict tab.

    Client(url).predict("Not bad at all.", "Not good at all.", api_name="/edit")
    Client(url).predict("Not bad at all.", api_name="/suggest_edits")
"""
from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd

from ..edits import aligned_positions, changed, compare_texts, suggest_edits
from . import plots, serving
from .predict_tab import _label, _load, clean_input

SUGGESTION_COLUMNS = ["edit", "P(positive) after", "change", "label", "edited review"]
IMPORTANCE_COLUMNS = ["token", "moved P when read", "P without it − P"]
CHANGED_COLOUR = {"changed": "#f59e0b"}
NOTHING = "Write an edit of the review (or press **Suggest edits**), then **Compare**."


def edit(original: str, edited: str, model_name: str | None = None):
    """Both reviews side by side: (notice, two labels, two token rows with the changed tokens marked,
    both lines of P(positive) aligned at the unchanged tokens, the alignment as a table)."""
    original, edited = clean_input(original), clean_input(edited)
    predictor, problem = _load(model_name)
    if predictor is None or not original.strip() or not edited.strip():
        return (problem or NOTHING), None, None, None, None, None, None
    try:
        found = compare_texts(predictor, original, edited)
    except ValueError as err:
        return str(err), None, None, None, None, None, None
    a, b = found.original, found.edited
    flips = " The label flips." if a.label != b.label else ""
    notice = (f"**{predictor.name}**: P(positive) {a.prob_positive:.3f} → {b.prob_positive:.3f} "
              f"(change {found.delta:+.3f}).{flips} Changed tokens are marked; the lines are aligned at the "
              "tokens both reviews share.")
    alignment = pd.DataFrame([{"change": tag, "original": " ".join(a.tokens[i1:i2]), "edit": " ".join(b.tokens[j1:j2])}
                              for tag, i1, i2, j1, j2 in found.opcodes if tag != "equal"],
                             columns=["change", "original", "edit"])
    return (notice, _label(a), _label(b), plots.edit_tokens(a, changed(found.opcodes, "a")),
            plots.edit_tokens(b, changed(found.opcodes, "b")),
            plots.edit_lines(a, b, aligned_positions(found.opcodes, len(b.tokens))), alignment)


def suggest(text: str, model_name: str | None = None):
    """(notice, the ten edits that move P(positive) most, each token's two importances)."""
    text = clean_input(text)
    predictor, problem = _load(model_name)
    if predictor is None or not text.strip():
        return problem or "Type a review first: suggestions are edits of it.", None, None
    try:
        found = suggest_edits(predictor, text)
    except ValueError as err:
        return str(err), None, None
    rows = [{"edit": s.description, "P(positive) after": f"{s.prob:.4f}", "change": f"{s.delta:+.4f}",
             "label": ("flips to " if s.flips else "stays ") + ("positive" if s.prob >= 0.5 else "negative"),
             "edited review": s.text} for s in found.suggestions]
    flips = sum(s.flips for s in found.suggestions)
    tried = ("every token" if found.n_positions == len(found.tokens)
             else f"the {found.n_positions} tokens that moved P(positive) most")
    notice = (f"**{predictor.name}** tried {found.n_candidates} one-word edits at {tried} "
              f"(P(positive) now {found.original_prob:.3f}). {flips} of these {len(rows)} flip the label. "
              "Click an edit to load it into the editor.")
    if rows and max(abs(s.delta) for s in found.suggestions) < 5e-4:
        notice += (f" The model is so sure of this review (P = {found.original_prob:.4f}) that no one-word edit moves "
                   "it visibly: try a longer change in the editor.")
    importance = pd.DataFrame({"token": found.tokens, "moved P when read": np.round(found.running_deltas, 4),
                               "P without it − P": np.round(found.leave_one_out - found.original_prob, 4)},
                              columns=IMPORTANCE_COLUMNS)
    return notice, pd.DataFrame(rows, columns=SUGGESTION_COLUMNS), importance


def apply_suggestion(evt: gr.SelectData) -> str:
    """A click on a suggestion puts its edited review into the editor."""
    return evt.row_value[SUGGESTION_COLUMNS.index("edited review")]


def build(text: gr.Textbox, model: gr.Dropdown, opened: gr.Checkbox):
    with gr.Accordion("Edit a word, watch the verdict", open=False, elem_id="edit-view") as accordion:
        gr.Markdown("Change a word and see what moves. Start from the review above, edit it here, and compare: "
                    "both labels, both token rows (changed tokens marked) and both lines of P(positive), aligned "
                    "where the reviews agree. Or let the model suggest the one-word edits that move it most.")
        edited = gr.Textbox(label="Edited review", lines=3, elem_id="edited")
        with gr.Row():
            start = gr.Button("Start from the review above", size="sm")
            run = gr.Button("Compare", variant="primary", elem_id="edit-compare")
            promote = gr.Button("Make the edit the new original", size="sm")
        notice = gr.Markdown(NOTHING, elem_id="edit-notice")
        with gr.Row():
            label_a = gr.Label(label="original", elem_id="edit-label-original")
            label_b = gr.Label(label="edit", elem_id="edit-label-edit")
        with gr.Row():
            tokens_a = gr.HighlightedText(label="original", color_map=CHANGED_COLOUR, show_legend=False)
            tokens_b = gr.HighlightedText(label="edit", color_map=CHANGED_COLOUR, show_legend=False)
        lines = gr.Plot(label="P(positive) as each review is read, on the original's token axis",
                        elem_id="edit-lines")
        alignment = gr.Dataframe(headers=["change", "original", "edit"], label="What changed", interactive=False)
        suggest_button = gr.Button("Suggest edits", elem_id="suggest")
        suggest_notice = gr.Markdown()
        suggestions = gr.Dataframe(headers=SUGGESTION_COLUMNS, label="Edits that move P(positive) most: "
                                   "click one to load it", interactive=False, wrap=True, elem_id="suggestions")
        gr.Markdown("**Which word mattered? Two answers.** *Moved P when read*: how much P(positive) changed when "
                    "the model read the word, given what came before. *P without it − P*: how P(positive) of the "
                    "whole review changes if the word is left out (leave-one-out). The About tab says why they differ.")
        importance = gr.Dataframe(headers=IMPORTANCE_COLUMNS, label="Each token's two importances",
                                  interactive=False)

    outputs = [notice, label_a, label_b, tokens_a, tokens_b, lines, alignment]
    start.click(lambda t: t, text, edited, api_visibility="private")
    run.click(serving.tracked(edit), [text, edited, model], outputs, api_name="edit")
    suggest_button.click(serving.tracked(suggest), [text, model], [suggest_notice, suggestions, importance], api_name="suggest_edits")
    suggestions.select(apply_suggestion, None, edited, api_visibility="private").then(
        edit, [text, edited, model], outputs, api_visibility="private")
    promote.click(lambda e: (e, True), edited, [text, opened], api_visibility="private")  # the views follow
    return accordion
