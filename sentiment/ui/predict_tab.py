"""The predict tab: label a review and show what the network's hidden state does while reading it.

Handlers are plain functions (tests call them directly); ``build()`` lays out the components and
names every endpoint, so ``gradio_client`` can call them:

    Client(url).predict("Not bad at all.", api_name="/predict")   # notice, label, tokens, plots, units
"""
from __future__ import annotations

import io
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from ..checkpoint import CheckpointError, unknown_word_reading
from ..data import DataError, resolve_data_path
from ..predict import MAX_CHARS, Explanation, Predictor
from ..spelling import load_word_list
from ..text import split_lines
from ..train import prepare_data
from ..units import FILE as UNITS_FILE, load_unit_words, save_unit_words, unit_words
from . import compute, limits, plots, serving, training_job
from .models import checkpoints_dir, default_model, get_predictor, model_choices, runs_dir

BATCH_CHUNK = 256  # an uploaded file is labelled this many reviews at a time: memory stays flat for any length
# reviews per forward pass when labelling a file: on 2 CPU cores, 16 at a time peaked 191-331 MiB above idle
# (two runs), 128 at a time 632-664 MiB, and 16 was no slower (768 test reviews, the shipped default;
# `python benchmarks/batch_memory.py --data aclImdb_v1.tar.gz`)
BATCH_REVIEWS = 16
EMPTY = "Type or paste a movie review, then press **Predict** (or pick an example below)."
PLACEHOLDER = EMPTY.replace("**", "")  # a placeholder shows text as it is, not Markdown
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # control bytes, not newlines or tabs

NEGATION = "This film is not terrible, it's great!"
LATE_TURN = (
    "I went in with low expectations and for the first hour they were met. The opening is slow, the "
    "dialogue is stiff, and the lead spends most of his scenes staring out of windows while a piano "
    "plays the same four notes. The supporting cast is wasted on a subplot about a stolen painting that "
    "goes nowhere, and at least twice I checked how much of the running time was left. I was ready to "
    "write this off as another dull, self-important drama that mistakes silence for depth. Then the "
    "last forty minutes happened. The quiet scenes pay off one by one, the painting turns out to matter "
    "more than anything else in the story, and the final conversation between the brothers is some of "
    "the most honest, moving acting I have seen in years. By the end the whole audience was silent. It "
    "asks for patience, but it earns every minute of it. I left the cinema stunned, and I have thought "
    "about it every day since. A flawed start, but a wonderful, unforgettable film that I would happily "
    "watch again tomorrow and recommend to anyone who loves great storytelling.")
EXAMPLES = [
    "A wonderful, moving film with a brilliant cast. I loved every minute of it.",
    "Boring, predictable and far too long. The acting was awful and the plot made no sense.",
    "Not bad at all.",
    NEGATION,
    LATE_TURN,
]


def clean_input(text: str | None) -> str:
    """Text the tokenizer can always read: cut to the longest the model could use, odd bytes removed."""
    text = (text or "")[:MAX_CHARS + 1]  # one extra character, so the Predictor still sees it was cut
    text = text.encode("utf-8", "ignore").decode("utf-8")  # drops lone surrogates (JSON lets them through)
    return _CONTROL.sub(" ", text)


EXPLAINED = 32  # explanations kept: typing, picking units and the views after Predict ask for a review again
_explained: OrderedDict[tuple[int, str], tuple[Predictor, Explanation]] = OrderedDict()  # least recent first
_explained_lock = threading.Lock()


def _remember(predictor: Predictor, text: str, e: Explanation) -> Explanation:
    with _explained_lock:
        _explained[(id(predictor), text)] = (predictor, e)  # the predictor too: its id stays unique while kept
        _explained.move_to_end((id(predictor), text))
        while len(_explained) > EXPLAINED:
            _explained.popitem(last=False)
    return e


