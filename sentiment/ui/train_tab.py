"""The train tab: a form, Start and Stop, and the run streamed live (progress, epoch table, curves).

The run itself is ``sentiment.train.train`` in a background thread (``training_job``), so a closed
page does not end it and Stop works from any request. Endpoints for ``gradio_client``: ``/train``
(streams the same updates as the page), ``/watch_training`` and ``/stop_training``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, replace

import gradio as gr
import pandas as pd

from ..model import CELLS, POOLINGS, ModelConfig
from ..presets import PRESETS, preset
from ..pretrain import PretrainProgress
from ..train import TrainConfig, estimate_peak_mb
from . import limits, training_job
from .training_job import MIN_TRAIN, TEST_SAMPLE, RunRequest, Snapshot

ALL_REVIEWS = 25_000  # the official training split; validation is held out of it
RANGES = {  # the sliders' ends; the handler checks the same bounds, with messages that name the field
    "Layers": (1, 4), "Hidden size": (2, 512), "Embedding size": (8, 512), "Epochs": (1, 50),
    "Batch size": (1, 512), "Maximum review length": (8, 2600), "Training reviews": (MIN_TRAIN, ALL_REVIEWS)}
PRESET_LABELS = {"classroom": "Classroom demo: a small LSTM, under a minute",
                 "homework": "The homework: 5-unit tanh RNN, last state (74.2% in its write-up)",
                 "rnn": "The shipped rnn recipe (tanh, 256 units)",
                 "default": "The shipped default recipe (LSTM 256, taught by large)",
                 "large": "The shipped large recipe (LSTM, 512 units; a GPU job)"}
PLAIN_TRAIN = TrainConfig(max_len=1)  # what a setting is when no preset changes it (max_len is on the form)


def form_values(name: str) -> dict:
    """The Train tab's fields as the preset ``name`` fills them (in run_request's order)."""
    options, cfg = preset(name)
    return {"cell": options["cell"], "layers": options["num_layers"], "hidden_size": options["hidden_size"],
            "embed_dim": options["embed_dim"], "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size,
            "max_len": min(cfg.max_len, RANGES["Maximum review length"][1]),
            "n_train": cfg.max_train or ALL_REVIEWS, "test_on": "sample", "pooling": options["pooling"],
            "preset": name}


# the form's defaults: a class demo (benchmarks/run.py --only classroom times this very run)
CLASSROOM = form_values("classroom")
EPOCH_ORDER = [str(epoch) for epoch in range(1, 51)]  # the curves' x axis in order; RANGES["Epochs"] ends at 50
TABLE_COLUMNS = ["epoch", "train loss", "train acc", "val loss", "val acc", "seconds", "tokens/s", "note"]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(label: str, value) -> int:
    low, high = RANGES[label]
    if not _is_number(value) or value != int(value) or not low <= value <= high:
        raise ValueError(f"{label} must be a whole number from {low:,} to {high:,}; got {value!r}.")
    return int(value)


def preset_extras(name: str) -> str:
    """What the preset ``name`` sets that the form does not show, in words (empty when nothing)."""
    options, cfg = preset(name)
    model_plain = ModelConfig(vocab_size=1).to_dict()
    shown = {"cell", "num_layers", "hidden_size", "embed_dim", "pooling", "epochs", "lr", "batch_size", "max_len",
             "max_train", "val_fraction", "temperature_from"}  # the last two: the app's run validates (run_request)
    words = {"lowercase": {False: "cased tokens"}, "keep_html": {True: "`<br />` tags read as tokens"},
             "clip_norm": {0.0: "no gradient clipping"}, "schedule": {"constant": "a constant learning rate"},
             "warmup": {0.0: "no warm-up"}, "pretrain_epochs": {1: "one epoch of next-word prediction first"},
             "windows": {1: "one short window of each review", 3: "three short windows of each review"}}
    changed = [words.get(k, {}).get(v, f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k.replace('_', ' ')} {v}")
               for k, v in {**options, **asdict(cfg)}.items()
               if k not in shown and v != (model_plain | asdict(PLAIN_TRAIN)).get(k)]
    return ", ".join(changed)


def preset_note(name: str) -> str:
    if name not in PRESETS:
        return ""
    extras = preset_extras(name)
    cfg = preset(name)[1]
    held = " The app always holds out 10% of the training reviews for validation" \
        + (", and fits the run's own temperature on them." if cfg.temperature_from else ".") if cfg.val_fraction == 0 else ""
    return f"{PRESETS[name]['about']}" + (f"\n\nAlso from this preset (not on the form): {extras}." if extras else "") + held


def fill_form(name: str):
    """A preset picked: every field it sets, and the note on what else it sets. The fields stay editable."""
    if name not in PRESETS:
        return [gr.skip()] * 11 + [""]
    values = form_values(name)
    values.pop("preset")
    most = training_job.training_policy()[1] or ALL_REVIEWS
    values["n_train"] = min(values["n_train"], most)
    return [*values.values(), preset_note(name)]


def run_request(cell, layers, hidden_size, embed_dim, epochs, lr, batch_size, max_len, n_train,
                test_on, pooling="maxmean", preset_name="classroom") -> RunRequest:
    """The form's values as a RunRequest; a ValueError says which value is wrong and what would do.

    The preset gives every setting the form does not show (dropout, vocabulary, schedule...)."""
    if preset_name not in PRESETS:
        raise ValueError(f"Preset must be one of {', '.join(PRESETS)}; got {preset_name!r}.")
    if cell not in CELLS:
        raise ValueError(f"Cell must be one of {', '.join(CELLS)}; got {cell!r}.")
    if pooling not in POOLINGS:
        raise ValueError(f"Pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}.")
    if not (_is_number(lr) and 0 < lr <= 1):
        raise ValueError(f"Learning rate must be a number above 0 and at most 1 (2e-3 is a good start); got {lr!r}.")
    if test_on not in ("sample", "full"):
        raise ValueError(f"Test on must be 'sample' or 'full'; got {test_on!r}.")
    n_train = _whole("Training reviews", n_train)
    base_options, base_cfg = preset(preset_name)
    options = {**base_options, "cell": cell, "num_layers": _whole("Layers", layers),
               "hidden_size": _whole("Hidden size", hidden_size), "embed_dim": _whole("Embedding size", embed_dim),
               "pooling": pooling}
    ModelConfig(vocab_size=1, **options)  # the model's own checks, before any data is read
    cfg = replace(base_cfg, epochs=_whole("Epochs", epochs), lr=float(lr), batch_size=_whole("Batch size", batch_size),
                  max_len=_whole("Maximum review length", max_len),
                  max_train=None if n_train >= ALL_REVIEWS else n_train,
                  val_fraction=base_cfg.val_fraction or TrainConfig().val_fraction,  # the app always validates,
                  temperature_from=None)  # and so fits the run's own temperature
    need, budget = estimate_peak_mb(options, cfg), limits.get("SENTIMENT_TRAIN_MEMORY_MB")
    if need > budget:
        raise ValueError(f"This run would need about {need:,.0f} MB of memory, more than this server allows one run "
                         f"({budget:,} MB, SENTIMENT_TRAIN_MEMORY_MB). Lower the batch size, the maximum review "
                         "length, the hidden size or the layers.")
    return RunRequest(options, cfg, full_test=test_on == "full")


def refused(message: str):
    """A start that cannot go ahead: the sentence in the status and as a notice; every other view stays."""
    gr.Warning(message)
    return f"⚠️ {message}", gr.skip(), gr.skip(), gr.skip(), gr.skip()


def start_training(cell, layers, hidden_size, embed_dim, epochs, lr, batch_size, max_len, n_train, test_on,
                   pooling="maxmean", preset_name="classroom"):
    """Start a run and stream it: (status, epoch table, loss curves, accuracy curves, result).
    A refused start (a bad value, a run already going) says why in the status and leaves the rest as it was."""
    try:
        job = training_job.start(run_request(cell, layers, hidden_size, embed_dim, epochs, lr, batch_size,
                                             max_len, n_train, test_on, pooling, preset_name))
    except (ValueError, training_job.Busy) as err:
        yield refused(str(err))
        return
    yield from _stream(job)


def watch_training():
    """Stream the current (or last) run, e.g. after reopening the page."""
    job = training_job.current()
    if job is None:
        yield refused("No training run since the app started: fill in the form and press Start.")
        return
    yield from _stream(job)


def stop_training():
    """Stop the run that is going; with none going, a notice, and the last run's status stays on screen."""
    job = training_job.current()
    if job is None or job.snapshot().finished:
        gr.Info("No training run is going.")
        return gr.skip()
    job.stop()
    return f"Stopping **{job.snapshot().name}** after the current batch; the best epoch so far is kept."


