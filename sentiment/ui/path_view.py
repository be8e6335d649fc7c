"""The path of the review: its running features in two dimensions, x exactly the running logit, y the
main direction of variation orthogonal to it (``sentiment.path``). A part of the Predict tab.

    Client(url).predict("Not bad at all.", "default", "", api_name="/path")
"""
from __future__ import annotations

import gradio as gr
import torch

from ..path import FILE, load_path_axis, review_path
from . import plots, serving
from .models import default_model, model_choices
from .predict_tab import _explain, _load, clean_input


def path(text: str, model_name: str | None = None, second: str | None = None):
    """(what is drawn, the figure): the review's path, and a second review's beside it if given."""
    predictor, problem = _load(model_name)
    reviews = [r for r in (clean_input(text), clean_input(second)) if r.strip()]
    if predictor is None or not clean_input(text).strip():
        return problem or "Type a review to draw its path.", None
    folder = model_choices().get(model_name or default_model() or "")
    axis = load_path_axis(folder) if folder else None
    paths = {}
    for k, review in enumerate(reviews):
        try:
            tokens = _explain(predictor, review).tokens
        except ValueError as err:
            return str(err), None
        x, y = review_path(predictor.model, torch.tensor(predictor.vocab.encode(tokens)), axis)
        paths["this review" if k == 0 else "second review"] = (tokens, x, y)
    y_title = "the main other direction (orthogonal to the logit's)" if axis is not None else "token"
    note = ("" if axis is not None else f" This checkpoint has no {FILE} (`python -m sentiment path --checkpoint DIR "
            "--data D` makes one), so the path is drawn against the position in the review.")
    end = paths["this review"][1][-1]
    return (f"**{predictor.name}**: the review ends at logit {end:+.2f}, "
            f"{'right' if end > 0 else 'left'} of the decision line.{note}"), plots.review_paths(paths, y_title)


def build(text: gr.Textbox, model: gr.Dropdown):
    with gr.Accordion("The path of the review", open=False, elem_id="path-view") as accordion:
        gr.Markdown("Each point is the review read up to one token. Left and right is exactly the running logit: right "
                    "of the dashed line the model would say *positive* if the review ended there. Up and down is the "
                    "main other way reviews differ inside the model. Watch the review drift, and see which words "
                    "push it across. Add a second review to compare paths.")
        second = gr.Textbox(label="A second review to draw beside it (optional)", lines=2)
        draw = gr.Button("Draw the path", elem_id="path-draw")
        shown = gr.Markdown(elem_id="path-notice")
        figure = gr.Plot(label="The path of the review", elem_id="path-plot")
    draw.click(serving.tracked(path), [text, model, second], [shown, figure], api_name="path")
    return accordion
