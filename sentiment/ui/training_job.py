"""One training run at a time, in a background thread that any request can follow or stop.

    job = start(RunRequest({"cell": "gru"}, TrainConfig(epochs=2, max_train=400)))  # Busy if one runs
    for snapshot in job.follow():   # the web page streams these; a closed page leaves the run going
        print(snapshot.stage, len(snapshot.records))
    current().stop()                # from any request: ends the run between batches

The run is ``sentiment.train.train`` itself (the loop the command line drives); this module only
threads it, keeps what it yielded, and tests the best epoch at the end.

    SENTIMENT_TRAINING   "on" (default) or "off": whether the app may train at all
    SENTIMENT_MAX_TRAIN  the most training reviews one run may use (default: no cap)
"""
from __future__ import annotations

import logging
import os
import shlex
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..checkpoint import load_checkpoint, write_metrics
from ..data import DataError, resolve_data_path
from ..pretrain import PretrainProgress
from ..text import corpus_cache_file, is_corpus_file
from ..train import Done, EpochRecord, Progress, Stage, TrainConfig, evaluate, prepare_data, resolve_device, train
from . import limits, serving
from .models import runs_dir

ENV_TRAINING = "SENTIMENT_TRAINING"
ENV_MAX_TRAIN = "SENTIMENT_MAX_TRAIN"
MIN_TRAIN = 100  # the smallest run the app offers
TEST_SAMPLE = 1000  # reviews in the quick test: a seeded sample of the 25,000 test reviews
# a run's torch threads: the model thread's OpenMP team stays the only one (sentiment/ui/compute.py), so neither is
# throttled; 1.5x the tokens/s of the host's threads under a class's load (docs/experiments.md)
TRAIN_THREADS = 1

log = logging.getLogger(__name__)


class Busy(RuntimeError):
    """A run is already going; the message says which."""


def training_policy() -> tuple[bool, int | None]:
    """(training allowed, most training reviews per run) from the environment; bad values raise."""
    switch = os.environ.get(ENV_TRAINING, "on").strip().lower()
    if switch not in ("on", "off"):
        raise ValueError(f"{ENV_TRAINING} must be on or off; got {switch!r}")
    cap = os.environ.get(ENV_MAX_TRAIN, "").strip()
    if cap and not (cap.isdigit() and int(cap) >= MIN_TRAIN):
        raise ValueError(f"{ENV_MAX_TRAIN} must be a whole number of reviews, at least {MIN_TRAIN}; got {cap!r}")
    return switch == "on", int(cap) if cap else None


def reading_message(data, cfg: TrainConfig) -> str:
    """The status line while the data is read: tokenized the first time (the full archive's 50,000 reviews take
    about a minute on 2 cores), from the cache after that."""
    try:
        cached = is_corpus_file(data) or corpus_cache_file(data, cfg.lowercase, cfg.keep_html).exists()
    except (OSError, DataError):  # the reading itself says what is wrong with the data
        return f"Reading {data}"
    if cached:
        return f"Reading {data} (tokenized before)"
    return (f"Reading and tokenizing {data} for the first time (the full IMDB archive's 50,000 reviews take about "
            "a minute; later runs read the cache)")


def data_summary(prepared) -> str:
    """The run's data in one line: its reviews, what the recipe made of them, validation, the vocabulary."""
    reviews = prepared.train_reviews
    made = len(prepared.train) - reviews  # the recipe's windows and negation pairs, after the reviews
    return (f"{reviews:,} training reviews" + (f" (and {made:,} windows and negation pairs made of them)" if made else "")
            + f", {len(prepared.val):,} validating, a vocabulary of {len(prepared.vocab):,}")


@dataclass
class RunRequest:
    model_options: dict  # ModelConfig fields other than vocab_size
    cfg: TrainConfig
    full_test: bool = False  # test on every test review, not a seeded sample of TEST_SAMPLE


@dataclass
class Snapshot:
    """What a run has done so far; a copy, safe to read while the run goes on."""
    name: str  # as the predict tab lists it: "runs/<folder>"
    out_dir: str
    device: str  # "CPU", or "GPU (its name)"
    epochs: int
    stage: str = "Starting"
    data: str = ""  # how many reviews train and validate, once the data is read
    progress: Progress | PretrainProgress | None = None  # the latest batch (of sentiment, or of next words first)
    records: list[EpochRecord] = field(default_factory=list)
    done: Done | None = None
    test: dict | None = None  # accuracy, loss, n, confusion, sample (True: a seeded sample)
    error: str | None = None
    finished: bool = False
    stopping: bool = False


