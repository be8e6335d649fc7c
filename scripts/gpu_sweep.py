"""A time-boxed sweep of training recipes on one GPU, then the chosen recipe on every training review.

    python -m sentiment tokenize --data aclImdb_v1.tar.gz --out data/imdb-tokens.npz     # where spaCy is
    python scripts/gpu_sweep.py --data data/imdb-tokens.npz --out results/ --budget 540  # on the GPU

Phase 1 trains one set of the recipes below (each is `default`'s preset with some flags changed), in this order,
``--concurrency`` at a time, each validated on whole movies (the preset's movie split). Phase 2 takes
the recipe with the best validation accuracy, a choice made here before any test review is scored, and
trains it again on all 25,000 training reviews (``--val-fraction 0``, the chosen run's fitted temperature
borrowed), and, beside it, once more with another seed to show the spread. Runs still going at their
phase's deadline are interrupted (their best epoch so far is kept and they are marked stopped).
Everything lands in ``--out``: summary.json (every run's command, settings and per-epoch history),
sweep.log, and the best checkpoints as tar files cut in pieces small enough to copy back
(``cat NAME.tar.* | tar x``).

Small recurrent networks leave most of a large GPU idle, and processes that share one without help take
turns. With ``--mps`` (the default on CUDA) the script first starts NVIDIA's Multi-Process Service, so
that the runs' kernels execute side by side; if it does not start, the runs share the GPU as they are,
``--concurrency-without-mps`` at a time.

``--recipes`` picks the set: pretraining, distillation (the two rounds that chose today's `default`),
negation (more windows, negation pairs weighted up), or turns (the last state pooled, turn pairs by weight).
``--teacher-first`` first trains `large`'s recipe on the same movie split, so that it never reads the
validation movies, and phase 1 learns from it instead of `checkpoints/large`: the shipped teacher read every
training review, so it flatters, on validation, the students that learn more from it. Phase 2's run on every review then learns from `checkpoints/large` again
(every review is what it is for), and no second seed runs (its split would hold movies the teacher read).

``--suite-tokens FILE`` makes the choice rule for recipes that teach behaviour (turns, say): a recipe qualifies
if its validation accuracy is within ``--val-guard`` of the set's first recipe (the reference), and the
qualifier that passes most of the behaviour suite's dev half is chosen (validation breaks ties). The dev cases
come tokenized, so the GPU host needs no spaCy: ``python scripts/gpu_sweep.py --prepare-suite FILE`` writes
them where spaCy is. Every phase-1 run's dev figures go to summary.json.

``--dry-run`` does all of it on the CPU in a few minutes with 200 reviews and one epoch per run, to test
this script before it is given GPU time.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `sentiment`, for the suite's dev half

COMMON = "--preset default --weights-dtype float16"
# (name, options): the priority order; the first ones run first. `default`'s own recipe first, as the
# reference measured alongside the others; then next-word pretraining (3 or 6 epochs) at a lower learning
# rate, adversarial training, both, more sentiment epochs and more negation pairs.
PRETRAINING = [
    ("ref", ""),
    ("lm3", "--pretrain-epochs 3 --lr 1e-3"),
    ("lm3-adv5", "--pretrain-epochs 3 --lr 1e-3 --adversarial 5"),
    ("adv5", "--adversarial 5"),
    ("lm3-lr2", "--pretrain-epochs 3"),
    ("lm6", "--pretrain-epochs 6 --lr 1e-3"),
    ("lm3-e8", "--pretrain-epochs 3 --lr 1e-3 --epochs 8"),
    ("lm3-neg40k", "--pretrain-epochs 3 --lr 1e-3 --negations 40000"),
]
# a second round: how strongly and how long the student learns from the teacher
DISTILLATION = [
    ("w3", "--windows 3"),
    ("d08", "--distill 0.8"),
    ("d1", "--distill 1.0"),
    ("w3-d08", "--windows 3 --distill 0.8"),
    ("t1", "--distill-temperature 1"),
    ("e3", "--epochs 3"),
    ("lr1", "--lr 1e-3"),
    ("adv2", "--adversarial 2"),
]
# a third round: more windows, and the negation pairs weighted up (more of the teacher washed them out).
# Compare these with --teacher-first: a teacher that saw the validation movies flatters students that
# lean on it more, and more windows lean on it more.
NEGATION = [
    ("w3", ""),
    ("w3-negw2", "--negation-weight 2"),
    ("w3-negw5", "--negation-weight 5"),
    ("w5", "--windows 5"),
    ("w10", "--windows 10"),
    ("w5-negw2", "--windows 5 --negation-weight 2"),
    ("w10-negw5", "--windows 10 --negation-weight 5"),
    ("w1-negw2", "--windows 1 --negation-weight 2"),
]
# a fourth round: the last state pooled beside max and mean, and turn pairs at several weights, from scratch on
# the movie split (docs/experiments.md: one CPU epoch of turns moved the suite's late turns 12 -> 31 of 32 on
# its dev half, but cost validation read by a start model that had trained on it, so it could not say what
# turns cost on unseen reviews; here validation is unseen). Every recipe has the shipped default's four
# kinds of negation pair at weight 2; run it with --teacher-first. Each turn ends with a review's own ending
# (--turn-last ending): on the CPU, from starts that never read the validation movies, turns ending with any
# window cost 0.12-0.36 points of validation, turns ending with an ending -0.16 to +0.24 (three seeds each).
KINDS = "--negation-kinds be,common,verb,fragment --negation-weight 2"
ENDING = "--turn-last ending"
TURNS = [
    ("kinds", KINDS),
    ("last", f"{KINDS} --pooling maxmeanlast"),
    ("last-t025", f"{KINDS} --pooling maxmeanlast --turns 10000 --turn-weight 0.25 {ENDING}"),
    ("last-t05", f"{KINDS} --pooling maxmeanlast --turns 10000 --turn-weight 0.5 {ENDING}"),
    ("last-t1", f"{KINDS} --pooling maxmeanlast --turns 10000 --turn-weight 1 {ENDING}"),
    ("last-t2", f"{KINDS} --pooling maxmeanlast --turns 10000 --turn-weight 2 {ENDING}"),
    ("t1", f"{KINDS} --turns 10000 --turn-weight 1 {ENDING}"),
    ("last-t1-20k", f"{KINDS} --pooling maxmeanlast --turns 20000 --turn-weight 1 {ENDING}"),
]
RECIPE_SETS = {"pretraining": PRETRAINING, "distillation": DISTILLATION, "negation": NEGATION, "turns": TURNS}
# --teacher-first: `large`'s recipe on the same movie split (seed 0), so it never reads the validation movies
HONEST_TEACHER = ("teacher-movie", "--preset large --val-fraction 0.1 --val-split movie --weights-dtype float16")


class Run:
    def __init__(self, name: str, options: str, args, phase: int, common: str | None = None):
        self.name, self.phase = name, phase
        self.out_dir = Path(args.work) / name
        self.argv = [sys.executable, "-m", "sentiment", "train", "--data", args.data, "--out", str(self.out_dir),
                     *shlex.split(COMMON if common is None else common), *shlex.split(options)]
        self.argv += ["--device", "cpu", "--max-train", "200", "--epochs", "1"] if args.dry_run else ["--device", "cuda"]
        self.log = Path(args.work) / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.started = self.ended = None
        self.stopped = False

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(self.argv, stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env)
        self.started = time.time()
        say(f"start {self.name}: {shlex.join(self.argv[1:])}")

    def poll(self) -> bool:
        """True once the process has ended."""
        if self.proc and self.ended is None and self.proc.poll() is not None:
            self.ended = time.time()
            say(f"end {self.name}: exit {self.proc.returncode} after {self.ended - self.started:.0f} s")
        return self.ended is not None

    def interrupt(self) -> None:
        if self.proc and not self.poll():
            self.stopped = True
            self.proc.send_signal(signal.SIGINT)  # the CLI keeps the best epoch so far

    def metrics(self) -> dict:
        try:
            return json.loads((self.out_dir / "metrics.json").read_text())
        except (OSError, ValueError):
            return {}

    def summary(self) -> dict:
        m = self.metrics()
        return {"name": self.name, "phase": self.phase, "command": m.get("command"),
                "exit": self.proc.returncode if self.proc else None, "stopped": self.stopped,
                "seconds": (self.ended or time.time()) - self.started if self.started else None,
                "best_epoch": m.get("best_epoch"), "val_accuracy": m.get("val_accuracy"),
                "epochs_done": len(m.get("history", [])), "history": m.get("history"),
                "hardware": m.get("hardware"), "log_tail": self.log.read_text()[-1500:] if self.log.exists() else ""}


T0 = time.time()
LOG: list[Path] = []  # sweep.log, once --out is known


def say(message: str) -> None:
    line = f"[{time.time() - T0:6.0f} s] {message}"
    print(line, flush=True)
    for path in LOG:
        with open(path, "a") as f:
            f.write(line + "\n")


def start_mps() -> bool:
    """Start NVIDIA's Multi-Process Service so that the runs' kernels share the GPU side by side; True if a
    CUDA process then works under it. If not, the daemon is stopped again and the runs share the GPU as usual."""
    pipe, logs = Path("/tmp/sentiment-mps/pipe"), Path("/tmp/sentiment-mps/log")
    pipe.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    os.environ.update(CUDA_MPS_PIPE_DIRECTORY=str(pipe), CUDA_MPS_LOG_DIRECTORY=str(logs))
    probe = [sys.executable, "-c", "import torch; x = torch.ones(1000, device='cuda'); print(float((x @ x).item()))"]
    try:
        subprocess.run(["nvidia-cuda-mps-control", "-d"], check=True, timeout=20, capture_output=True)
        done = subprocess.run(probe, timeout=60, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == "1000.0":
            say("MPS started: the runs share the GPU side by side")
            return True
        say(f"MPS started but CUDA failed under it: {done.stderr[-500:]}")
    except (OSError, subprocess.SubprocessError) as err:
        say(f"MPS did not start: {err}")
    stop_mps()
    return False


def stop_mps() -> None:
    try:
        subprocess.run(["nvidia-cuda-mps-control"], input=b"quit\n", timeout=20, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        pass
    for name in ("CUDA_MPS_PIPE_DIRECTORY", "CUDA_MPS_LOG_DIRECTORY"):
        os.environ.pop(name, None)


def run_all(runs: list[Run], concurrency: int, launch_until: float, stop_at: float) -> None:
    """Run ``runs`` in order, ``concurrency`` at a time; none starts after ``launch_until``; all stop by ``stop_at``."""
    queue, active = list(runs), []
    while queue or active:
        for r in [r for r in active if r.poll()]:
            if r.proc.returncode not in (0, 130) and not r.metrics().get("history"):
                say(f"{r.name} failed before its first epoch:\n{r.log.read_text()[-3000:]}")
                if time.time() - T0 < 120:  # a broken setup, not a bad recipe: stop before spending the GPU time
                    for other in active + queue:
                        if other.proc and not other.poll():
                            other.proc.kill()
                    raise SystemExit(3)
        active = [r for r in active if not r.poll()]
        while queue and len(active) < concurrency and time.time() < launch_until:
            run = queue.pop(0)
            run.start()
            active.append(run)
        if time.time() >= launch_until:
            queue.clear()
        if time.time() >= stop_at and active:
            say(f"deadline: interrupting {', '.join(r.name for r in active)}")
            for r in active:
                r.interrupt()
            grace = time.time() + 20
            while time.time() < grace and not all(r.poll() for r in active):
                time.sleep(0.5)
            for r in active:
                if not r.poll():
                    r.proc.kill()
                    r.proc.wait()
                    r.poll()
            return
        time.sleep(1)


def pack(run: Run, out: Path, piece_mb: int = 15) -> list[str]:
    """``run``'s checkpoint (without resume/) as out/NAME.tar.0, .1, ... each under ``piece_mb`` MB."""
    tar_path = out / f"{run.name}.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(run.out_dir, arcname=run.name, filter=lambda m: None if "/resume" in m.name or m.name.endswith(".lock") else m)
    data, pieces = tar_path.read_bytes(), []
    tar_path.unlink()
    for i in range(0, len(data), piece_mb << 20):
        piece = out / f"{run.name}.tar.{i // (piece_mb << 20)}"
        piece.write_bytes(data[i:i + (piece_mb << 20)])
        pieces.append(piece.name)
    return pieces


