"""Step through the recurrence: the update of each layer at one token, unit by unit, with its formula.
A part of the Predict tab; the numbers come from ``sentiment.recurrence`` (the checkpoint's own weights).

    Client(url).predict("Not bad at all.", "default", 1, api_name="/step")   # the update at token 1
"""
from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd
import torch

from ..recurrence import step_through
from . import serving
from .about_tab import LATEX
from .predict_tab import explained
from .plots import heatmap_units, step_chart

UNITS_SHOWN = 4  # per layer: the units that matter most (or the one picked below the heatmap)
FORMULAS = {
    "rnn": r"$h_t = \tanh(W_x x_t + W_h h_{t-1} + b)$",
    "gru": r"$r = \sigma(\cdot),\ z = \sigma(\cdot),\ n = \tanh(W_{in} x_t + b_{in} + r \odot (W_{hn} h_{t-1} + b_{hn})),"
           r"\ h_t = (1 - z) \odot n + z \odot h_{t-1}$",
    "lstm": r"$i, f, o = \sigma(\cdot),\ g = \tanh(\cdot),\ c_t = f \odot c_{t-1} + i \odot g,\ h_t = o \odot \tanh(c_t)$",
}


def step(text: str, model_name: str | None = None, t: int = 0, layer: int | None = None, unit: int | None = None):
    """(what is shown, the table: one row per layer and unit, one column per quantity of the update, and the
    same numbers as a bar chart)."""
    predictor, e, problem = explained(text, model_name)
    if e is None:
        return problem or "Type a review, then pick a token to see the recurrence at that token.", None, None
    t = int(min(max(int(t or 0), 0), len(e.tokens) - 1))
    model = predictor.model
    steps = step_through(model, torch.tensor(predictor.vocab.encode(e.tokens)), t)
    rows = []
    for number in range(len(steps), 0, -1):  # the top layer first, as in the heatmap
        units = list(heatmap_units(e, number - 1, UNITS_SHOWN))
        if layer is not None and int(layer) == number and unit is not None and 0 <= int(unit) < len(steps[0]["h_t"]):
            units = [int(unit)] + [u for u in units if u != int(unit)][:UNITS_SHOWN - 1]
        for u in units:
            rows.append({"layer": number, "unit": int(u),
                         **{name: round(float(values[u]), 3) for name, values in steps[number - 1].items()}})
    cell = model.config.cell
    shown = (f"**Token {t}: “{e.tokens[t]}”** ({t + 1} of {len(e.tokens)}). {FORMULAS[cell]}, for each unit; "
             f"the rows are the units that matter most on each layer"
             + (f", and unit {int(unit)} of layer {int(layer)} you picked" if unit is not None and int(unit) >= 0 else "")
             + ". The last column is the layer's output at this token, the same number the heatmap shows.")
    table = pd.DataFrame(rows)
    return shown, table, step_chart(table)


def build(text: gr.Textbox, model: gr.Dropdown, layer: gr.Radio, unit: gr.Number, tokens: gr.HighlightedText):
    with gr.Accordion("Step through the recurrence", open=False, elem_id="step-view") as accordion:
        gr.Markdown("Pick a token (drag the slider, or click a token in *How each token moved P(positive)*) to see "
                    "how each layer updates its state there, number by number. **Play** walks through the review.")
        with gr.Row():
            position = gr.Slider(0, 799, value=0, step=1, label="Token", elem_id="step-token", scale=4)
            play = gr.Button("▶ Play", size="sm", scale=1)
        shown = gr.Markdown(latex_delimiters=LATEX, elem_id="step-notice")
        with gr.Row():
            table = gr.Dataframe(label="The update at this token: one row per layer and unit", interactive=False,
                                 elem_id="step-table", scale=3)
            chart = gr.Plot(label="The same numbers, unit by unit (L2 u11: layer 2, unit 11)", elem_id="step-chart",
                            scale=2)
        timer = gr.Timer(0.8, active=False)

    inputs = [text, model, position, layer, unit]
    gr.on([position.change, layer.input, unit.input], serving.tracked(step), inputs, [shown, table, chart], api_name="step",
          show_progress="hidden")
    tokens.select(token_clicked, None, position, api_visibility="private")
    opened = gr.State(False)  # the numbers are worked out only while they can be seen
    accordion.expand(lambda: True, None, opened, api_visibility="private").then(
        step, inputs, [shown, table, chart], api_visibility="private", show_progress="hidden")
    accordion.collapse(lambda: False, None, opened, api_visibility="private")
    tokens.change(fit_slider, [text, model, position], position, api_visibility="private", show_progress="hidden").then(
        step_if_open, [opened, *inputs], [shown, table, chart], api_visibility="private", show_progress="hidden")
    playing = gr.State(False)
    play.click(lambda on: (not on, gr.Timer(active=not on), gr.Button("⏸ Pause" if not on else "▶ Play")),
               playing, [playing, timer, play], api_visibility="private")
    timer.tick(advance, [text, model, position], position, api_visibility="private", show_progress="hidden")


def fit_slider(text: str, model_name: str | None, t: int) -> gr.Slider:
    """The slider spans the review's own tokens (the last one at its right end), once the review is read."""
    _, e, _ = explained(text, model_name)
    n = 1 if e is None else len(e.tokens)
    return gr.Slider(maximum=max(n - 1, 1), value=min(int(t or 0), n - 1))


def step_if_open(opened: bool, *args):
    """A new review read: the open view follows it (the slider may not move, so its change may not fire)."""
    return step(*args) if opened else (gr.skip(),) * 3


def token_clicked(evt: gr.SelectData) -> int:
    """A click on a token of the review: its position."""
    return int(evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index)


def advance(text: str, model_name: str | None, t: int):
    """The next token, back to the first after the last."""
    _, e, _ = explained(text, model_name)
    return 0 if e is None else int((int(t or 0) + 1) % len(e.tokens))