class TrainingJob:
    def __init__(self, request: RunRequest, out_dir: Path):
        self.request, self.out_dir = request, out_dir
        device = resolve_device(request.cfg.device)
        label = "CPU" if device.type == "cpu" else f"GPU ({torch.cuda.get_device_name(device)})"
        self._state = Snapshot(f"runs/{out_dir.name}", str(out_dir), label, request.cfg.epochs)
        self._changed = threading.Condition()
        self._version = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"train {out_dir.name}", daemon=True)

    def run_in_background(self) -> None:
        self._thread.start()

    def snapshot(self) -> Snapshot:
        with self._changed:
            return replace(self._state, records=list(self._state.records))

    def stop(self) -> None:
        self._stop.set()
        self._update(stopping=True)

    def follow(self, interval: float = 0.25) -> Iterator[Snapshot]:
        """Snapshots as the run changes, at most one per ``interval`` seconds, the last when it ends.

        Every epoch gets a snapshot of its own before the final one, however fast the epochs come.
        """
        seen, shown = -1, 0
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._version != seen, timeout=10)  # a heartbeat for slow stages
                seen = self._version
            snapshot = self.snapshot()
            for n in range(shown + 1, len(snapshot.records) + 1):
                if n < len(snapshot.records) or snapshot.finished:
                    yield replace(snapshot, records=snapshot.records[:n], done=None, test=None, finished=False)
            shown = len(snapshot.records)
            yield snapshot
            if snapshot.finished:
                return
            time.sleep(interval)

    def _update(self, **changes) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(self._state, name, value)
            self._version += 1
            self._changed.notify_all()

    def _run(self) -> None:
        request, cfg = self.request, self.request.cfg
        torch.set_num_threads(TRAIN_THREADS)
        try:
            data = resolve_data_path()  # IMDB_DATA, else the official archive (downloaded once)
            self._update(stage=reading_message(data, cfg))
            prepared = prepare_data(data, cfg, for_training=True)
            self._update(data=data_summary(prepared))
            def stop() -> bool:  # polled between batches: first give way to the requests being answered
                serving.give_way()
                return self._stop.is_set()

            for event in train(data, request.model_options, cfg, self.out_dir, stop=stop,
                               command=cli_command(request, self.out_dir), prepared=prepared):
                if isinstance(event, Stage):
                    self._update(stage=event.message)
                elif isinstance(event, (Progress, PretrainProgress)):
                    self._update(progress=event)
                elif isinstance(event, EpochRecord):
                    with self._changed:
                        self._state.records.append(event)
                    self._update()
                elif isinstance(event, Done):
                    self._update(done=event)
            shutil.rmtree(self.out_dir / "resume", ignore_errors=True)  # the app does not resume; keep runs/ small
            if self._state.done.best_epoch is not None:
                n = len(prepared.test) if request.full_test else min(TEST_SAMPLE, len(prepared.test))
                self._update(stage=f"Testing the best epoch on {n:,} test reviews")
                self._update(test=evaluate_on_test(self.out_dir, prepared.test, request.full_test))
        except Exception as err:  # the run ends either way; say why on the page and in the log
            log.exception("training run %s failed", self.out_dir)
            self._update(error=f"{type(err).__name__}: {err}")
        finally:
            removed = limits.prune_runs(runs_dir(), keep=self.out_dir)  # SENTIMENT_KEEP_RUNS, SENTIMENT_RUNS_MB
            if removed:
                log.info("removed the oldest runs to stay within the limits: %s", ", ".join(removed))
            self._update(finished=True)


def evaluate_on_test(out_dir: Path, test_split, full: bool) -> dict:
    """Accuracy of the saved (best) epoch on the test split or a seeded sample; kept in metrics.json."""
    model, _, _, metrics = load_checkpoint(out_dir, resolve_device("auto"))
    if not full and len(test_split) > TEST_SAMPLE:
        index = np.sort(np.random.default_rng(0).choice(len(test_split), TEST_SAMPLE, replace=False))
        test_split = test_split.subset(index)
    result = evaluate(model, test_split)
    metrics["test"] = {k: result[k] for k in ("accuracy", "loss", "n", "confusion")} | {"sample": not full}
    write_metrics(out_dir, metrics)
    return metrics["test"]


def cli_command(request: RunRequest, out_dir: Path) -> str:
    """The same run from the command line, recorded in metrics.json."""
    defaults = asdict(TrainConfig())
    options = {**request.model_options, **{k: v for k, v in asdict(request.cfg).items() if v != defaults[k]}}
    flags = {("lowercase", False): ["--cased"], ("keep_html", True): ["--keep-html"]}  # switches, not values
    args = ["--out", str(out_dir)] + [a for k, v in options.items()
                                      for a in flags.get((k, v), ["--" + k.replace("_", "-"), str(v)])]
    return "python -m sentiment train " + " ".join(shlex.quote(a) for a in args) + "  # from the app's train tab"


_lock = threading.Lock()
_current: TrainingJob | None = None


def current() -> TrainingJob | None:
    """The running job, or the last one to finish (None before the first)."""
    return _current


def start(request: RunRequest) -> TrainingJob:
    """Launch a run in ``runs_dir()/<cell>-<time>`` unless training is off, over the cap, or running."""
    global _current
    enabled, cap = training_policy()
    if not enabled:
        raise ValueError(f"Training is switched off on this server ({ENV_TRAINING}=off). "
                         "The predict tab still serves every trained model.")
    if cap is not None and (request.cfg.max_train is None or request.cfg.max_train > cap):
        asked = f"{request.cfg.max_train:,}" if request.cfg.max_train else "all"
        raise ValueError(f"This server trains on at most {cap:,} reviews per run ({ENV_MAX_TRAIN}={cap}); "
                         f"you asked for {asked}.")
    with _lock:
        if _current is not None and not _current.snapshot().finished:
            running = _current.snapshot()
            at = f"epoch {running.progress.epoch} of {running.epochs}" if running.progress else "preparing data"
            raise Busy(f"A training run is already going ({running.name}, {at}). One run at a time: "
                       "watch it with “Watch the current run”, or wait until it ends.")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out_dir = runs_dir() / f"{request.model_options['cell']}-{stamp}"
        suffix = 2
        while out_dir.exists():  # two quick runs in the same second
            out_dir = runs_dir() / f"{request.model_options['cell']}-{stamp}-{suffix}"
            suffix += 1
        _current = TrainingJob(request, out_dir)
        _current.run_in_background()
        return _current