def _stream(job):
    for snapshot in job.follow():
        yield render(snapshot)
    if snapshot.error:  # the status says "Failed: ..." already; the notice makes sure it is seen
        gr.Warning(f"Training failed: {snapshot.error}")


def render(s: Snapshot) -> tuple[str, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None, str]:
    return status_text(s), epoch_table(s), curves(s, "loss"), curves(s, "acc"), result_text(s)


def status_text(s: Snapshot) -> str:
    head = f"**{s.name}**, training on **{s.device}**" + (f": {s.data}" if s.data else "")
    if s.error:
        return f"{head}\n\nFailed: {s.error}"
    if s.finished:
        return f"{head}\n\n{'Stopped' if s.done and s.done.stopped else 'Finished'}."
    line = s.stage
    if s.progress and s.done is None:
        p = s.progress
        filled = round(20 * p.step / p.steps)
        epoch = (f"Next-word epoch {p.epoch} of {p.epochs}" if isinstance(p, PretrainProgress)
                 else f"Epoch {p.epoch} of {s.epochs}")
        line = (f"{epoch}, batch {p.step} of {p.steps} `{'█' * filled}{'·' * (20 - filled)}` "
                f"{p.step / p.steps:.0%}, running loss {p.loss:.4f}")
    return f"{head}\n\n{'Stopping after the current batch… ' if s.stopping else ''}{line}"