def _explain(predictor: Predictor, text: str) -> Explanation:
    """The explanation of ``text`` by ``predictor``, from the last EXPLAINED ones when it is there."""
    with _explained_lock:
        kept = _explained.get((id(predictor), text))
        if kept is not None and kept[0] is predictor:
            _explained.move_to_end((id(predictor), text))
            return kept[1]
    return _remember(predictor, text, compute.run(predictor.explain, text))


def _load(model_name: str | None) -> tuple[Predictor | None, str]:
    """The Predictor for ``model_name`` (default: the first available), or None and a message why not."""
    name = model_name or default_model()
    if name is None:
        return None, f"No model yet: no checkpoints in {checkpoints_dir()} or {runs_dir()}. Train one in the Train tab."
    try:
        return get_predictor(name), ""
    except KeyError as err:
        return None, str(err.args[0])
    except CheckpointError as err:
        return None, f"⚠️ The model **{name}** cannot be read, so nothing was predicted: {err}"


def explained(text: str | None, model_name: str | None) -> tuple[Predictor | None, Explanation | None, str]:
    """(predictor, its explanation of the cleaned review, ""), or Nones and the sentence that says why not
    ("" when the review is simply empty): the first step of every view of one review."""
    text = clean_input(text)
    predictor, problem = _load(model_name)
    if predictor is None or not text.strip():
        return predictor, None, problem
    try:
        return predictor, _explain(predictor, text), ""
    except ValueError as err:  # e.g. nothing but spaces once cleaned
        return predictor, None, str(err)


def _unit_table(model_name: str | None) -> dict | None:
    """The model's units.json, read again only when the file changes; None when it has none."""
    path = model_choices().get(model_name or default_model() or "")
    if path is None or not (path / UNITS_FILE).exists():
        return None
    return _cached_units(path, (path / UNITS_FILE).stat().st_mtime)


@lru_cache(maxsize=8)
def _cached_units(path: Path, mtime: float) -> dict | None:
    return load_unit_words(path)


def truncation_notice(e: Explanation, max_len: int) -> str:
    if not e.truncated:
        return ""
    if e.n_tokens > max_len:
        return f"✂️ This review has {e.n_tokens} tokens; the model reads the first {max_len}, so the rest was ignored."
    return f"✂️ This review is longer than {MAX_CHARS:,} characters; only the first {MAX_CHARS:,} were read."


def known_notice(e: Explanation, unknown_word: str = "as_trained") -> str:
    """How many of the tokens the model knows, when it does not know them all, and how it reads the others
    (``unknown_word``: the checkpoint's reading, ``sentiment.checkpoint.unknown_embedding``)."""
    if e.n_known == len(e.tokens):
        return ""
    reading = (" (for this model, the mean of the words it knows: no evidence either way)"
               if unknown_word == "mean" else "")
    return (f"It knew {e.n_known} of the {len(e.tokens)} tokens ({e.n_known / len(e.tokens):.0%}); "
            f"the others read as the unknown word `<unk>`{reading}.")


def misspelling_notice(e: Explanation, shown: int = 5) -> str:
    """Which words were read as the word they misspell ("wonderfull" as "wonderful"), if any."""
    if not e.misspelled:
        return ""
    pairs = ", ".join(f"*{written}* as *{e.tokens[i]}*" for i, written in e.misspelled[:shown])
    more = f" and {len(e.misspelled) - shown} more" if len(e.misspelled) > shown else ""
    each = "a misspelling" if len(e.misspelled) == 1 else "each a misspelling"
    return f"Read {pairs}{more} ({each} of a word it knows)."


def strongest_unit(e: Explanation, layer: int) -> int:
    """The unit to show first (layer from 0): on a layer the classifier reads, the one with the largest
    share of the logit; on another, the one whose activation swings most over this review."""
    if np.any(e.unit_contributions[layer]):
        return int(np.argmax(np.abs(e.unit_contributions[layer])))
    return int(np.argmax(np.ptp(e.hidden_states[layer], axis=0)))  # (T, H) -> (H,) range per unit


