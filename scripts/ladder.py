"""The ladder: from the homework's network to the shipped 512-unit LSTM (`large`), one change a rung, each one measured.

    python scripts/ladder.py --quick --data aclImdb_v1.tar.gz           # every rung on a subset: a CPU, < 30 min
    python scripts/ladder.py --data aclImdb_v1.tar.gz --rungs 0-2       # full runs (the LSTM rungs want a GPU)
    python scripts/ladder.py --quick --dry-run                          # print the commands; train nothing
    python scripts/ladder.py --report                                   # docs/ladder.md again from docs/ladder.json

Rung k is ``python -m sentiment train`` with the flags of rungs 0..k: each adds one change to the one
before (later flags override earlier ones). The last rung is the shipped `large` model's own recipe. Each
rung trains into ``runs/ladder/<mode>/`` (never into ``checkpoints/``), is validated on whole movies
held out of the training reviews, then tested, and run through the behaviour suite. The figures land
in ``docs/ladder.json`` under the mode, with the exact command, and ``docs/ladder.md`` is written from
it. ``--quick`` trains each rung on QUICK's subset with fewer epochs and tests on a seeded sample, and
every figure it records says so. A rung whose folder already holds a finished run with the same
settings is measured, not trained again. In a full run, the last rung reuses the shipped `large` model's
recorded figures (it was trained on every training review, so it has no validation figure).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sentiment.behaviour import checkpoint_report  # noqa: E402
from sentiment.cli import parse_args, train_settings  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402
from sentiment.train import evaluate, hardware, prepare_data, resolve_device  # noqa: E402

DOCS = ROOT / "docs"
SHIPPED_LARGE = ROOT / "checkpoints" / "large"  # the last rung: the 512-unit recipe
PUBLISHED = 0.742  # the homework's write-up: test accuracy on half of the test set

# (key, the change, flags added to the rungs before, why it helps)
RUNGS = [
    ("homework", "the homework", "--preset homework",
     "Five tanh units must carry a whole review to its last token; most of it is forgotten by then."),
    ("clean", "cleaned, lowercased tokens", "--no-cased --no-keep-html",
     "Dropping `<br />` and case merges \"Great\" with \"great\": the same vocabulary holds more words, each seen more often."),
    ("pooling", "max + mean pooling instead of the last state", "--pooling maxmean",
     "The classifier reads every step, not only the last, so a strong word early in the review is not lost."),
    ("units256", "5 → 256 units", "--hidden-size 256",
     "More units keep more of what was read at once: several kinds of praise and complaint side by side."),
    ("lstm", "tanh → LSTM", "--cell lstm",
     "Gates decide what to keep and what to forget, so gradients and memories survive long reviews."),
    ("average_adversarial", "weight average and adversarial training", "--ema 0.998 --adversarial 5",
     "Averaging the weights smooths the last steps' noise; pushing token vectors against the label teaches "
     "the model not to hang on one word."),
    ("units512", "256 → 512 units", "--hidden-size 512",
     "Twice the units again: more capacity, at four times the recurrent cost per token."),
    ("large", "the shipped `large` model's recipe", "--preset large --val-fraction 0.1 --val-split movie",
     "Dropout, a larger vocabulary, warm-up and cosine decay of a higher learning rate, batch 64 and 6 epochs: "
     "the recipe a sweep on validation chose."),
]
QUICK = {"max_train": 1500, "epochs": 2, "max_len": 128, "test_sample": 2000}


def quick_flags(q: dict) -> str:
    return f"--max-train {q['max_train']} --epochs {q['epochs']} --max-len {q['max_len']}"


def rung_command(k: int, data: str, mode: str, q: dict | None, runs: str = "runs/ladder") -> str:
    """The train command of rung ``k``: the flags of rungs 0..k (the last rung: its own), then the mode's."""
    key = RUNGS[k][0]
    flags = RUNGS[k][2] if key == "large" else " ".join(r[2] for r in RUNGS[:k + 1])
    out = f"{runs}/{mode}/{k}-{key}"
    return (f"python -m sentiment train --data {shlex.quote(data)} --out {out} {flags}"
            + (f" {quick_flags(q)}" if q else "") + " --seed 0")


def settings(command: str) -> dict:
    """The model and training settings a train command gives (the CLI's own parsing)."""
    options, cfg = train_settings(parse_args(shlex.split(command)[3:]))
    return {"model_options": options, "train_config": asdict(cfg)}


def finished(out: Path, wanted: dict) -> bool:
    """Whether ``out`` holds a run trained to its last epoch with exactly these settings."""
    try:
        metrics = json.loads((out / "metrics.json").read_text())
    except (OSError, ValueError):
        return False
    same = {k: metrics.get(k) for k in wanted} == wanted
    history = metrics.get("history") or []
    return same and len(history) == wanted["train_config"]["epochs"] and not history[-1].get("partial")


