"""The about tab, for the classroom: the recurrence, how to read each view, and the model card.

The model card is read from the shipped checkpoints' metrics.json each time the page loads (and on
"Refresh"), so the numbers are always the ones the checkpoints were measured with.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import gradio as gr
import numpy as np

from ..card import model_card as checkpoint_card
from ..checkpoint import CheckpointError
from ..predict import available_checkpoints
from . import compute
from .models import checkpoints_dir, get_predictor
from .plots import ladder_figure
from .predict_tab import EXAMPLES

LADDER = Path(__file__).resolve().parents[2] / "docs" / "ladder.json"  # written by scripts/ladder.py
LADDER_TEXT = """
## From the homework to the 512-unit LSTM: what each idea bought

This project grew out of a classic homework: two tanh RNN layers of **5 units**, reading only the last
state, which reached 74.2% on IMDB. The chart climbs from that network to the shipped `large` model one change
at a time: clean tokens, pool over every step, more units, the LSTM's gates, averaged weights and adversarial
training, more units again, and `large`'s full recipe (`default` then learns from `large`: see the README). The bars are test accuracy; the line is what each
quick run cost to train on one machine. Pick *The homework* in the Train tab's preset menu to train it
yourself. The whole table, and why each step helps: `docs/ladder.md` (`python scripts/ladder.py` makes it).
"""

RECURRENCE = r"""
## What the network computes

Each token $t$ of the review becomes a learned vector $x_t$ (its *embedding*). A recurrent layer
keeps a hidden state $h_t$, a vector of *units* (their number is in the model card), and updates it once per token:

$$h_t = \tanh(W_x x_t + W_h h_{t-1} + b)$$

$W_x$ says how the new word enters, $W_h$ how the past is carried forward; $\tanh$ keeps every unit
between $-1$ and $+1$. The same weights are used at every position, so the layer reads a review of
any length. This is the plain **RNN** (the `rnn` checkpoint). Its weakness: the past reaches the
present only through repeated multiplication by $W_h$, so what happened 200 tokens ago fades.

* A **GRU** adds two gates, numbers between 0 and 1 computed from $x_t$ and $h_{t-1}$: an *update gate*
  $z_t$ decides how much of the old state to keep, $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$,
  and a *reset gate* decides how much of the past the candidate $\tilde h_t$ may see.
* An **LSTM** (the `default` checkpoint) keeps a second memory, the cell $c_t$, changed only by
  addition: $c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$, with a *forget gate* $f_t$ and an *input
  gate* $i_t$; it shows $h_t = o_t \odot \tanh(c_t)$ through an *output gate* $o_t$. Addition lets
  a verdict from early in the review survive to the end.

Two such layers are stacked: the second reads the first one's $h_t$ instead of the words. The
classifier looks at the top layer over the whole review: for each unit, its largest value and
its mean value (and, for `default`, its value at the last token), weighted and summed into one number,
the *logit*; $P(\text{positive}) = \sigma(\text{logit})$.
"""

READING = """
## How to read the views

* **Prediction**: P(positive) and P(negative) for the whole review.
* **How each token moved P(positive)**: the model reads left to right, so "P(positive) if the review
  ended here" is exact at every token. Each word is coloured by how much it changed that number: red
  pushed it up, purple down. Try *not bad at all*: watch *bad* pull the number down and see whether *not* and *at all* can win it
  back. The table below says what each shipped model answers for every example. Negation in a short
  sentence is hard for them (the Behaviour tab measures how hard), which makes a good class discussion.
* **The line of P(positive)**: the same numbers as a curve. Long reviews often change their mind;
  the long example is written to turn positive in its last sentences. The table below says where each
  model's line crosses 0.5 for the last time.
* **The heatmap**: units (rows) of each layer at every token (columns): the 48 that matter most, or every
  unit with the switch. On the layer the classifier reads, the units pushing *positive* are on top and
  those pushing *negative* at the bottom. Red is near +1, blue near -1. Hover for the token, the unit and its value, in percent of that range (73% is 0.73). Rows that
  light up on a few words are units that detect something; rows that change slowly carry memory.
* **One unit**: pick a layer and unit (or click the table) to colour the review by that unit alone,
  as in Karpathy's pictures of neurons in character models. Under it, the words that excite and
  inhibit that unit most on average across a sample of IMDB reviews, so you can guess what it stands for.
* **Units that weigh most**: each top-layer unit's share of the final logit; the shares and the bias
  add up to the logit exactly. Positive shares push toward *positive*. A unit can push by firing or by
  staying quiet: *firing pushes toward* gives the side its firing favours in any review, so a unit that
  fires on *awful* can push toward *positive* in a review where it stays quiet.
* **Compare**: the same review through two models, e.g. the LSTM and the plain RNN on a long review.
* **Step through the recurrence**: the formula above, at one token, with the real numbers. For the
  tanh RNN, see how much of the new state comes from the word ($W_x x_t$) and how much from the past
  ($W_h h_{t-1}$). For the LSTM, watch the forget gate $f$: near 1 the cell keeps its memory, near 0
  it wipes it. Press Play and follow one unit through a review.