def epoch_table(s: Snapshot) -> pd.DataFrame:
    rows = [[r.epoch, round(r.train_loss, 4), round(r.train_acc, 4), round(r.val_loss, 4), round(r.val_acc, 4),
             round(r.seconds, 1), round(r.tokens_per_s), ("stopped mid-epoch; " if r.partial else "")
             + ("best so far, saved" if r.best else "")] for r in s.records]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def curves(s: Snapshot, metric: str) -> pd.DataFrame | None:
    """Long form for gr.LinePlot: one row per (epoch, split); None (an empty plot) before the first epoch.

    None, not an empty frame: the plot fixes its series from the first data it gets, so that must hold both.
    """
    if not s.records:
        return None
    name = {"loss": "loss", "acc": "accuracy"}[metric]
    # epochs as labels, not numbers: a numeric axis puts ticks at 1.5, 2.5 ... (their order: EPOCH_ORDER)
    rows = [(str(r.epoch), split, getattr(r, f"{prefix}_{metric}"))
            for r in s.records for split, prefix in (("train", "train"), ("validation", "val"))]
    return pd.DataFrame(rows, columns=["epoch", "split", name])


def result_text(s: Snapshot) -> str:
    if not s.finished or s.error or s.done is None:
        return ""
    if s.done.best_epoch is None:
        return "Stopped before any batch was trained: nothing was saved."
    part_way = any(r.epoch == s.done.best_epoch and r.partial for r in s.records)  # stopped, and still the best
    saved = (f"Best epoch **{s.done.best_epoch}**{' (stopped part-way)' if part_way else ''} "
             f"(validation accuracy {s.done.best_val_acc:.1%}) is saved as "
             f"**{s.name}**: pick it in the Predict tab. {s.done.wall_seconds:.0f} s in all.")
    if not s.test:
        return saved
    where = f"a seeded sample of {s.test['n']:,}" if s.test["sample"] else f"all {s.test['n']:,}"
    return f"### Test accuracy {s.test['accuracy']:.1%}\non {where} test reviews. {saved}"


