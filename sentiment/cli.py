"""Command line: ``python -m sentiment train|evaluate|check|predict|units|path|card|tokenize`` (each with --help)."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

from tqdm import tqdm

from .behaviour import FILE as BEHAVIOUR_FILE, checkpoint_report, failures, results_from_report, save_report
from .card import model_card
from .checkpoint import CheckpointError, unknown_word_reading, write_metrics
from .contrast import CONTRAST_VERDICTS, TURN_LASTS
from .data import ENV_VAR, DataError, resolve_data_path
from .model import CHOICES, ModelConfig
from .names import NAMES_STARTS
from .path import FILE as PATH_FILE, fit_path_axis, save_path_axis
from .predict import DEFAULT_CHECKPOINT, Predictor
from .presets import PRESETS, preset
from .pretrain import PretrainProgress, PretrainRecord
from .text import save_corpus, split_lines, tokenize_corpus
from .units import save_unit_words, unit_words
from .train import (Done, EpochRecord, Progress, Stage, TrainConfig, TrainingBusy, evaluate, model_option_names,
                    prepare_data, train)


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help=f"aclImdb_v1.tar.gz, an extracted aclImdb/ folder, or a .npz file from `tokenize` "
                                  f"(default: ${ENV_VAR}, else the official archive, downloaded once into the cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sentiment", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model; prints a record per epoch",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_data(t)
    t.add_argument("--out", required=True, help="checkpoint folder to write (the best epoch is kept)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/resume/ if a run was interrupted")
    t.add_argument("--preset", choices=list(PRESETS), help="start from a named recipe (flags given as well override "
                                                           "it): " + "; ".join(f"{k}: {v['about']}" for k, v in PRESETS.items()))
    model_defaults = ModelConfig(vocab_size=1)
    helps = {"cell": "recurrent cell", "pooling": "pooling over time",
             "pooled_layers": "pool the top layer's outputs, or every layer's side by side",
             "recurrent_init": "start of the hidden-to-hidden weights (orthogonal can steady a tanh RNN)"}
    for name in model_option_names():  # the model's settings: choices, sizes and dropouts
        default = getattr(model_defaults, name)
        t.add_argument("--" + name.replace("_", "-"), type=type(default), default=default,
                       choices=CHOICES.get(name), help=helps.get(name, " "))
    train_defaults = TrainConfig()
    train_helps = {"distill": "with --teacher: share of each review's loss that is the teacher's (the rest: its label's)",
                   "distill_temperature": "the teacher's probabilities are softened by this temperature",
                   "windows": "short windows (1-3 whole sentences) of each training review, drawn once and also "
                              "trained on, labelled by the teacher if any (see --window-distill; else by their review's label)",
                   "window_weight": "a window's weight in the loss, against a review's 1",
                   "window_distill": "with --teacher: share of each window's loss that is the teacher's (the rest: "
                                     "its review's label, which a lone window only hints at)",
                   "negation_weight": "a negation pair sentence's weight in the loss, against a review's 1",
                   "negation_kinds": "the forms of negation pair, comma-separated: be (the plot was n't dull), verb "
                                     "(i did n't love it), fragment (not awful): see sentiment/negation.py",
                   "contrasts": "sentence pairs 'A , but B' and 'B , but A' from training reviews, each labelled by "
                                "its last clause (weight: --negation-weight): see sentiment/contrast.py",
                   "contrast_verdict": "where a contrast pair's verdict stands: last ('although A , B'), both "
                                       "(a fourth join, 'B , although A', labelled by B), or balanced (every other "
                                       "pair joined that way), or varied (six connectives, and every other pair "
                                       "with its verdict first before 'although' or 'while'): see sentiment/contrast.py",
                   "contrast_weight": "a contrast pair text's weight in the loss, against a review's 1 (0: "
                                      "--negation-weight's)",
                   "turns": "pairs of windows the teacher reads as opposite sides, joined both ways round, each "
                            "labelled by its last window (needs --windows, --teacher): see sentiment/contrast.py",
                   "turn_weight": "a turn's weight in the loss, against a review's 1",
                   "turn_last": "what ends a turn: another window, or a review's own ending (its last 1-2 sentences) "
                                "that the teacher reads as its review's side",
                   "swap_names": "share of the training texts whose names (words the reviews write capitalized "
                                 "mid-sentence) are replaced by other names, so a name does not tell the side: "
                                 "see sentiment/names.py",
                   "swap_opinions": "share of the training texts whose opinion words are replaced by others of the "
                                    "same side and strength from a general lexicon, so rare everyday words ('courteous', "
                                    "'delicious') are read as verdicts: see sentiment/opinions.py",
                   "names_start": "with --init-from and --swap-names: the names' word vectors start as the start "
                                  "learnt them, or all at their mean (what it learnt of each name forgotten)",
                   "pretrain_epochs": "epochs of learning to predict the next word of the training reviews before "
                                      "learning sentiment (the embedding and recurrent layers start from there)"}
    train_choices = {"turn_last": TURN_LASTS, "names_start": NAMES_STARTS, "contrast_verdict": CONTRAST_VERDICTS}
    for f in fields(TrainConfig):
        if f.name in ("lowercase", "keep_html", "device", "weights_dtype", "max_train", "teacher",
                      "temperature_from", "init_from"):
            continue
        t.add_argument("--" + f.name.replace("_", "-"), type=type(getattr(train_defaults, f.name)),
                       default=getattr(train_defaults, f.name), help=train_helps.get(f.name, " "),
                       choices=train_choices.get(f.name))
    t.add_argument("--teacher", default=None, help="a checkpoint folder whose probabilities the model also learns "
                                                   "(distillation: see --distill, --distill-temperature, --windows)")
    t.add_argument("--temperature-from", default=None,
                   help="with --val-fraction 0: take the calibration temperature of this checkpoint, the same "
                        "recipe trained with validation reviews (a run on every review has none to fit it on)")
    t.add_argument("--init-from", default=None,
                   help="a checkpoint folder to start from (fine-tuning): its weights and its vocabulary; its model "
                        "settings must be this run's (a --preset of its recipe gives them)")
    t.add_argument("--max-train", type=int, default=None, help="train on only N reviews (a quick demo)")
    t.add_argument("--cased", action=argparse.BooleanOptionalAction, default=False,
                   help="keep case (default: lowercase tokens)")
    t.add_argument("--keep-html", action=argparse.BooleanOptionalAction, default=False,
                   help="read HTML tags such as <br /> as tokens (default: removed)")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    t.add_argument("--weights-dtype", choices=["float32", "float16"], default="float32",
                   help="float16 halves the weights file (the shipped checkpoints use it)")

    parser.train_parser = t  # --preset sets its defaults (see parse_args)

    e = sub.add_parser("evaluate", help="accuracy, loss and confusion matrix of a checkpoint")
    _add_data(e)
    e.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    e.add_argument("--split", choices=["test", "val"], default="test")
    e.add_argument("--json", action="store_true", help="end with one JSON line")
    e.add_argument("--record", action="store_true", help="store the result in the checkpoint's metrics.json")

    b = sub.add_parser("check", help="the behaviour suite: short reviews, negation, contrast, intensity, "
                                     "invariance, late turns, other domains (no data set needed)")
    b.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    b.add_argument("--split", choices=["dev", "test", "all"], default="all",
                   help="the dev half may guide model choices; the test half is only reported")
    b.add_argument("--json", action="store_true", help="one JSON record per capability and type, then the overall")
    b.add_argument("--failures", type=int, default=15, help="failing cases to print, worst first")
    b.add_argument("--save", action="store_true", help=f"store the results in the checkpoint's {BEHAVIOUR_FILE} "
                                                       "(what the app shows)")

    u = sub.add_parser("units", help="find the words that excite and inhibit each hidden unit; store units.json")
    _add_data(u)
    u.add_argument("--checkpoint", required=True)
    u.add_argument("--reviews", type=int, default=2000, help="training reviews to sample")

    a = sub.add_parser("path", help="fit the direction the app's path-of-the-review plot uses; store path.json")
    _add_data(a)
    a.add_argument("--checkpoint", required=True)
    a.add_argument("--reviews", type=int, default=2000, help="training reviews to sample")

    k = sub.add_parser("tokenize", help="tokenize the data set once into a .npz file that --data accepts "
                                        "(to train where spaCy is not installed)")
    _add_data(k)
    k.add_argument("--out", required=True, help="the .npz file to write (about 23 MB for IMDB)")
    k.add_argument("--cased", action="store_true", help="keep case (default: lowercase tokens)")
    k.add_argument("--keep-html", action="store_true", help="read HTML tags such as <br /> as tokens (default: removed)")

    c = sub.add_parser("card", help="print a checkpoint's model card (Markdown) from its own files")
    c.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))

    p = sub.add_parser("predict", help="label reviews")
    p.add_argument("text", nargs="*", help="reviews to label")
    p.add_argument("--file", help="a file with one review per line (an output row for every line, empty ones too)")
    p.add_argument("--checkpoint", default=None, help=f"checkpoint folder (default: {DEFAULT_CHECKPOINT})")
    p.add_argument("--json", action="store_true", help="one JSON object per review")
    return parser


def train_settings(args) -> tuple[dict, TrainConfig]:
    """(model options, TrainConfig) of parsed ``train`` arguments; bad values raise ValueError."""
    names = {f.name for f in fields(TrainConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    cfg = TrainConfig(**{**values, "lowercase": not args.cased, "keep_html": args.keep_html})
    model_options = {k: getattr(args, k) for k in model_option_names()}
    ModelConfig(vocab_size=1, **model_options)  # fail fast on bad values
    return model_options, cfg


def cmd_train(args) -> int:
    model_options, cfg = train_settings(args)
    data = resolve_data_path(args.data)
    command = args.command_line
    bar = None
    for event in train(data, model_options, cfg, args.out, resume=args.resume, progress=tqdm, command=command):
        if isinstance(event, Stage):
            print(event.message, flush=True)
        elif isinstance(event, (Progress, PretrainProgress)):
            if bar is None:
                bar = tqdm(total=event.steps, unit="batch", leave=False,
                           desc=("next-word epoch " if isinstance(event, PretrainProgress) else "epoch ") + str(event.epoch))
            bar.update(1)
            bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)
            if event.step == event.steps:
                bar.close()
                bar = None
        elif isinstance(event, (EpochRecord, PretrainRecord)):
            if bar is not None:
                bar.close()
                bar = None
            kind = "epoch" if isinstance(event, EpochRecord) else "pretrain_epoch"
            print(json.dumps({"event": kind, **asdict(event)}), flush=True)
        elif isinstance(event, Done):
            kept = (f"Best epoch {event.best_epoch} (validation accuracy {event.best_val_acc:.4f})"
                    if event.best_val_acc is not None else f"Epoch {event.best_epoch} (no validation: the last)")
            print(f"{kept} saved in {event.out_dir}; {event.wall_seconds:.0f} s in all.", flush=True)
    return 0


def cmd_evaluate(args) -> int:
    predictor = Predictor.load(args.checkpoint)
    start = time.perf_counter()
    prepared = _checkpoint_data(predictor, args.data, speller=predictor.speller)  # reviews read as the app reads them
    split = prepared.test if args.split == "test" else prepared.val
    if len(split) == 0:
        raise ValueError(f"{args.checkpoint} was trained on every training review: it has no validation split. "
                         "Use --split test.")
    result = evaluate(predictor.model, split)
    result.update(split=args.split, checkpoint=str(args.checkpoint), seconds_with_data=time.perf_counter() - start)
    (tn, fp), (fn, tp) = result["confusion"]
    print(f"{args.split}: accuracy {result['accuracy']:.4f}, loss {result['loss']:.4f} on {result['n']} reviews "
          f"({result['reviews_per_s']:.0f} reviews/s in the model)")
    print(f"confusion: true neg {tn}, false pos {fp}, false neg {fn}, true pos {tp}")
    print(f"calibration: expected calibration error {result['ece']:.4f} (15 bins of confidence)")
    if args.record:
        metrics = dict(predictor.metrics)
        metrics[args.split] = {k: result[k] for k in ("accuracy", "loss", "n", "confusion", "ece")} | {
            "command": args.command_line, "misspellings_read_as_meant": predictor.speller is not None,
            "unknown_word": unknown_word_reading(predictor.config)}
        write_metrics(args.checkpoint, metrics)
    if args.json:
        print(json.dumps(result))
    return 0


def cmd_check(args) -> int:
    predictor = Predictor.load(args.checkpoint)
    report = checkpoint_report(predictor, args.checkpoint, command=args.command_line if args.save else None)
    half = report["splits"][args.split]
    overall = {**half["overall"], "checkpoint": predictor.name, "suite_version": report["suite"]["version"],
               "ece": report["ece"]["value"]}
    if args.save:
        print(f"Stored the results in {save_report(args.checkpoint, report)}.", file=sys.stderr)
    if args.json:
        for record in half["records"]:
            print(json.dumps(record))
        print(json.dumps({"overall": overall}))
        return 0
    names = report["capabilities"]
    print(f"{predictor.name} on the behaviour suite v{report['suite']['version']}, {args.split} "
          f"({overall['n']} cases): {overall['passed']} passed, {overall['pass_rate']:.1%}\n")
    print(f"{'capability':<76} {'type':<4} {'n':>4} {'passed':>6} {'rate':>7}")
    for r in half["records"]:
        print(f"{names[r['capability']]:<76} {r['type']:<4} {r['n']:>4} {r['passed']:>6} {r['pass_rate']:>7.1%}")
    print("\nby type: " + ", ".join(f"{t} {rate:.1%}" for t, rate in overall["by_type"].items()))
    print(f"sure of short texts (P < 0.01 or > 0.99): {overall['sure_short']:.1%} of {overall['n_short']} texts")
    ece = report["ece"]
    print(f"calibration on the IMDB test reviews: ECE {ece['value']:.4f} (15 bins, {ece['n']} reviews)"
          if ece["value"] is not None else "calibration: not measured for this checkpoint yet "
          "(`python -m sentiment evaluate --checkpoint DIR --record` measures ECE on the test reviews)")
    failed = failures([r for r in results_from_report(report) if args.split in ("all", r.case.split)])
    if failed and args.failures > 0:
        print(f"\nFailing cases, worst first ({min(args.failures, len(failed))} of {len(failed)}):")
        for r in failed[:args.failures]:
            print("  " + describe_failure(r))
    return 0


def describe_failure(r) -> str:
    """One line: test type and id, the model's P(positive), and what was expected."""
    c = r.case
    if c.type == "MFT":
        return f"MFT {c.test}: P(positive) {r.prob:.3f}, expected {c.expect.replace('_', ' ')}: {c.text!r}"
    if c.type == "INV":
        return (f"INV {c.test}: P(positive) {r.prob:.3f} -> {r.prob_edited:.3f} (may move {c.max_delta}): "
                f"{c.text!r} -> {c.edited!r}")
    return f"DIR {c.test}: P(positive) {r.prob:.3f} -> {r.prob_edited:.3f}, should go {c.direction}: {c.text!r} -> {c.edited!r}"


