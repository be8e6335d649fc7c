"""Benchmarks: how fast the model answers, the app answers, batches score and training runs.

    python benchmarks/run.py --quick                       # under two minutes on 2 CPU cores
    python benchmarks/run.py                               # the full figures (all 25,000 test reviews)
    python benchmarks/run.py --only predict,app --checkpoint checkpoints/rnn

Prints one JSON object per line, ``{"name", "value", "unit", ...}``, to stdout; progress goes to
stderr, so ``python benchmarks/run.py --quick > bench.jsonl`` keeps only the figures. Figure names
ending in ``_1thread``, ``_no_onednn``, ``int8_`` and the like are the experiments that decide
which settings the app uses; ``sentiment/`` keeps the plain path unless one of them wins clearly.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: `python benchmarks/run.py`

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks import figures  # noqa: E402
from benchmarks.app_server import AppError, app_figures, running_app  # noqa: E402
from sentiment.checkpoint import CheckpointError  # noqa: E402
from sentiment.data import DataError, read_reviews, resolve_data_path  # noqa: E402
from sentiment.predict import DEFAULT_CHECKPOINT, Predictor  # noqa: E402
from sentiment.train import TrainConfig, prepare_data, resolve_device  # noqa: E402

TEAM_ARCHIVE = ROOT.parent / "shared" / "data" / "aclImdb_v1_labeled.tar.gz"  # the team machines' copy of the data
GROUPS = ("predict", "app", "batch", "tokenize", "int8", "train", "corpus", "classroom", "reliability")
LARGE_CHECKPOINT = ROOT / "checkpoints" / "large"  # the accuracy reference the default is compared with
SLOW_GROUPS = {"corpus", "classroom", "reliability"}  # minutes each: in the full run or with --only, never in --quick


@dataclass
class Sizes:
    predict_repeats: int  # timed explain calls per variant
    e2e_repeats: int  # timed requests to the running app
    classroom_clients: int  # students asking at once
    classroom_requests: int  # requests each student makes in a row
    batch_reviews: int | None  # test reviews scored per variant (None: all 25,000)
    tokenize_reviews: int  # reviews tokenized both ways
    val_reviews: int | None  # validation reviews for the int8 experiment (None: all)
    train_batches: int  # timed training batches per cell and per way
    train_rounds: int  # bucketed/padded alternations; the best round counts

    def distinct_reviews(self) -> int:
        """Reviews the latency figures need, none asked twice: the most that one group asks."""
        return max(self.predict_repeats + 2, self.e2e_repeats + 3 + self.classroom_clients * self.classroom_requests)


QUICK = Sizes(30, 20, 8, 2, 500, 500, 250, 4, 1)  # within two minutes with the 512-unit default
FULL = Sizes(200, 100, 30, 3, None, 5000, None, 30, 2)


def emit(rec: dict) -> None:
    print(json.dumps(rec), flush=True)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def default_data() -> str | None:
    if os.environ.get("IMDB_DATA"):
        return os.environ["IMDB_DATA"]
    return str(TEAM_ARCHIVE) if TEAM_ARCHIVE.exists() else None


def snapshot(checkpoint: Path) -> Path:
    """A private copy of the checkpoint: one being trained is rewritten after every epoch."""
    if not (checkpoint / "config.json").exists():
        raise CheckpointError(f"No checkpoint at {checkpoint}. Pass --checkpoint DIR (a folder with config.json), "
                              f"or train one with `python -m sentiment train --out DIR`.")
    copy = Path(tempfile.mkdtemp(prefix="bench-ckpt-")) / checkpoint.name
    shutil.copytree(checkpoint, copy, ignore=shutil.ignore_patterns("resume"))
    return copy


def run(args, sizes: Sizes) -> int:
    groups = set(args.only.split(",")) if args.only else set(GROUPS) - (SLOW_GROUPS if args.quick else set())
    unknown = groups - set(GROUPS)
    if unknown:
        raise SystemExit(f"--only: unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    started = time.perf_counter()
    data = resolve_data_path(args.data)
    device = resolve_device(args.device)
    failures = 0
    emit(figures.record("cpu_count", os.cpu_count(), "cores", torch_threads=torch.get_num_threads(),
                        torch=torch.__version__, python=platform.python_version(), machine=platform.machine(),
                        mode="quick" if args.quick else "full", checkpoint=str(args.checkpoint), data=str(data),
                        train_device=device.type))

    predictor = checkpoint = None
    if groups & {"predict", "app", "batch", "int8", "reliability"}:
        checkpoint = snapshot(Path(args.checkpoint))
        predictor = Predictor.load(checkpoint)
    if groups & {"predict", "app", "batch", "tokenize", "int8", "reliability"}:
        say(f"reading the test reviews from {data}")
        test = read_reviews(data)["test"]
        texts, labels = [r.text for r in test], np.array([r.label for r in test])
        # distinct reviews of about 250 tokens, so no cache can answer a timed request: the first is "the review"
        reviews = figures.pick_reviews(texts, sizes.distinct_reviews())
        review = reviews[0]
        payload_texts = {n: figures.pick_reviews(texts, 1, target_tokens=n)[0] for n in (250, 300, 800)}
        order = np.random.default_rng(0).permutation(len(texts))[:sizes.batch_reviews or len(texts)]
        sample_texts, sample_labels = [texts[i] for i in order], labels[order]

    if "predict" in groups:
        say("predict: Predictor.explain, batch of one, every per-token view")
        emit_all(figures.first_call(checkpoint, review))
        if args.compare and Path(args.compare).resolve() != Path(args.checkpoint).resolve():
            say(f"predict: the same reviews explained by {args.compare} too, in turn, for the ratio")
            other = Predictor.load(args.compare)
            model_figures, other_figures = figures.predict_model_pair(predictor, other, reviews,
                                                                      sizes.predict_repeats,
                                                                      checkpoint=str(args.compare))
            emit_all(model_figures + other_figures)
            emit(figures.record("predict_model_vs_compare", model_figures[0]["value"] / other_figures[0]["value"], "x",
                                note=f"predict_model p50 of {args.checkpoint} over {args.compare}'s, "
                                     f"each review read by both in turn"))
            del other
        else:
            model_figures = figures.predict_model(predictor, reviews, sizes.predict_repeats)
            emit_all(model_figures)
        emit_all(figures.suggest_edits_figures(predictor, reviews, min(sizes.predict_repeats, 10),
                                               model_figures[0]["value"]))
        emit_all(figures.predict_model(predictor, reviews, sizes.predict_repeats, name="predict_model_1thread",
                                       threads=1))
        with figures.onednn(False):
            emit_all(figures.predict_model(predictor, reviews, sizes.predict_repeats, name="predict_model_no_onednn"))
        ids = torch.tensor(predictor.vocab.encode(predictor.explain(review).tokens))
        for mode in (torch.no_grad, torch.inference_mode):
            with mode():
                seconds = figures.time_calls(lambda: predictor.model.inspect(ids), sizes.predict_repeats)
            emit_all(figures.latency_records(f"inspect_{mode.__name__}", seconds, tokens=len(ids),
                                             note="model.inspect alone, no tokenization"))
    if "app" in groups:
        # as shipped, then with one torch thread: on 2 cores, concurrent requests with 2 threads each oversubscribe
        for variant, env in (("", {}), ("_1thread", {"OMP_NUM_THREADS": "1"})):
            say(f"app{variant}: python app.py in its own process, asked through gradio_client")
            try:
                with running_app(checkpoint, data, env=env) as app:
                    emit_all(app_figures(app, reviews, sizes.e2e_repeats, sizes.classroom_clients,
                                         sizes.classroom_requests, variant,
                                         payload_texts=None if variant else payload_texts))
            except AppError as err:
                failures += 1
                say(f"app{variant}: {err}")
                emit(figures.record(f"predict_e2e{variant}_p50_ms", None, "ms", error=str(err).splitlines()[0]))
    if "batch" in groups:
        say(f"batch: Predictor.predict on {len(sample_texts)} test reviews, tokenization included")
        emit_all(figures.batch_scoring(predictor, sample_texts, sample_labels))
        emit_all(figures.batch_scoring(predictor, sample_texts, sample_labels, name="batch_reviews_per_s_1thread",
                                       threads=1))
        emit_all(figures.batch_scoring(predictor, sample_texts, sample_labels, name="batch_reviews_per_s_batch256",
                                       batch_size=256))
    if "tokenize" in groups:
        say("tokenize: spaCy's batched tokenizer against one call per review")
        emit_all(figures.tokenization(sample_texts[:sizes.tokenize_reviews]))
    if "int8" in groups:
        held_out, split_name = figures.held_out_reviews(
            prepare_data(data, predictor.train_config(), vocab=predictor.vocab), sizes.val_reviews)
        say(f"int8: dynamic quantization of Linear/LSTM/GRU layers, on the {split_name} split")
        emit_all(figures.int8_experiment(predictor, held_out, reviews, sizes.predict_repeats, split_name))
    if "train" in groups:
        say(f"train: default-size models on {device.type}, the project's batches and the homework's")
        prepared = prepare_data(data, TrainConfig())
        vocab_size = len(prepared.vocab)
        emit_all(figures.train_throughput(prepared.train, vocab_size, batches=sizes.train_batches, device=device))
        emit_all(figures.bucketed_vs_padded(prepared.train, vocab_size, batches=sizes.train_batches,
                                            rounds=sizes.train_rounds, device=device))
        if device.type == "cpu":
            emit_all(figures.train_throughput(prepared.train, vocab_size, cells=("lstm",), batches=sizes.train_batches,
                                              device=device, onednn_enabled=False))
    if "corpus" in groups:
        say("corpus: read and tokenize all 50,000 reviews into an empty cache, then load them from it")
        emit_all(corpus_figures(data))
    if "reliability" in groups:
        from benchmarks.reliability import Scale, reliability_figures
        say("reliability: 20 clients at once, the same while the Train tab trains, 1,000 requests, a 5,000-review file")
        many = figures.pick_reviews(texts, Scale().reviews_needed(), candidates=6000)
        file_texts = [texts[i] for i in np.random.default_rng(1).permutation(len(texts))[:5000]]
        emit_all(reliability_figures(checkpoint, data, many, file_texts))
    if "classroom" in groups:
        say("classroom: the Train tab's default run (2 x 64 LSTM, 2,000 reviews, 5 epochs), through train()")
        emit_all(classroom_run(data, device))
    if checkpoint:
        shutil.rmtree(checkpoint.parent, ignore_errors=True)
    emit(figures.record("benchmark_wall_s", time.perf_counter() - started, "s", failures=failures))
    return 1 if failures else 0


def corpus_figures(data) -> list[dict]:
    from sentiment.text import tokenize_corpus
    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("SENTIMENT_CACHE")
        os.environ["SENTIMENT_CACHE"] = cache
        try:
            start = time.perf_counter()
            corpus = tokenize_corpus(data)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            tokenize_corpus(data)
            cached = time.perf_counter() - start
        finally:
            if previous is None:
                del os.environ["SENTIMENT_CACHE"]
            else:
                os.environ["SENTIMENT_CACHE"] = previous
    n = sum(len(s) for s in corpus.splits.values())
    tokens = sum(int(s.offsets[-1]) for s in corpus.splits.values())
    return [figures.record("tokenize_corpus_first_run_s", cold, "s", reviews=n, tokens=tokens),
            figures.record("tokenize_corpus_cached_s", cached, "s", reviews=n)]


def classroom_run(data, device) -> list[dict]:
    """The Train tab's default run (its form's values, CLASSROOM), through the same train() the tab drives."""
    from sentiment.train import Done, train
    from sentiment.ui.train_tab import CLASSROOM, run_request
    from sentiment.ui.training_job import TRAIN_THREADS
    request = run_request(*CLASSROOM.values())
    cfg = dataclasses.replace(request.cfg, device=device.type)
    with tempfile.TemporaryDirectory() as out, figures.torch_threads(TRAIN_THREADS):  # the torch threads the tab gives a run
        start = time.perf_counter()
        done = [e for e in train(data, request.model_options, cfg, out) if isinstance(e, Done)][-1]
        seconds = time.perf_counter() - start
    return [figures.record("classroom_train_s", seconds, "s", device=device.type, best_val_acc=done.best_val_acc,
                           threads=TRAIN_THREADS, note="the Train tab's defaults, data reading included", **CLASSROOM)]


def emit_all(records: list[dict]) -> None:
    for rec in records:
        emit(rec)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples: finishes within two minutes")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="checkpoint folder (default: %(default)s)")
    parser.add_argument("--compare", default=str(LARGE_CHECKPOINT) if LARGE_CHECKPOINT.exists() else None,
                        help="a second checkpoint whose explain time the predict group measures in the same run, "
                             "for the ratio (default: %(default)s)")
    parser.add_argument("--data", default=default_data(),
                        help="aclImdb_v1.tar.gz or an aclImdb/ folder (default: $IMDB_DATA, else the team archive)")
    parser.add_argument("--only", help=f"comma-separated groups to run, of: {', '.join(GROUPS)}")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where training runs")
    args = parser.parse_args(argv)
    try:
        return run(args, QUICK if args.quick else FULL)
    except (CheckpointError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