def prepare_suite(path: Path) -> None:
    """Write the behaviour suite's dev texts with their tokens, cased and lowercased (needs spaCy)."""
    from sentiment import behaviour
    from sentiment.text import tokenize_many

    texts = suite_texts()
    tokens = {str(lower).lower(): dict(zip(texts, tokenize_many(texts, lower))) for lower in (True, False)}
    path.write_text(json.dumps({"suite_sha256": behaviour.suite_digest(), "tokens": tokens}))
    say(f"{len(texts)} texts of the suite's dev half, tokenized, in {path}")


def suite_texts() -> list[str]:
    from sentiment import behaviour

    return behaviour.case_texts(behaviour.expand(behaviour.load_suite(), "dev"))


def read_suite_tokens(path: Path) -> dict:
    """The file ``--prepare-suite`` wrote, checked against this checkout's suite before any GPU time is spent."""
    from sentiment import behaviour

    data = json.loads(path.read_text())
    missing = [t for t in suite_texts() if t not in data["tokens"]["true"]]
    if data["suite_sha256"] != behaviour.suite_digest() or missing:
        raise SystemExit(f"{path} was made from another suite ({len(missing)} texts missing): make it again "
                         "with --prepare-suite")
    return data["tokens"]


def suite_dev(run: Run, tokens: dict) -> dict | None:
    """The behaviour suite's dev half on ``run``'s checkpoint (its own temperature), without spaCy:
    {"pass_rate", "passed", "n", "by_capability", "sure_short"}; None if the checkpoint cannot be read."""
    from sentiment import behaviour
    from sentiment.checkpoint import CheckpointError
    from sentiment.predict import Predictor

    try:
        predictor = Predictor.load(run.out_dir)
    except (CheckpointError, OSError) as err:
        say(f"{run.name}: no checkpoint to read the suite with ({err})")
        return None
    cased = tokens[str(predictor.lowercase).lower()]
    logits = lambda texts: predictor.token_logits([cased[t] for t in texts]).numpy()  # (n,)
    overall = behaviour.summarize(behaviour.run(behaviour.expand(behaviour.load_suite(), "dev"), logits), "dev")[1]
    return {k: overall[k] for k in ("pass_rate", "passed", "n", "by_capability", "sure_short")}