* **The path of the review**: every point is the review read up to one token. Left and right is the
  running logit itself: right of the dashed line, the model would say *positive* if the review ended
  there. Up and down is the main other way in which reviews differ inside the model. Researchers who
  looked inside sentiment networks (Maheswaranathan et al., 2019) found that a review drifts along a
  line and that its words push it one way or the other. Draw a second review beside the first and
  compare where the two paths cross the line.
* **Edit a word, watch the verdict**: change one word and see both readings side by side, aligned where
  the two reviews agree, or let the model suggest the one-word edits that move it most.
* **Preparing a lesson**: set up the review, the model and the unit, then press *Copy lesson link*
  in the Predict tab. The link opens the same view for every student. Its *simple view* keeps only the
  review, the label, the coloured tokens, the line and the step-through, for a projector.
* **Two answers to "which word mattered?"** They measure different things, and each can mislead.
  *Moved P when read* is what a word did at the moment it was read: the step in the running
  P(positive), given only the words before it. It cannot see what comes after, so the *bad* in
  *not bad at all* is blamed in full even if *at all* later takes it back, and an early word that the
  end of the review overrules still looks important. *Leave-one-out* asks how the final answer
  changes if the word is not there. It sees the whole review, but it misleads where words back each
  other up (take out one of two *great*s and the other still carries the verdict, so neither looks
  important) and where the shorter review says something else (without *not*, the sentence means the
  opposite). When P(positive) is already 1.000, both are near zero for every word: the model is too
  sure for either measure to show anything.
"""


EXAMPLE_NAMES = ["clear positive", "clear negative", "negation: *Not bad at all.*",
                 "negation: *This film is not terrible, it's great!*", "a late turn (the long example)"]


def example_answers() -> str:
    """What each shipped model answers for the Predict tab's examples, computed now from the checkpoints:
    the label and P(positive), and, for a review whose line crosses 0.5, the token where it last does."""
    models = {}
    for name in available_checkpoints(checkpoints_dir()):
        try:
            models[name] = get_predictor(name)  # loaded once, shared with the Predict tab
        except (KeyError, CheckpointError):
            continue
    return compute.run(_example_table, tuple(models.items())) if models else ""  # on the model thread


@lru_cache(maxsize=4)
def _example_table(models: tuple) -> str:
    """The table for these (name, Predictor) pairs; a Predictor is reloaded, so a new one when saved again."""
    models = dict(models)
    lines = ["#### What the shipped models answer for the examples", "",
             "| example | " + " | ".join(f"`{name}`" for name in models) + " |", "|---|" + "---|" * len(models)]
    for title, text in zip(EXAMPLE_NAMES, EXAMPLES):
        lines.append(f"| {title} | " + " | ".join(answer(p.explain(text)) for p in models.values()) + " |")
    return "\n".join(lines)


def answer(e) -> str:
    """"positive, P = 0.97" and, if the running prediction changed sides, where it last did."""
    text = f"{e.label}, P = {e.prob_positive:.2f}"
    sides = e.running_probs >= 0.5  # (T,)
    changes = np.flatnonzero(sides[1:] != sides[:-1])
    if len(changes):
        text += f"; last crosses 0.5 at token {changes[-1] + 1} of {len(sides)}"
    return text


def model_card() -> str:
    """The model card of every shipped checkpoint, written from its own files now."""
    sections = []
    for name, path in available_checkpoints(checkpoints_dir()).items():
        try:
            sections += [f"### `{name}`", "", checkpoint_card(path), ""]
        except CheckpointError as err:
            sections += [f"### `{name}`", "", f"This checkpoint cannot be read: {err}", ""]
    if not sections:
        return f"## Model card\n\nNo shipped checkpoints in `{checkpoints_dir()}` yet."
    return "\n".join([
        "## Model card", "",
        "Trained on the IMDB Large Movie Review Dataset (Maas et al., 2011) only, with part of its training split "
        "held out for validation; the test split is used only for the final figure. Every figure is read from "
        "the checkpoint's own `config.json` and `metrics.json` (`python -m sentiment card` prints the same).", "",
        *sections,
        "**Limits.** English movie reviews only; the model reads only the first tokens of a long review (see "
        "*Tokens*); sarcasm, mixed verdicts and a verdict after *but* fool every model, short negations (*not bad "
        "at all*) fool `large` and `rnn` more often than `default` (the Behaviour tab has the figures); they learn "
        "the biases of IMDB reviewers; validation "
        "accuracy runs higher than test accuracy (a random split shares movies with training, and the students' "
        "teacher `large` read the validation movies too).",
    ])


LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]  # inline too


def build():
    gr.Markdown(RECURRENCE, latex_delimiters=LATEX, elem_id="about-recurrence")
    gr.Markdown(READING, latex_delimiters=LATEX)
    gr.Markdown(example_answers, elem_id="about-examples")  # computed when the page loads
    if LADDER.exists():
        gr.Markdown(LADDER_TEXT, elem_id="about-ladder")
        gr.Plot(ladder_figure(json.loads(LADDER.read_text())), show_label=False, elem_id="about-ladder-chart")
    card = gr.Markdown(model_card, latex_delimiters=LATEX)
    gr.Button("Refresh the model card", size="sm").click(model_card, None, card, api_name="model_card")