def _pick_unit(e: Explanation, layer: int | None, unit: int | None) -> tuple[int, int, str]:
    """(layer from 0, unit, note): the asked-for unit if it exists; unit None or -1 means the strongest."""
    L, _, H = e.hidden_states.shape
    layer = L if layer is None else int(layer)
    unit = -1 if unit is None else int(unit)
    note = ""
    if not (1 <= layer <= L and unit < H):
        note = f"This model has layers 1-{L} and units 0-{H - 1}; showing its strongest unit instead."
        layer, unit = L, -1
    return layer - 1, unit if unit >= 0 else strongest_unit(e, layer - 1), note


def describe_unit(words: dict | None, layer: int, unit: int, weight: float = 0.0) -> str:
    """What a unit responds to across IMDB reviews, from the checkpoint's units.json, and which way its
    firing pushes the prediction (``weight``: its summed classifier weight; 0 on a layer the classifier does
    not read)."""
    title = f"**Layer {layer + 1}, unit {unit}**"
    if weight:
        side = plots.firing_pushes(weight)
        other = "negative" if side == "positive" else "positive"
        title += (f": firing pushes the prediction toward *{side}*, staying quiet toward *{other}* "
                  f"(its weight in the classifier, {weight:+.3f})")
    if words is None:
        return f"{title}. This checkpoint has no word lists for its units (no {UNITS_FILE}); see below."
    entry = words["layers"][layer][unit]
    show = lambda pairs: ", ".join(f"{w} ({v:+.2f})" for w, v in pairs) or "no word (it averages the other side of 0 on every word)"
    return (f"{title}. Averaged over {words['n_reviews']} IMDB reviews:  \n"
            f"fires most on: {show(entry['excite'])}  \nquietest on: {show(entry['inhibit'])}")


def unit_view(text: str, model_name: str | None = None, layer: int | None = None, unit: int | None = None,
              all_units: bool = False):
    """The review coloured by one unit's activation, and what that unit responds to in general."""
    _, e, problem = explained(text, model_name)
    if e is None:
        return None, problem or EMPTY
    return _unit_outputs(e, _unit_table(model_name), layer, unit)


def _unit_outputs(e: Explanation, words: dict | None, layer: int | None, unit: int | None):
    """(the review coloured by one unit, what that unit responds to), for an explained review."""
    layer0, unit0, _ = _pick_unit(e, layer, unit)
    return plots.activation_tokens(e, layer0, unit0), _unit_text(e, words, layer, unit)


def _unit_text(e: Explanation, words: dict | None, layer: int | None, unit: int | None) -> str:
    """What the chosen unit responds to (and why another was chosen, if the pick was out of range)."""
    layer0, unit0, note = _pick_unit(e, layer, unit)
    return (note + "\n\n" if note else "") + describe_unit(words, layer0, unit0, float(e.unit_weights[layer0, unit0]))


def unit_after_predict(text: str, model_name: str | None, layer, unit, all_units, notice: str | None):
    """The second answer of Predict: the review coloured by the chosen unit; cleared with the other views
    when they were (a review changed and not yet read)."""
    if notice == STALE:
        return None, gr.skip()
    return unit_view(text, model_name, layer, unit)


def _label(e: Explanation) -> dict:
    return {"positive": e.prob_positive, "negative": 1 - e.prob_positive}


