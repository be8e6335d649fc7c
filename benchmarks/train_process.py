"""The class's p95 while a training run goes on in a process of its own, beside the app (not a Train-tab run).

    python benchmarks/train_process.py --corpus runs/imdb-tokens.npz --phase none --phase nice19 \
        --phase nice19-1thread --phase tab --phase none

One app serves the shipped ``default``; 20 clients ask 10 times each, in rounds, as the reliability benchmark's
class does. Each ``--phase`` is one of: ``none`` (three rounds, no training), ``tab`` (a Train-tab run, as
``benchmarks/run.py --only reliability`` starts it), or ``nice<N>`` / ``nice<N>-1thread``
(``python -m sentiment train --preset classroom`` at niceness N, with the host's torch threads or with
``OMP_NUM_THREADS=1``), the class asking until it ends. One JSON line each: the class's p95 and, for a
training phase, its tokens/s and seconds. Compare phases within one run: machines and minutes differ.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import ROOT, first_answer, running_app  # noqa: E402
from benchmarks.figures import pick_reviews  # noqa: E402
from benchmarks.reliability import (Scale, load_while, load_while_training, mean_tokens_per_s, pooled,  # noqa: E402
                                    run_load)
from benchmarks.run import default_data  # noqa: E402
from sentiment.data import read_reviews  # noqa: E402

CLASS = Scale()  # the reliability benchmark's class: 20 clients x 10 requests a round


def nice_phase(phase: str) -> tuple[int, bool] | None:
    """``nice<N>`` or ``nice<N>-1thread`` as (N, one thread); None for any other phase."""
    level = phase.removesuffix("-1thread").removeprefix("nice")
    return (int(level), phase.endswith("-1thread")) if phase.startswith("nice") and level.isdigit() else None


def training_process(url: str, reviews: list[str], corpus: str, epochs: int, nice: int, one_thread: bool) -> dict:
    """The class asks in rounds while ``python -m sentiment train`` runs beside the app, until it ends."""
    out = Path(tempfile.mkdtemp(prefix="train-process-")) / "run"
    env = {**os.environ, **({"OMP_NUM_THREADS": "1"} if one_thread else {})}
    command = ["nice", "-n", str(nice), sys.executable, "-m", "sentiment", "train", "--preset", "classroom",
               "--epochs", str(epochs), "--data", corpus, "--out", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rounds = load_while(lambda: process.poll() is None, url, reviews, CLASS)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode})")
    return {"class_p95_ms": pooled(rounds), "tokens_per_s": mean_tokens_per_s(out),
            "seconds": time.perf_counter() - started, "requests": sum(len(r["ms"]) for r in rounds)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--phase", action="append", required=True,
                   help="none, tab, nice<N> or nice<N>-1thread (repeat, in the order to run)")
    p.add_argument("--corpus", required=True, help="a tokenized corpus (python -m sentiment tokenize) to train on")
    p.add_argument("--data", default=default_data(), help="IMDB archive or folder: its test reviews are asked")
    p.add_argument("--epochs", type=int, default=2, help="epochs of each training process")
    args = p.parse_args(argv)
    for phase in args.phase:
        if phase not in ("none", "tab") and nice_phase(phase) is None:
            p.error(f"unknown phase {phase!r}")
    n = CLASS.clients * CLASS.requests
    reviews = pick_reviews([r.text for r in read_reviews(args.data)["test"]], 1 + 5 * n + CLASS.rounds * n,
                           candidates=4000)
    asked, quiet = reviews[1:1 + 5 * n], reviews[1 + 5 * n:]
    runs = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    with running_app(ROOT / "checkpoints" / "default", args.data, env={"SENTIMENT_RUNS": str(runs)}) as app:
        first_answer(app, reviews[0])
        for phase in args.phase:
            if phase == "none":
                rounds = [run_load(app.url, quiet[n * i:n * (i + 1)], CLASS.clients, CLASS.requests)
                          for i in range(CLASS.rounds)]
                result = {"class_p95_ms": pooled(rounds)}
            elif phase == "tab":
                run, rounds = load_while_training(app.url, runs, asked, CLASS)
                result = {"class_p95_ms": pooled(rounds), "tokens_per_s": run["tokens_per_s"],
                          "seconds": run["seconds"], "requests": sum(len(r["ms"]) for r in rounds)}
            else:
                result = training_process(app.url, asked, args.corpus, args.epochs, *nice_phase(phase))
            print(json.dumps({"phase": phase} | {k: round(v, 1) for k, v in result.items()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