def choose(phase1: list[Run], val: dict, dev: dict | None, guard: float) -> tuple[Run | None, str]:
    """The phase-1 run that phase 2 trains on every review, and why. Finished runs before stopped ones.
    Without ``dev``: the best validation accuracy. With it: among the runs within ``guard`` of the first
    recipe's validation, the best dev pass rate (then validation)."""
    scored = sorted([r for r in phase1 if val[r.name] is not None], key=lambda r: -val[r.name])
    finished = [r for r in scored if not r.stopped] or scored
    reference = phase1[0] if phase1 else None
    if dev is None or reference is None or val.get(reference.name) is None:
        why = "" if dev is None else f" (the reference {reference.name if reference else '-'} has no validation)"
        return (finished[0] if finished else None), "the best validation accuracy" + why
    floor = val[reference.name] - guard
    qualified = [r for r in finished if val[r.name] >= floor and (dev.get(r.name) or {}).get("pass_rate") is not None]
    if not qualified:
        return reference, f"none qualified; the reference {reference.name}"
    best = max(qualified, key=lambda r: (dev[r.name]["pass_rate"], val[r.name]))
    return best, (f"the best suite dev pass rate ({dev[best.name]['pass_rate']:.3f}) of {len(qualified)} runs with "
                  f"validation >= {floor:.4f} ({reference.name}'s less {guard})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="the tokenized corpus (.npz) or the data set")
    p.add_argument("--out", help="where summary.json, sweep.log and the packed checkpoints go")
    p.add_argument("--work", default="runs/gpu", help="where the runs train")
    p.add_argument("--budget", type=float, default=540, help="seconds for everything, packing included")
    p.add_argument("--concurrency", type=int, default=8, help="phase-1 runs sharing the GPU at a time (MPS)")
    p.add_argument("--concurrency-without-mps", type=int, default=4, help="the same where MPS does not start")
    p.add_argument("--mps", action=argparse.BooleanOptionalAction, default=True,
                   help="start NVIDIA's Multi-Process Service first (CUDA only)")
    p.add_argument("--pack", type=int, default=2, help="phase-1 checkpoints to pack, best validation first")
    p.add_argument("--recipes", choices=list(RECIPE_SETS), default="pretraining", help="which set of recipes")
    p.add_argument("--teacher-first", action="store_true",
                   help="first train `large`'s recipe on the movie split, and teach phase 1 with it (honest validation)")
    p.add_argument("--suite-tokens", type=Path, help="choose by the behaviour suite's dev half (--prepare-suite makes it)")
    p.add_argument("--val-guard", type=float, default=0.003,
                   help="with --suite-tokens: the validation a recipe may lose against the first recipe")
    p.add_argument("--prepare-suite", type=Path, help="only write the suite's dev texts tokenized to this file (needs spaCy)")
    p.add_argument("--dry-run", action="store_true", help="CPU, 200 reviews, 1 epoch per run: tests this script")
    args = p.parse_args()
    if args.prepare_suite:
        prepare_suite(args.prepare_suite)
        return 0
    if not (args.data and args.out):
        p.error("--data and --out are needed for a sweep")
    suite_tokens = read_suite_tokens(args.suite_tokens) if args.suite_tokens else None
    recipes = RECIPE_SETS[args.recipes]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    LOG.append(out / "sweep.log")
    end = T0 + args.budget - 25  # keep 25 s for packing

    mps = args.mps and not args.dry_run and start_mps()
    concurrency = args.concurrency if mps or args.dry_run else args.concurrency_without_mps
    dev: dict | None = None
    try:
        phase0, taught = [], ""
        if args.teacher_first:
            phase0 = [Run(*HONEST_TEACHER, args, 0, common="")]
            run_all(phase0, 1, launch_until=time.time() + 1, stop_at=T0 + 0.35 * args.budget)
            if not phase0[0].metrics():
                raise SystemExit("the teacher did not train: see its log")
            taught = f" --teacher {phase0[0].out_dir}"
        phase1 = [Run(name, options + taught, args, 1) for name, options in recipes]
        run_all(phase1, concurrency, launch_until=time.time() + 0.3 * args.budget, stop_at=T0 + 0.7 * args.budget)
        val = {r.name: r.metrics().get("val_accuracy") for r in phase1}
        scored = sorted([r for r in phase1 if val[r.name] is not None], key=lambda r: -val[r.name])
        if suite_tokens is not None:
            dev = {r.name: suite_dev(r, suite_tokens) for r in scored}
            for name, d in dev.items():
                say(f"suite dev {name}: " + (f"{d['passed']}/{d['n']} ({d['pass_rate']:.3f})" if d else "-"))
        best, why = choose(phase1, val, dev, args.val_guard)
        phase2 = []
        if best is not None:
            options = dict(recipes)[best.name]
            say(f"chosen: {best.name} (validation {val[best.name]}, "
                f"{'stopped early' if best.stopped else 'finished'}), by {why}")
            phase2 = [Run(best.name + "-full", f"{options} --val-fraction 0 --temperature-from {best.out_dir}", args, 2)]
            if not args.teacher_first:
                phase2.append(Run(best.name + "-seed1", options + " --seed 1", args, 2))
            run_all(phase2, 2, launch_until=time.time() + 1, stop_at=end)
    finally:
        if mps:
            stop_mps()

    runs = [r.summary() for r in phase0 + phase1 + phase2]
    for r in runs:
        r["suite_dev"] = (dev or {}).get(r["name"])
    summary = {"recipes": recipes, "common": COMMON, "chosen": best.name if best else None, "mps": mps,
               "chosen_by": why,
               "teacher_first": HONEST_TEACHER if args.teacher_first else None,
               "budget_s": args.budget, "dry_run": args.dry_run, "runs": runs}
    packed = {}
    # the chosen run, the runners-up (by validation; by the suite, the reference first, where it chose) and the
    # chosen recipe on every review
    others = [r for r in scored if r is not best]
    if dev:
        others.sort(key=lambda r: (r is not phase1[0], -((dev.get(r.name) or {}).get("pass_rate") or 0)))
    to_pack = ([best] + others[:args.pack - 1] + phase2[:1]) if best else []
    for run in to_pack:
        if run.metrics():
            packed[run.name] = pack(run, out)
    summary["packed"] = packed
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    for r in runs:
        say(f"{r['name']:14s} phase {r['phase']} val {r['val_accuracy']} best epoch {r['best_epoch']} of "
            f"{r['epochs_done']}{' (stopped)' if r['stopped'] else ''} in {r['seconds'] or 0:.0f} s")
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