def predict(text: str, model_name: str | None = None, layer: int | None = None, unit: int | None = None,
            all_units: bool = False):
    """The views of one review: notice, label, tokens by how they moved P(positive), the line of
    P(positive), the hidden-state heatmap, what the chosen unit does, top units. The review coloured by
    that unit follows in a second, small answer (``unit_view``, ``/unit``), which keeps this one short."""
    text = clean_input(text)
    predictor, problem = _load(model_name)
    if predictor is None or not text.strip():
        return problem or EMPTY, None, None, None, None, None, None
    try:
        e = _explain(predictor, text)
    except ValueError as err:  # e.g. nothing but spaces once cleaned
        return f"{err} {EMPTY}", None, None, None, None, None, None
    if e.n_known == 0:
        return (f"**{predictor.name}** knows none of these {len(e.tokens)} tokens: every one reads as the unknown "
                "word `<unk>`, so it has nothing to judge and gives no verdict. It learned English words from "
                "IMDB reviews; emoji, other languages and made-up words are not among them."), *(None,) * 6
    notice = " ".join(filter(None, [
        f"**{predictor.name}** read {len(e.tokens)} tokens: P(positive) = {e.prob_positive:.3f}.",
        known_notice(e, unknown_word_reading(predictor.config)),
        misspelling_notice(e),
        truncation_notice(e, predictor.max_len),
        f"Full colour on a token = a move of {plots.delta_scale(e):.3f} in P(positive) or more."]))
    words = _unit_table(model_name)
    return (notice, _label(e), plots.delta_tokens(e), plots.prob_line({predictor.name: e}),
            plots.hidden_heatmap(e, all_units), _unit_text(e, words, layer, unit), plots.top_units(e, words))


def predict_batch(texts: list, model_names: list, layers: list, units: list, all_units: list):
    """``predict`` for several users' requests at once (Gradio's ``batch=True``): the reviews of each model are
    read in one padded forward pass, which on a CPU costs far less than one pass each; every answer is the
    one ``predict`` gives. Returns one list per view, in the order of the requests."""
    by_model: dict[str | None, list[str]] = {}
    for text, name in zip(texts, model_names):
        by_model.setdefault(name, []).append(clean_input(text))
    for name, reviews in by_model.items():
        predictor, _ = _load(name)
        if predictor is None:
            continue
        with _explained_lock:
            fresh = list(dict.fromkeys(r for r in reviews if r.strip() and (id(predictor), r) not in _explained))
        for review, e in zip(fresh, compute.run(predictor.explain_many, fresh) if fresh else []):
            if not isinstance(e, ValueError):
                _remember(predictor, review, e)
    answers = [predict(*request) for request in zip(texts, model_names, layers, units, all_units)]
    return tuple(list(view) for view in zip(*answers))


def heatmap_view(text: str, model_name: str | None = None, all_units: bool = False):
    """The heatmap alone, for the "every unit" switch (the review's explanation comes from the cache)."""
    _, e, _ = explained(text, model_name)
    return plots.hidden_heatmap(e, all_units) if e is not None and e.n_known else None


STALE = "The review changed: press **Predict** to read it (or tick *Update as I type*)."


def on_text_change(text: str, model_name: str | None, layer: int | None, unit: int | None, all_units: bool,
                   live: bool, opened: bool = False):
    """Any change of the review, typed, pasted or loaded: every view again when updates as you type are on,
    or when the text was opened from an example or a failing case; otherwise every view cleared, so that no
    view shows a result for a review that is no longer on screen. The last value resets ``opened``."""
    if live or opened:
        return (*predict(text, model_name, layer, unit, all_units), False)
    return (STALE, *(None,) * 6, False)


def compare(text: str, model_a: str | None = None, model_b: str | None = None):
    """Two models on the same review: a label and token view each, and both lines of P(positive)."""
    text = clean_input(text)
    if not text.strip():
        return EMPTY, None, None, None, None, None
    runs, notes, said = {}, [], {}  # said: a notice of unknown words or misspellings -> the models it holds for
    for side, name in (("1", model_a), ("2", model_b)):
        predictor, problem = _load(name)
        if predictor is None:
            return problem, None, None, None, None, None
        try:
            e = _explain(predictor, text)
        except ValueError as err:
            return str(err), None, None, None, None, None
        if e.n_known == 0:
            return (f"**{predictor.name}** knows none of these tokens (all read as `<unk>`), so neither model "
                    "gives a verdict."), None, None, None, None, None
        runs[f"{side}: {predictor.name}"] = e  # numbered, so a model compared with itself keeps two lines
        notes.append(truncation_notice(e, predictor.max_len))
        # two vocabularies may know or spell a word differently, and two models read an unknown word differently
        for notice in (known_notice(e, unknown_word_reading(predictor.config)), misspelling_notice(e)):
            if notice:
                said.setdefault(notice, []).append(f"**{predictor.name}**")
    notes += [f"{' and '.join(dict.fromkeys(names))}: {notice}" for notice, names in said.items()]
    a, b = runs.values()
    return (" ".join(filter(None, notes)) or "Same review, two models.", _label(a), _label(b),
            plots.delta_tokens(a), plots.delta_tokens(b), plots.prob_line(runs))