def _checkpoint_data(predictor: Predictor, data_arg, speller=None):
    """The checkpoint's own data preparation (its split seed and max_len) on the data at ``data_arg``."""
    return prepare_data(resolve_data_path(data_arg), predictor.train_config(), progress=tqdm, vocab=predictor.vocab,
                        speller=speller)


def cmd_units(args) -> int:
    predictor = Predictor.load(args.checkpoint)
    table = unit_words(predictor.model, predictor.vocab, _checkpoint_data(predictor, args.data).train,
                       n_reviews=args.reviews)
    save_unit_words(args.checkpoint, table)
    print(f"Stored the top words of {sum(len(layer) for layer in table['layers'])} units in "
          f"{Path(args.checkpoint) / 'units.json'} ({table['n_words']} words seen >= {table['min_count']} times, "
          f"in >= {table['min_reviews']} different reviews, of {table['n_reviews']} reviews).")
    return 0


def cmd_path(args) -> int:
    predictor = Predictor.load(args.checkpoint)
    axis = fit_path_axis(predictor.model, _checkpoint_data(predictor, args.data).train, n_reviews=args.reviews)
    save_path_axis(args.checkpoint, axis)
    print(f"Stored the path's second direction in {Path(args.checkpoint) / PATH_FILE} "
          f"(fitted on {axis['n_reviews']} training reviews).")
    return 0