def _slider(label: str, value: int, step: int = 1, **kwargs) -> gr.Slider:
    low, high = RANGES[label]
    return gr.Slider(low, high, value=value, step=step, label=label, **kwargs)


def build():
    enabled, cap = training_job.training_policy()  # a bad value stops the app at start-up, saying why
    most = cap or ALL_REVIEWS
    gr.Markdown("Train a model here and watch it learn, epoch by epoch: the same loop as "
                "`python -m sentiment train`. The defaults (a small LSTM, 2,000 reviews, 5 epochs) suit a class "
                "demo of under a minute on a 2-core CPU; all 25,000 reviews at "
                "full size want a GPU. The best epoch is saved under `runs/` and appears in the "
                "Predict tab. One run at a time, for everyone using this app.")
    if not enabled:
        gr.Markdown(f"**Training is switched off on this server** (`{training_job.ENV_TRAINING}=off`).")
    elif cap:
        gr.Markdown(f"This server trains on at most {cap:,} reviews per run (`{training_job.ENV_MAX_TRAIN}`).")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            d = CLASSROOM
            choose = gr.Dropdown([(label, name) for name, label in PRESET_LABELS.items()], value="classroom",
                                 label="Preset", info="fills the form; every field stays yours to change",
                                 elem_id="train-preset")
            note = gr.Markdown(preset_note("classroom"), elem_id="train-preset-note")
            form = [
                gr.Radio(list(CELLS), value=d["cell"], label="Cell", info="rnn: the plain tanh cell; gru, lstm: gated"),
                _slider("Layers", d["layers"]),
                _slider("Hidden size", d["hidden_size"], info="units per layer"),
                _slider("Embedding size", d["embed_dim"], step=8),
                _slider("Epochs", d["epochs"]),
                gr.Number(d["lr"], label="Learning rate", info="peak of Adam's schedule (warm-up, then cosine decay; the homework keeps it constant)"),
                _slider("Batch size", d["batch_size"]),
                _slider("Maximum review length", d["max_len"], step=8, info="tokens read of each review"),
                gr.Slider(MIN_TRAIN, most, value=min(d["n_train"], most), step=100, label="Training reviews",
                          info=f"a few hundred for a class demo; {ALL_REVIEWS:,} = all (22,500 train, 2,500 validate)"),
                gr.Radio([(f"a sample of {TEST_SAMPLE:,}", "sample"), ("all 25,000", "full")], value=d["test_on"],
                         label="Test the best epoch on"),
                gr.Radio(list(POOLINGS), value=d["pooling"], label="Pooling",
                         info="what the classifier reads: the last state (the homework's), or max and mean over time"),
            ]
            choose.change(fill_form, inputs=choose, outputs=[*form, note], api_visibility="private")
            with gr.Row():
                start = gr.Button("Start", variant="primary", interactive=enabled)
                stop = gr.Button("Stop", variant="stop")
            watch = gr.Button("Watch the current run", size="sm")
        with gr.Column(scale=2):
            status = gr.Markdown("No run yet.", elem_id="train-status")
            result = gr.Markdown(elem_id="train-result")
            with gr.Row():
                loss_plot = gr.LinePlot(x="epoch", y="loss", color="split", title="Loss", height=260,
                                        sort=EPOCH_ORDER, elem_id="train-loss")
                acc_plot = gr.LinePlot(x="epoch", y="accuracy", color="split", title="Accuracy", height=260,
                                       sort=EPOCH_ORDER, elem_id="train-accuracy")
            table = gr.Dataframe(headers=TABLE_COLUMNS, label="Epochs", interactive=False, elem_id="train-epochs")
    outputs = [status, table, loss_plot, acc_plot, result]
    streaming = dict(outputs=outputs, show_progress="minimal", concurrency_id="train", concurrency_limit=8)
    start.click(start_training, inputs=[*form, choose], api_name="train", **streaming)
    watch.click(watch_training, api_name="watch_training", **streaming)
    stop.click(stop_training, outputs=status, api_name="stop_training", concurrency_limit=None)