def measure(out: Path, data: str, test_sample: int | None) -> dict:
    """Figures of the run in ``out``: validation (best epoch), test (all or a seeded sample), behaviour suite."""
    predictor = Predictor.load(out)
    metrics = predictor.metrics
    prepared = prepare_data(data, predictor.train_config(), vocab=predictor.vocab)
    test = prepared.test
    if test_sample and test_sample < len(test):
        import numpy as np
        test = test.subset(np.random.default_rng(0).permutation(len(test))[:test_sample])
    result = evaluate(predictor.model, test, device=resolve_device("cpu"))
    behaviour = checkpoint_report(predictor, out)
    history = [h for h in metrics["history"] if not h.get("partial")]
    return {"val_acc": metrics.get("val_accuracy"), "n_val": metrics.get("n_val"), "n_train": metrics.get("n_train"),
            "best_epoch": metrics.get("best_epoch"), "test_acc": result["accuracy"], "test_n": result["n"],
            "test_ece": result["ece"], "train_seconds": metrics.get("wall_seconds"),
            "tokens_per_s": sum(h["tokens_per_s"] for h in history) / max(len(history), 1),
            "hardware": metrics.get("hardware"), "parameters": sum(p.numel() for p in predictor.model.parameters()),
            "behaviour_test": behaviour["splits"]["test"]["overall"]["pass_rate"],
            "behaviour_dev": behaviour["splits"]["dev"]["overall"]["pass_rate"]}


def reused_large() -> dict:
    """The shipped `large` model's recorded figures (checkpoints/large): its metrics.json and behaviour.json."""
    predictor = Predictor.load(SHIPPED_LARGE)
    metrics = predictor.metrics
    behaviour = json.loads((SHIPPED_LARGE / "behaviour.json").read_text())
    return {"status": "reused", "source": "checkpoints/large (its metrics.json and behaviour.json)",
            "command": metrics["command"], "val_acc": None, "n_val": 0, "n_train": metrics["n_train"],
            "best_epoch": metrics["best_epoch"], "test_acc": metrics["test"]["accuracy"],
            "test_n": metrics["test"]["n"], "test_ece": metrics["test"].get("ece"),
            "train_seconds": metrics["wall_seconds"],
            "tokens_per_s": sum(h["tokens_per_s"] for h in metrics["history"]) / len(metrics["history"]),
            "hardware": metrics["hardware"], "parameters": sum(p.numel() for p in predictor.model.parameters()),
            "behaviour_test": behaviour["splits"]["test"]["overall"]["pass_rate"],
            "behaviour_dev": behaviour["splits"]["dev"]["overall"]["pass_rate"]}


def run(args) -> dict:
    mode = "quick" if args.quick else "full"
    q = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in QUICK.items()} if args.quick else None
    chosen = parse_rungs(args.rungs)
    ladder = load_ladder(args.json)
    entry = ladder["modes"].get(mode) or {"rungs": [None] * len(RUNGS)}
    entry.update(mode=mode, quick=q, command="python scripts/ladder.py " + shlex.join(args.argv))
    started = time.perf_counter()
    for k in chosen:
        key, change, _, why = RUNGS[k]
        command = rung_command(k, args.data, mode, q, args.runs)
        print(f"rung {k} ({change}): {command}", flush=True)
        if args.dry_run:
            continue
        if mode == "full" and key == "large" and not args.retrain_large:
            figures = reused_large()
        else:
            out = ROOT / shlex.split(command)[shlex.split(command).index("--out") + 1]
            if not finished(out, settings(command)):
                subprocess.run(shlex.split(command), cwd=ROOT, check=True, env=os.environ.copy())
            else:
                print(f"  {out} already holds this run: measured, not trained again", flush=True)
            figures = {"status": "measured", "command": command,
                       **measure(out, args.data, q["test_sample"] if q else None)}
        entry["rungs"][k] = {"rung": k, "key": key, "change": change, "why": why, **figures}
        print("  " + ", ".join(f"{name} {figures[name]:.4f}" for name in ("val_acc", "test_acc", "behaviour_test")
                               if figures.get(name) is not None), flush=True)
    if args.dry_run:
        return ladder
    entry["seconds"] = time.perf_counter() - started
    entry["machine"] = hardware(resolve_device("cpu")) | {"cores": os.cpu_count()}
    ladder["modes"][mode] = entry
    save_ladder(args.json, ladder)
    write_markdown(ladder, args.markdown)
    return ladder


def parse_rungs(text: str) -> list[int]:
    """"0-2,5" -> [0, 1, 2, 5]; every rung by default."""
    if not text:
        return list(range(len(RUNGS)))
    chosen = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        chosen += range(int(low), int(high or low) + 1)
    if not all(0 <= k < len(RUNGS) for k in chosen):
        raise SystemExit(f"--rungs: rungs are 0 to {len(RUNGS) - 1}; got {text!r}")
    return sorted(set(chosen))


def load_ladder(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"version": 1, "published_homework": PUBLISHED, "modes": {}}


def save_ladder(path: Path, ladder: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ladder, indent=1) + "\n")
    os.replace(tmp, path)