def cmd_tokenize(args) -> int:
    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out must name a .npz file; got {out}")
    data = resolve_data_path(args.data)
    corpus = tokenize_corpus(data, lowercase=not args.cased, progress=tqdm, keep_html=args.keep_html)
    save_corpus(out, corpus, lowercase=not args.cased, keep_html=args.keep_html)
    n = {split: len(s) for split, s in corpus.splits.items()}
    print(f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {n} reviews, {len(corpus.types)} distinct tokens. "
          f"Train with --data {out}" + (" --cased" if args.cased else "") + (" --keep-html" if args.keep_html else "") + ".")
    return 0


def cmd_card(args) -> int:
    print(model_card(args.checkpoint))
    return 0


def cmd_predict(args) -> int:
    """One output row per review argument, then one per line of --file, in order (an empty line gets an
    unlabelled row, so row N of the output is line N of the file)."""
    rows = [(None, t) for t in args.text]
    if args.file:
        lines = split_lines(Path(args.file).read_text(encoding="utf-8", errors="replace"))
        rows += [(i, line) for i, line in enumerate(lines, start=1)]
    if not any(t.strip() for _, t in rows) or not all(t.strip() for line, t in rows if line is None):
        print("error: give at least one non-empty review, as arguments or with --file", file=sys.stderr)
        return 2
    predictor = Predictor.load(args.checkpoint)
    filled = [t for _, t in rows if t.strip()]
    predictions = iter(predictor.predict(filled))
    for line, text in rows:
        pred = next(predictions) if text.strip() else None
        if args.json:
            print(json.dumps({**({"line": line} if line is not None else {}),
                              "label": pred and pred.label, "prob_positive": pred and round(pred.prob_positive, 6),
                              "n_tokens": pred.n_tokens if pred else 0, "truncated": bool(pred and pred.truncated),
                              "text": text[:80]}))
        else:
            short = text if len(text) <= 60 else text[:57] + "..."
            where = f"line {line}: " if line is not None else ""
            print(f"{pred.label:8s}  P(positive)={pred.prob_positive:.3f}  {where}{short}" if pred
                  else f"{'-':8s}  {'(empty line)':20s}  {where}")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The arguments; with ``train --preset NAME``, the preset's settings are the defaults that flags override."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train" and args.preset:
        options, cfg = preset(args.preset)
        values = {**options, **asdict(cfg)}
        values["cased"] = not values.pop("lowercase")
        parser.train_parser.set_defaults(**values)
        args = parser.parse_args(argv)
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    args.command_line = "python -m sentiment " + shlex.join(argv)  # recorded with what it produced
    try:
        return {"train": cmd_train, "evaluate": cmd_evaluate, "check": cmd_check, "predict": cmd_predict,
                "units": cmd_units, "path": cmd_path, "card": cmd_card, "tokenize": cmd_tokenize}[args.command](args)
    except (DataError, CheckpointError, TrainingBusy, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the best epoch so far is saved (continue with --resume)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left early (`... | head`): stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 1
