"""A model card in Markdown, written from a checkpoint's own files, so the card cannot drift from them.

    python -m sentiment card --checkpoint checkpoints/default
"""
from __future__ import annotations

from pathlib import Path

from .behaviour import stored_report
from .checkpoint import load_checkpoint, weights_index


def model_card(directory) -> str:
    directory = Path(directory)
    model, _, config, metrics = load_checkpoint(directory)
    m, t = config["model"], metrics.get("train_config", {})
    best = next((h for h in metrics.get("history", []) if h["epoch"] == metrics.get("best_epoch")), None)
    test = metrics.get("test")
    held_out = metrics.get("n_val", 1) > 0  # checkpoints trained with --val-fraction 0 have no validation split
    validation = (f"{metrics.get('n_val', '?'):,} held out for validation ("
                  + ("whole movies, none of them in " + ("this run's " if t.get("init_from") else "") + "training"
                     if t.get("val_split") == "movie" else "random reviews")
                  + f", seed {t.get('seed')})" if held_out
                  else "none held out (trained on all of them, for settings chosen on a validation split)")
    hw = metrics.get("hardware", {})
    wall = metrics.get("wall_seconds")
    epochs = metrics.get("history", [])
    files = weights_index(config)["files"]
    size_mb = sum((directory / name).stat().st_size for name in files) / 1e6
    params = sum(p.numel() for p in model.parameters())
    calibration = config.get("calibration")
    rows = [
        ("Architecture", f"embedding {m['embed_dim']} → {m['num_layers']} × {m['cell'].upper()} "
                         f"({m['hidden_size']} units, unidirectional) → {m['pooling']} pooling over time"
                         + (" of every layer's outputs" if m.get("pooled_layers") == "all" else "")
                         + f" → 1 logit; dropout: embeddings {m['embed_dropout']}, "
                         + (f"whole words {m['word_dropout']}, " if m.get("word_dropout") else "")
                         + f"between layers {m['layer_dropout']}, before the classifier {m['output_dropout']}"),
        ("Parameters", f"{params / 1e6:.2f} M ({m['vocab_size']:,}-token vocabulary); weights file "
                       f"{size_mb:.1f} MB ({config.get('weights_dtype', 'float32')}"
                       + (f", in {len(files)} files under 10 MB each" if len(files) > 1 else "") + ")"),
        ("Data", f"IMDB (Maas et al., 2011): {metrics.get('n_train', '?'):,} training reviews; {validation}; nothing "
                 f"else. Tokens: spaCy's rule-based English tokenizer, "
                 f"{'HTML tags read as text' if config['tokenizer'].get('keep_html') else 'HTML removed'}, "
                 f"{'lowercased' if config['tokenizer']['lowercase'] else 'cased'}; "
                 f"the first {config['tokenizer']['max_len']} tokens of a review are read"),
        ("Training", (f"started from the weights of `{t['init_from']}`"
                      + (f" (sha256 {metrics['init_from']['weights_sha256'][:12]}…)" if metrics.get("init_from") else "")
                      + " (fine-tuning); then " if t.get("init_from") else "")
                     + _pretraining(t, metrics) + f"AdamW, " + (f"constant lr {t.get('lr')}" if t.get("schedule") == "constant" else
                                   f"peak lr {t.get('lr')}, warm-up then cosine decay")
                     + f", batch {t.get('batch_size')}, "
                     f"{t.get('epochs')} epoch{'' if t.get('epochs') == 1 else 's'}"
                     + (f" (stopped after epoch {len(epochs)})" if t.get("epochs") and 0 < len(epochs) < t["epochs"] else "")
                     + ", "
                     + ("orthogonal start of the recurrent weights, " if m.get("recurrent_init") == "orthogonal" else "")
                     + (f"moving average of the weights (decay {t['ema']}) {'validated and ' if held_out else ''}kept, "
                        if t.get("ema") else "")
                     + (f"adversarial training on token vectors (L2 push {t['adversarial']} per review), "
                        if t.get("adversarial") else "")
                     + (f"learning from the teacher `{t['teacher']}` (its probabilities at temperature "
                        f"{t.get('distill_temperature')}, {t.get('distill'):.0%} of each review's loss), " if t.get("teacher") else "")
                     + (f"{t['windows']} window{'s' if t['windows'] > 1 else ''} of 1–3 sentences of each review (weight {t.get('window_weight')}"
                        + _window_targets(t) + "), "
                        if t.get("windows") else "")
                     + (f"negation pairs of its sentences (`--negations {t['negations']}`, `sentiment/negation.py`"
                        + (f", kinds {t['negation_kinds'].replace(',', ', ')}" if t.get("negation_kinds", "be") != "be" else "")
                        + (f", weight {t['negation_weight']}" if t.get("negation_weight", 0.5) != t.get("window_weight", 0.5) else "")
                        + "), "
                        if t.get("negations") else "")
                     + (f"contrast pairs of its sentences (`--contrasts {t['contrasts']}`, `sentiment/contrast.py`"
                        + (f"; some with the verdict first, `--contrast-verdict {t['contrast_verdict']}`"
                           if t.get("contrast_verdict", "last") != "last" else "")
                        + (f", weight {t['contrast_weight']}" if t.get("contrast_weight") else "") + "), "
                        if t.get("contrasts") else "")
                     + (f"turns (`--turns {t['turns']}`, `sentiment/contrast.py`: a window of one side, then "
                        + ("a review's own ending" if t.get("turn_last") == "ending" else "a window")
                        + f" of the other, labelled by the last; weight {t.get('turn_weight')}), " if t.get("turns") else "")
                     + (f"names swapped for other names in {t['swap_names']:.0%} of the texts (`--swap-names`, "
                        "`sentiment/names.py`" + ("; their word vectors started at their mean" if t.get("names_start") == "mean"
                                                  else "") + "), " if t.get("swap_names") else "")
                     + (f"opinion words swapped for others of the same side and strength in {t['swap_opinions']:.0%} "
                        "of the texts (`--swap-opinions`, `sentiment/opinions.py`), " if t.get("swap_opinions") else "")
                     + (f"best epoch by validation accuracy: {metrics.get('best_epoch')}" if held_out
                        else f"no validation: the last epoch ({metrics.get('best_epoch')}) kept")
                     + (f"; logits divided by a temperature of {calibration['temperature']} fitted on validation"
                        + (f" of the same recipe (`{calibration['borrowed_from']}`)" if calibration.get("borrowed_from")
                           else "") if calibration else "")),
        ("Validation accuracy", (f"{best['val_acc']:.4f}" + (f" (the start model `{t['init_from']}` may have trained on "
                                                             "these reviews)" if t.get("init_from") else ""))
                                if best and held_out else "n/a"),
        ("Test accuracy (25,000 reviews)", f"**{test['accuracy']:.4f}** (loss {test['loss']:.4f}"
                                           + (f"; calibration error {test['ece']:.3f}" if "ece" in test else "")
                                           + ("; misspellings read as meant, `sentiment/spelling.py`"
                                              if test.get("misspellings_read_as_meant") else "")
                                           + ("; an unknown word read as the mean of the known words' embeddings, `scripts/unknown_word.py`"
                                              if test.get("unknown_word") == "mean" else "") + ")"
                                           if test else "not measured yet"),
        ("Behaviour suite", _behaviour(directory)),
        ("Hardware, time", _hardware_and_time(hw, epochs, wall)),
        ("Trained with", f"`{metrics.get('command')}`"),
        ("Measured with", f"`{test['command']}`" if test and test.get("command") else "n/a"),
    ]
    lines = [f"| Model | `{directory.name}` |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def _window_targets(t: dict) -> str:
    """What a model's windows learnt, when not the teacher's probability alone (``--window-distill``)."""
    share = t.get("window_distill", 1.0)
    if not t.get("teacher") or share == 1.0:
        return ""
    return ", learning their review's label, not the teacher's" if share == 0 else (
        f", {share:.0%} the teacher's, the rest their review's label")


def _pretraining(t: dict, metrics: dict) -> str:
    """The next-word epochs a run began with (``--pretrain-epochs``), if any, and where they got to."""
    if not t.get("pretrain_epochs"):
        return ""
    last = (metrics.get("pretrain") or [{}])[-1]
    n = t["pretrain_epochs"]
    reached = (f"perplexity {last['val_perplexity']:.0f} on validation, " if last.get("val_perplexity")
               else f"perplexity {last['train_perplexity']:.0f}, " if last.get("train_perplexity") else "")
    return (f"first {n} epoch{'s' if n > 1 else ''} predicting the next word of the training reviews "
            f"({reached}`sentiment/pretrain.py`); then for sentiment: ")


def _behaviour(directory: Path) -> str:
    """Pass rates on the behaviour suite's halves, from behaviour.json if it matches this suite and these weights."""
    report = stored_report(directory)
    if report is None:
        return "not measured yet (`python -m sentiment check --save`)"
    rate = lambda split: report["splits"][split]["overall"]["pass_rate"]
    return f"{rate('dev'):.1%} of the dev cases, {rate('test'):.1%} of the test cases passed (`{report['command']}`)"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"


def _hardware_and_time(hw: dict, epochs: list[dict], wall: float | None) -> str:
    """Where it trained, how long its epochs took (every sitting, if resumed) and the wall time in all."""
    if not epochs:
        return "n/a"
    where = (f"{hw.get('gpu')} (CUDA)" if hw.get("device") == "cuda" and hw.get("gpu")
             else f"{hw.get('device', '?')} ({hw.get('cpu', '')}, torch threads: {hw.get('threads', '?')})")
    in_epochs = sum(h["seconds"] for h in epochs)
    tps = sum(h["tokens_per_s"] for h in epochs) / len(epochs)
    # a wall time below the epochs' own is from a run resumed before wall times counted every sitting
    in_all = f", {_minutes(wall)} in all" if wall and wall >= in_epochs else ""
    return (f"{where}, torch {hw.get('torch', '?')}; {_minutes(in_epochs)} in {len(epochs)} epoch{'' if len(epochs) == 1 else 's'}{in_all}, "
            f"{tps:,.0f} tokens/s")