def compare_titles(model_a: str | None, model_b: str | None):
    """The compare view's labels and token rows are titled with the models' names."""
    return (gr.Label(label=model_a), gr.Label(label=model_b), gr.HighlightedText(label=model_a),
            gr.HighlightedText(label=model_b))


def read_reviews_file(path: str) -> tuple[pd.DataFrame, str]:
    """(the file's rows, in order, with every column it has; the name of the column holding the reviews).

    A .txt has one review a line, split at newlines only (real reviews contain U+0085 and U+2028, which
    ``str.splitlines`` would also split at); its rows get a ``line`` number. A .csv keeps all its columns
    (an ``id`` survives into the predictions) and names its reviews ``text`` or ``review``, or has one column.
    """
    raw = Path(path).read_bytes().decode("utf-8", "replace")
    if Path(path).suffix.lower() != ".csv":
        lines = split_lines(raw)
        return pd.DataFrame({"line": range(1, len(lines) + 1), "review": lines}), "review"
    try:
        table = pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ValueError("the file is empty.") from None
    named = {c.strip().lower(): c for c in table.columns}
    column = named.get("text") or named.get("review") or (table.columns[0] if len(table.columns) == 1 else None)
    if column is None:
        raise ValueError(f"The CSV needs a column named 'text' or 'review'; it has: {', '.join(table.columns)}.")
    return table, column


SHOWN_REVIEW_CHARS = 120  # the table on the page shows the start of each review; the CSV keeps it whole


def batch(file: str | None, model_name: str | None = None):
    """Label every review in an uploaded file: (notice, table, path of a CSV to download).

    Row N of the predictions is row N of the file (empty rows stay, unlabelled); the label and P(positive)
    come first, then the file's own columns."""
    if not file:
        return "Upload a .txt file (one review per line) or a .csv file with a 'text' or 'review' column.", None, None
    try:
        rows, column = read_reviews_file(file)
    except (ValueError, pd.errors.ParserError) as err:
        return f"Could not read {Path(file).name}: {err}", None, None
    if not len(rows):
        return f"{Path(file).name} holds no reviews: one review a line in a .txt, or rows under a header in a .csv.", None, None
    predictor, problem = _load(model_name)
    if predictor is None:
        return problem, None, None
    most = limits.get("SENTIMENT_MAX_ROWS")
    cut = len(rows) > most
    rows = rows.iloc[:most]
    reviews = [clean_input(r) for r in rows[column]]
    filled = [i for i, r in enumerate(reviews) if r.strip()]
    if not filled:
        return f"Every row of {Path(file).name} is empty: nothing to label.", None, None
    labels, probs = [""] * len(reviews), [np.nan] * len(reviews)
    tokens, truncated = [0] * len(reviews), [False] * len(reviews)
    for start in range(0, len(filled), BATCH_CHUNK):  # in chunks: tokens and activations of a few at a time
        chunk = filled[start:start + BATCH_CHUNK]
        # each chunk on the model thread: requests waiting meanwhile are answered between chunks
        for i, p in zip(chunk, compute.run(predictor.predict, [reviews[i] for i in chunk], batch_size=BATCH_REVIEWS)):
            labels[i], probs[i], tokens[i], truncated[i] = p.label, round(p.prob_positive, 4), p.n_tokens, p.truncated
    ours = {"label": labels, "prob_positive": probs, "tokens": tokens, "truncated": truncated}
    # a file that has a column of that name already (a labelled set, say) keeps it; ours say "predicted"
    ours = {(f"predicted_{k}" if k in rows.columns else k): v for k, v in ours.items()}
    first, last = list(ours)[:2], list(ours)[2:]
    table = pd.concat([pd.DataFrame({k: ours[k] for k in first}), rows.reset_index(drop=True),
                       pd.DataFrame({k: ours[k] for k in last})], axis=1)
    limits.remove_old_files(limits.predictions_dir())  # earlier downloads, after SENTIMENT_TEMP_HOURS
    limits.predictions_dir().mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="predictions-", dir=limits.predictions_dir())) / "predictions.csv"
    table.to_csv(out, index=False)
    notice = f"**{predictor.name}** labelled {len(filled)} reviews: {labels.count('positive')} positive."
    if cut:
        notice += f" Only the first {most:,} rows were read; split the file to label the rest."
    empty = len(reviews) - len(filled)
    if empty:
        notice += f" {empty} empty {'row was' if empty == 1 else 'rows were'} left unlabelled."
    shown = table.assign(**{column: table[column].str.slice(0, SHOWN_REVIEW_CHARS)})
    return notice, shown, str(out)