def _pct(x) -> str:
    return "–" if x is None else f"{x:.1%}"


def _time(seconds) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _where(hw: dict | None) -> str:
    if not hw:
        return "–"
    return hw.get("gpu") or f"CPU, {hw.get('threads')} thread{'s' if hw.get('threads') != 1 else ''}"


def markdown(ladder: dict) -> str:
    lines = ["# The ladder: from the homework's network to the shipped `large` model", "",
             "Generated by `python scripts/ladder.py` from [`ladder.json`](ladder.json); do not edit by hand. "
             "Each rung adds one change to the rung above it and is trained, validated on whole movies held out "
             "of the training reviews, tested, and run through the behaviour suite (its test half). "
             f"The homework's own write-up reported **{ladder['published_homework']:.1%}** on half of the test set.", ""]
    for mode in ("full", "quick"):
        entry = ladder["modes"].get(mode)
        if not entry:
            continue
        rungs = entry["rungs"]
        if mode == "quick":
            q = entry["quick"]
            lines += ["## Quick runs (a subset: not comparable with the full runs)", "",
                      f"`{entry['command']}`: every rung on {q['max_train']:,} training reviews (a quarter of that "
                      f"number held out by movie for validation), {q['epochs']} epochs, the first {q['max_len']} "
                      f"tokens of each review, tested on a seeded sample of {q['test_sample']:,} test reviews; "
                      f"{_time(entry.get('seconds'))} in all on {_where(entry.get('machine'))}. "
                      "Every figure here is a quick run's.", ""]
        else:
            lines += ["## Full runs", "", "All 25,000 training reviews less a held-out tenth (by movie), every "
                      "setting the rung's own, tested on all 25,000 test reviews; each rung's command is below and "
                      f"in `ladder.json`. Last measured with `{entry['command']}`.", ""]
        lines += ["| rung | change | val acc | test acc | behaviour suite | training time | tokens/s | on | parameters |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for k, (key, change, _, _) in enumerate(RUNGS):
            r = rungs[k] if k < len(rungs) else None
            if not r:
                lines.append(f"| {k} | {change} | not run yet | | | | | | |")
                continue
            note = " (reused)" if r["status"] == "reused" else ""
            lines.append(f"| {k} | {change}{note} | {_pct(r['val_acc'])} | **{_pct(r['test_acc'])}** "
                         f"({r['test_n']:,}) | {_pct(r['behaviour_test'])} | {_time(r['train_seconds'])} | "
                         f"{r['tokens_per_s']:,.0f} | {_where(r['hardware'])} | {r['parameters']:,} |")
        lines.append("")
        missing = [k for k in range(len(RUNGS)) if k >= len(rungs) or not rungs[k]]
        if missing:
            lines += [f"Not run yet: rungs {', '.join(map(str, missing))}. Their commands are below; on a GPU "
                      "each takes minutes.", ""]
    lines += ["## Why each rung helps", ""]
    lines += [f"{k}. **{change}.** {why}" for k, (_, change, _, why) in enumerate(RUNGS)]
    lines += ["", "## The commands (full runs)", "", "```"]
    lines += [rung_command(k, "aclImdb_v1.tar.gz", "full", None) for k in range(len(RUNGS))]
    lines += ["```", "", "Rung 7 in a full ladder reuses the shipped `large` model's recorded figures unless "
              "`--retrain-large` is given; its command is the one recorded in `checkpoints/large/metrics.json`.", ""]
    return "\n".join(lines)


def write_markdown(ladder: dict, path: Path) -> None:
    path.write_text(markdown(ladder))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.environ.get("IMDB_DATA", "aclImdb_v1.tar.gz"),
                   help="aclImdb_v1.tar.gz, an extracted aclImdb/ folder, or a tokenized .npz file")
    p.add_argument("--quick", action="store_true", help="a subset and fewer epochs per rung (a CPU, < 30 min)")
    p.add_argument("--rungs", default="", help="which rungs, e.g. 0-2,5 (default: all)")
    p.add_argument("--dry-run", action="store_true", help="print the commands, train and write nothing")
    p.add_argument("--report", action="store_true", help="only write docs/ladder.md again from docs/ladder.json")
    p.add_argument("--retrain-large", action="store_true", help="train the last rung instead of reusing "
                                                                "the shipped large model's figures")
    for name in QUICK:
        p.add_argument("--" + name.replace("_", "-"), type=int, default=None, help=f"quick mode (default {QUICK[name]})")
    p.add_argument("--runs", default="runs/ladder", help="where the rungs train (never checkpoints/)")
    p.add_argument("--json", type=Path, default=DOCS / "ladder.json", help=argparse.SUPPRESS)
    p.add_argument("--markdown", type=Path, default=DOCS / "ladder.md", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.argv = argv
    if Path(args.runs).resolve().is_relative_to(ROOT / "checkpoints"):
        p.error("--runs must not be inside checkpoints/: the ladder never writes the shipped models")
    if args.report:
        write_markdown(load_ladder(args.json), args.markdown)
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