def _under(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def units_status_text(model_name: str | None) -> str:
    path = model_choices().get(model_name or default_model() or "")
    if path is None or _unit_table(model_name) is not None:
        return ""
    if _under(path, runs_dir()) and not _under(path, checkpoints_dir()):
        return (f"This run has no {UNITS_FILE} yet, so the units are not explained. Press **Compute unit words** "
                "to find the words that excite and inhibit each unit (under half a minute on 2 CPU cores).")
    return f"This checkpoint has no {UNITS_FILE}, so its units are not explained (`python -m sentiment units` makes one)."


def units_status(model_name: str | None = None):
    """(message, compute button): the button shows only for runs that lack units.json."""
    text = units_status_text(model_name)
    return text, gr.Button(visible="Compute" in text)


def compute_units(model_name: str, progress=gr.Progress()) -> str:
    """Compute units.json for a run in the runs folder (never the shipped checkpoints) and store it there."""
    path = model_choices().get(model_name or "")
    if path is None:
        return f"No model named {model_name!r}."
    if not _under(path, runs_dir()) or _under(path, checkpoints_dir()):
        return f"{model_name} is a shipped checkpoint; the app does not write into {checkpoints_dir()}."
    if not training_job.training_policy()[0]:  # writing into runs is what training does: the same switch
        return (f"Training is switched off on this server ({training_job.ENV_TRAINING}=off), and with it "
                "writing unit words into runs.")
    predictor, _ = _load(model_name)
    cfg = predictor.train_config()
    try:
        data = resolve_data_path(download=False)
    except DataError as err:
        return str(err)
    progress(0.1, desc="Reading the reviews")
    prepared = prepare_data(data, cfg, vocab=predictor.vocab)
    progress(0.5, desc="Running the model over a sample of reviews")
    table = unit_words(predictor.model, predictor.vocab, prepared.train)
    save_unit_words(path, table)
    return (f"Stored the words of {sum(len(layer) for layer in table['layers'])} units in {path / UNITS_FILE}. "
            "Press Predict again to see them.")


def refresh_models(current: str | None):
    """The model dropdown with the checkpoints there are now (a run trained a minute ago included)."""
    names = list(model_choices())
    return gr.Dropdown(choices=names, value=current if current in names else (names[0] if names else None))


def _warm_up() -> None:
    """Load the default model and run it once, so the first visitor does not wait for spaCy, kernels or word lists."""
    predictor, _ = _load(None)
    if predictor is not None:
        compute.run(predictor.explain, EXAMPLES[0])  # where every request's reading runs
        load_word_list()  # what misspellings are checked against


@dataclass
class PredictView:
    """The predict tab's components that other tabs drive (the behaviour tab opens a case here)."""
    text: gr.Textbox
    model: gr.Dropdown
    opened: gr.Checkbox  # set it with the text, and the text's change runs every view whatever "Update as I type"
    layer: gr.Radio
    unit: gr.Number
    inputs: list  # text, model, layer, unit, every unit: what ``predict`` reads
    views: list  # what ``predict`` returns, in its order
    advanced: list  # the parts a projector's simple view hides


def build() -> PredictView:
    names = list(model_choices())
    second = "rnn" if "rnn" in names else (names[1] if len(names) > 1 else (names[0] if names else None))
    dropdown = lambda label, value, elem_id=None: gr.Dropdown(names, value=value, label=label, allow_custom_value=True,
                                                              elem_id=elem_id, scale=2, min_width=300)  # whole run names
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label="Review", lines=5, max_length=MAX_CHARS, placeholder=PLACEHOLDER, elem_id="review")
            with gr.Row():
                model = dropdown("Model", names[0] if names else None, "model")
                live = gr.Checkbox(True, label="Update as I type")
                opened = gr.Checkbox(False, visible=False)  # set with a text loaded from an example or a case
                submit = gr.Button("Predict", variant="primary")
                link_button = gr.Button("Copy lesson link", size="sm", elem_id="lesson-button")
        with gr.Column(scale=2):
            label = gr.Label(label="Prediction", num_top_classes=2, elem_id="label")
            notice = gr.Markdown(EMPTY, elem_id="notice")
    examples = gr.Examples([[e, True] for e in EXAMPLES], [text, opened],  # opened: every view, whatever "live"
                           example_labels=[e if len(e) <= 60 else e[:57] + "..." for e in EXAMPLES],
                           label="Examples: clear positive, clear negative, negation, a late turn")
    tokens = gr.HighlightedText(label="How each token moved P(positive): red up, purple down", show_legend=True,
                                elem_id="tokens")
    line = gr.Plot(label="P(positive) if the review ended here")
    with gr.Accordion("Inside the network: hidden-state activations", open=True) as inside:
        heatmap = gr.Plot(label="Activations: tokens across, units down (on a layer the classifier reads, those "
                                "pushing positive on top, negative at the bottom); hover for token, unit, value",
                          elem_id="heatmap")
        all_units = gr.Checkbox(False, label=f"Show every unit (the {plots.HEATMAP_UNITS} that matter most by default)")
        gr.Markdown("Pick a unit to colour the review by its activation (red high, purple low), or click a row "
                    "of the table. Unit -1 picks the strongest: on a layer the classifier reads (layer 2, or both "
                    "if the model pools every layer) the unit that weighs most in this prediction, otherwise "
                    "the one that swings most over the review.")
        with gr.Row():
            layer = gr.Radio([("1 (reads the words)", 1), ("2 (feeds the classifier)", 2)], value=2, label="Layer")
            unit = gr.Number(-1, label="Unit (-1: the strongest)", precision=0, minimum=-1)
        unit_tokens = gr.HighlightedText(label="The review coloured by this unit", show_legend=True,
                                         elem_id="unit-tokens")
        unit_text = gr.Markdown(elem_id="unit-text")
        top = gr.Dataframe(headers=plots.TOP_UNIT_COLUMNS, label="Units that weigh most in this prediction",
                           interactive=False, elem_id="top-units")
        with gr.Row():
            status = gr.Markdown(units_status_text(names[0] if names else None))
            compute_words = gr.Button("Compute unit words", visible=False, size="sm")
    with gr.Accordion("Compare two models on this review", open=False) as comparing:
        model_b = dropdown("Second model", second)
        compare_button = gr.Button("Compare")
        compare_notice = gr.Markdown()
        first_name = names[0] if names else None
        with gr.Row():
            label_a, label_b = gr.Label(label=first_name), gr.Label(label=second)
        with gr.Row():
            tokens_a = gr.HighlightedText(show_legend=True, label=first_name)
            tokens_b = gr.HighlightedText(show_legend=True, label=second)
        compare_line = gr.Plot(label="P(positive) for both models")
    from . import edit_view, lesson, path_view, step_view  # they use this module's handlers
    step_view.build(text, model, layer, unit, tokens)
    advanced = [inside, comparing, path_view.build(text, model), edit_view.build(text, model, opened)]
    with gr.Accordion("Label a file of reviews", open=False) as labelling:
        advanced.append(labelling)
        upload = gr.File(label=".txt (one review per line) or .csv (a 'text' or 'review' column)",
                         file_types=[".txt", ".csv"], elem_id="batch-file")
        batch_button = gr.Button("Label them")
        batch_notice = gr.Markdown(elem_id="batch-notice")
        batch_table = gr.Dataframe(headers=["label", "prob_positive", "line", "review", "tokens", "truncated"],
                                   label="Predictions", interactive=False, wrap=True,
                                   elem_id="batch-table")  # empty, it shows the columns a .txt file gets
        batch_file = gr.File(label="Download predictions.csv")

    views = [notice, label, tokens, line, heatmap, unit_text, top]
    inputs = [text, model, layer, unit, all_units]
    # these build their views on the request's thread; only the reading (_explain) goes to the model thread,
    # so one request's views are drawn while the next review is read (docs/experiments.md measures it)
    light = lambda fn: serving.tracked(fn, on_model_thread=False)
    follow = dict(fn=light(unit_after_predict), inputs=[*inputs, notice], outputs=[unit_tokens, unit_text],
                  api_visibility="private", show_progress="hidden")  # the one-unit view: a second, small answer
    gr.on([submit.click, text.submit], light(predict_batch), inputs, views, api_name="predict", batch=True,
          max_batch_size=limits.get("SENTIMENT_PREDICT_BATCH")).then(**follow)  # users who press Predict at once share one pass
    text.change(light(on_text_change), [*inputs, live, opened], [*views, opened], api_visibility="undocumented",
                api_name="predict_live", trigger_mode="always_last", show_progress="hidden").then(**follow)
    model.change(light(predict), inputs, views, api_visibility="private").then(**follow)  # never another model's answer
    all_units.change(heatmap_view, [text, model, all_units], heatmap, api_visibility="private")
    gr.on([layer.input, unit.input], light(unit_view), inputs, [unit_tokens, unit_text], api_name="unit",
          show_progress="hidden")
    top.select(_select_unit, inputs, [layer, unit, unit_tokens, unit_text], api_visibility="private")
    model.focus(refresh_models, model, model, api_name="models", show_progress="hidden")
    model_b.focus(refresh_models, model_b, model_b, api_visibility="undocumented", show_progress="hidden")
    model.change(units_status, model, [status, compute_words], api_name="units_status")
    compute_words.click(compute_units, model, status, api_name="compute_units")
    gr.on([model.change, model_b.change], compare_titles, [model, model_b], [label_a, label_b, tokens_a, tokens_b],
          api_visibility="private", show_progress="hidden")
    compare_button.click(light(compare), [text, model, model_b],
                         [compare_notice, label_a, label_b, tokens_a, tokens_b, compare_line], api_name="compare")
    batch_button.click(serving.tracked(batch, on_model_thread=False), [upload, model], [batch_notice, batch_table, batch_file], api_name="batch")
    threading.Thread(target=_warm_up, daemon=True).start()
    link = gr.Markdown(elem_id="lesson-link")
    link_button.click(lesson.copy_link, [text, model, layer, unit], link, api_visibility="private")
    return PredictView(text, model, opened, layer, unit, inputs, views, advanced)


def _select_unit(text: str, model_name: str | None, layer, unit, all_units, evt: gr.SelectData):
    """A click on a row of the top-units table shows that unit."""
    chosen_layer, chosen_unit = int(evt.row_value[0]), int(evt.row_value[1])
    return (chosen_layer, chosen_unit, *unit_view(text, model_name, chosen_layer, chosen_unit))
