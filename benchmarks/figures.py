"""In-process figures: the model's latency, batch scoring, int8 quantization, training throughput.

Every function returns a list of records, ``{"name", "value", "unit", ...}``, ready to print as JSON.
``run.py`` decides what to measure and on which data; these functions only measure.
"""
from __future__ import annotations

import copy
import time
import warnings
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn

from sentiment.batching import EncodedSplit, bucket_batches, padded_batches
from sentiment.model import ModelConfig, SentimentRNN
from sentiment.predict import Predictor
from sentiment.text import tokenize, tokenize_many
from sentiment.train import TrainConfig, split_logits, train_step


def record(name: str, value, unit: str, **extra) -> dict:
    if isinstance(value, (float, np.floating)):
        value = round(float(value), 4)
    return {"name": name, "value": value, "unit": unit, **extra}


def latency_records(prefix: str, seconds: list[float], **extra) -> list[dict]:
    """``{prefix}_p50_ms`` and ``{prefix}_p95_ms`` of the timed calls."""
    ms = np.asarray(seconds) * 1000
    return [record(f"{prefix}_p{q}_ms", np.percentile(ms, q), "ms", n=len(ms), **extra) for q in (50, 95)]


def time_calls(fn, repeats: int, warmup: int = 2) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn()``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def time_each(fn, items: list, warmup: int = 2) -> list[float]:
    """Seconds taken by ``fn(item)`` for each item after the first ``warmup`` (untimed): with distinct
    reviews as items, no cache on the way can answer a repeat."""
    for item in items[:warmup]:
        fn(item)
    seconds = []
    for item in items[warmup:]:
        start = time.perf_counter()
        fn(item)
        seconds.append(time.perf_counter() - start)
    return seconds


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` intra-op threads (None: leave as is)."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def onednn(enabled: bool):
    """Switch oneDNN (mkldnn) kernels on or off; on CPU, float32 LSTMs use its fused RNN when on."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


def pick_review(texts: list[str], target_tokens: int = 250, candidates: int = 500) -> str:
    """Among the first ``candidates`` texts, the one whose token count is closest to ``target_tokens``."""
    return pick_reviews(texts, 1, target_tokens, candidates)[0]


def pick_reviews(texts: list[str], n: int, target_tokens: int = 250, candidates: int = 2000) -> list[str]:
    """``n`` distinct texts whose token counts are closest to ``target_tokens``, among the first
    ``candidates`` (at least ``n``), closest first: latencies of like-sized reviews, none asked twice."""
    pool = list(dict.fromkeys(texts[:max(candidates, n)]))
    counts = [len(tokens) for tokens in tokenize_many(pool)]
    order = np.argsort([abs(c - target_tokens) for c in counts], kind="stable")[:n]
    return [pool[i] for i in order]


def predict_model(predictor: Predictor, texts: list[str], repeats: int, name: str = "predict_model",
                  threads: int | None = None, **extra) -> list[dict]:
    """p50/p95 of ``Predictor.explain`` (batch of one, every per-token view), tokenization included, one
    distinct review a call (``texts`` needs repeats + 2 of them: two warm up)."""
    if len(texts) < repeats + 2:
        raise ValueError(f"predict_model needs {repeats + 2} distinct reviews; got {len(texts)}")
    with torch_threads(threads):
        seconds = time_each(predictor.explain, texts[:repeats + 2])
        threads_used = torch.get_num_threads()
    n_tokens = int(np.median([len(predictor.explain(t).tokens) for t in texts[2:repeats + 2]]))
    return latency_records(name, seconds, tokens=n_tokens, threads=threads_used, reviews="distinct", **extra)


def predict_model_pair(predictor: Predictor, other: Predictor, texts: list[str], repeats: int,
                       **other_extra) -> tuple[list[dict], list[dict]]:
    """``predict_model`` for two models over the same distinct reviews, interleaved: each review is explained by
    both, the one going first alternating from review to review. The machine's drift (its clock, other work, memory
    still being mapped early in a process) and what the second reading finds cached by the first (the speller's
    answers) then fall on both alike, so their ratio holds even where each p50 moves. Returns (predictor's records,
    other's records named ``predict_model_compare``)."""
    if len(texts) < repeats + 2:
        raise ValueError(f"predict_model_pair needs {repeats + 2} distinct reviews; got {len(texts)}")
    seconds = ([], [])
    for i, text in enumerate(texts[:repeats + 2]):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for k in order:
            start = time.perf_counter()
            (predictor, other)[k].explain(text)
            if i >= 2:  # the first two of each warm up
                seconds[k].append(time.perf_counter() - start)
    n_tokens = int(np.median([len(predictor.explain(t).tokens) for t in texts[2:repeats + 2]]))
    extra = dict(tokens=n_tokens, threads=torch.get_num_threads(), reviews="distinct", order="interleaved")
    return (latency_records("predict_model", seconds[0], **extra),
            latency_records("predict_model_compare", seconds[1], **extra, **other_extra))


def suggest_edits_figures(predictor: Predictor, texts: list[str], repeats: int, model_p50_ms: float) -> list[dict]:
    """p50/p95 of ``edits.suggest_edits`` (the editor's batched search of one-word edits), one distinct
    review a call, and its p50 as a multiple of ``predict_model_p50_ms`` from the same run."""
    from sentiment.edits import suggest_edits
    seconds = time_each(lambda text: suggest_edits(predictor, text), texts[:repeats + 2])
    records = latency_records("suggest_edits", seconds, reviews="distinct",
                              tokens=int(np.median([len(predictor.explain(t).tokens) for t in texts[2:repeats + 2]])))
    return records + [record("suggest_edits_vs_predict_model", records[0]["value"] / model_p50_ms, "x",
                             note="suggest_edits p50 over predict_model p50, same run")]


def first_call(checkpoint, text: str) -> list[dict]:
    """What a cold model costs: loading the checkpoint, then the first and the second explain."""
    start = time.perf_counter()
    predictor = Predictor.load(checkpoint)
    loaded = time.perf_counter()
    predictor.explain(text)
    first = time.perf_counter()
    predictor.explain(text)
    second = time.perf_counter()
    return [record("load_checkpoint_ms", (loaded - start) * 1000, "ms"),
            record("predict_model_first_call_ms", (first - loaded) * 1000, "ms",
                   note="first explain after loading (tokenizer set-up, kernel warm-up)"),
            record("predict_model_second_call_ms", (second - first) * 1000, "ms")]


def batch_scoring(predictor: Predictor, texts: list[str], labels: np.ndarray, name: str = "batch_reviews_per_s",
                  batch_size: int = 128, threads: int | None = None) -> list[dict]:
    """Reviews/s of ``Predictor.predict`` on raw texts (tokenization included), and its accuracy."""
    with torch_threads(threads):
        start = time.perf_counter()
        predictions = predictor.predict(texts, batch_size=batch_size)
        seconds = time.perf_counter() - start
        threads_used = torch.get_num_threads()
    accuracy = float(np.mean([p.label == "positive" for p in predictions] == labels.astype(bool)))
    return [record(name, len(texts) / seconds, "reviews/s", n=len(texts), seconds=round(seconds, 3),
                   accuracy=round(accuracy, 4), batch_size=batch_size, threads=threads_used)]


def tokenization(texts: list[str]) -> list[dict]:
    """Reviews/s of spaCy's batched tokenizer (``tokenize_many``) against one call per review."""
    start = time.perf_counter()
    batched = list(tokenize_many(texts))
    middle = time.perf_counter()
    one_by_one = [tokenize(t) for t in texts]
    end = time.perf_counter()
    assert batched == one_by_one, "batched and one-by-one tokenization disagree"
    return [record("tokenize_batched_reviews_per_s", len(texts) / (middle - start), "reviews/s", n=len(texts)),
            record("tokenize_one_by_one_reviews_per_s", len(texts) / (end - middle), "reviews/s", n=len(texts))]


def quantize_int8(model: SentimentRNN) -> SentimentRNN:
    """A copy with int8 dynamic quantization of its LSTM or GRU layers (a tanh RNN has no int8 kernel).

    The one Linear is the (2H -> 1) classifier: quantizing it saves nothing, and ``explain`` reads
    its float weights to split the logit among units, so it stays float.
    """
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao, yet still works
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.LSTM, nn.GRU},
                                                      dtype=torch.qint8)


def score_split(model: SentimentRNN, split: EncodedSplit, batch_size: int = 256) -> tuple[torch.Tensor, float]:
    """(P(positive) of every review in ``split``, seconds taken), batched by length as ``evaluate`` does."""
    start = time.perf_counter()
    probs = torch.sigmoid(split_logits(model, split, batch_size))
    return probs, time.perf_counter() - start


def held_out_reviews(prepared, n: int | None, seed: int = 0) -> tuple[EncodedSplit, str]:
    """Reviews the checkpoint did not train on, and their split's name: its validation split, or the
    test split for a checkpoint trained on every training review; a seeded sample of ``n`` if given."""
    split, name = (prepared.val, "val") if len(prepared.val) else (prepared.test, "test")
    if n:
        split = split.subset(np.random.default_rng(seed).permutation(len(split))[:n])
    return split, name


def int8_experiment(predictor: Predictor, held_out: EncodedSplit, texts: list[str], repeats: int,
                    split_name: str = "val") -> list[dict]:
    """Accuracy and speed of the float32 model against its int8 dynamic quantization, on the same
    ``held_out`` reviews (from ``held_out_reviews``; ``split_name`` names their split in the figures)."""
    quantized = copy.copy(predictor)
    quantized.model = quantize_int8(predictor.model)
    labels = torch.from_numpy(held_out.labels).bool()
    records, probs = [], {}
    for label, p in (("fp32", predictor), ("int8", quantized)):
        probs[label], seconds = score_split(p.model, held_out)
        accuracy = ((probs[label] >= 0.5) == labels).float().mean().item()
        records.append(record(f"{label}_{split_name}_accuracy", accuracy, "fraction", n=len(held_out)))
        records.append(record(f"{label}_{split_name}_reviews_per_s", len(held_out) / seconds, "reviews/s",
                              n=len(held_out), note="model only, pre-tokenized"))
        records += predict_model(p, texts, repeats, name=f"{label}_predict_model")
    diff = (probs["fp32"] - probs["int8"]).abs()
    agree = ((probs["fp32"] >= 0.5) == (probs["int8"] >= 0.5)).float().mean()
    return records + [record("int8_max_prob_diff", diff.max().item(), "probability", n=len(diff)),
                      record("int8_label_agreement", agree.item(), "fraction", n=len(diff))]


def train_steps(model: SentimentRNN, split: EncodedSplit, batches: list[np.ndarray], cfg: TrainConfig,
                device: torch.device) -> dict:
    """Train on ``batches`` the way ``sentiment.train.train`` does one step (AdamW, BCE, clipping), timed.

    One untimed step on the first batch warms up (allocator, kernels); then every batch is timed.
    Tokens are real tokens, as in the training loop's tokens/s; ``padded_tokens`` is what the
    batches made the model compute.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model.train()
    lengths = split.lengths()

    def step(index) -> tuple[int, int]:
        _, _, real = train_step(model, optimizer, split, index, cfg.clip_norm, device)  # the loop's own step
        return real, len(index) * int(lengths[index].max())  # real tokens, tokens computed with padding

    step(batches[0])
    tokens = padded = 0
    start = time.perf_counter()
    for index in batches:
        real, computed = step(index)
        tokens, padded = tokens + real, padded + computed
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return {"tokens": tokens, "padded_tokens": padded, "seconds": seconds, "tokens_per_s": tokens / seconds}


def fresh_model(vocab_size: int, cell: str, device: torch.device, **model_options) -> SentimentRNN:
    torch.manual_seed(0)
    return SentimentRNN(ModelConfig(vocab_size=vocab_size, cell=cell, **model_options)).to(device)


def train_throughput(split: EncodedSplit, vocab_size: int, cells=("rnn", "gru", "lstm"), batches: int = 8,
                     device: torch.device = torch.device("cpu"), model_options: dict | None = None,
                     cfg: TrainConfig | None = None, onednn_enabled: bool = True) -> list[dict]:
    """``train_tokens_per_s_{cell}`` with the project's bucketed batches, over the same seeded reviews."""
    cfg = cfg or TrainConfig()
    model_options = model_options or {}
    index = np.random.default_rng(0).permutation(len(split))[:batches * cfg.batch_size]
    sample = split.subset(index)
    order = bucket_batches(sample.lengths(), cfg.batch_size, np.random.default_rng(0))
    suffix = "" if onednn_enabled else "_no_onednn"
    records = []
    for cell in cells:
        with onednn(onednn_enabled):
            result = train_steps(fresh_model(vocab_size, cell, device, **model_options), sample, order, cfg, device)
        records.append(record(f"train_tokens_per_s_{cell}{suffix}", result["tokens_per_s"], "tokens/s",
                              device=device.type, threads=torch.get_num_threads(), batches=len(order),
                              batch_size=cfg.batch_size, tokens=result["tokens"], onednn=onednn_enabled,
                              padded_tokens=result["padded_tokens"]))
    return records


def bucketed_vs_padded(split: EncodedSplit, vocab_size: int, cell: str = "lstm", batches: int = 8, rounds: int = 2,
                       device: torch.device = torch.device("cpu"), model_options: dict | None = None,
                       cfg: TrainConfig | None = None, onednn_enabled: bool = True) -> list[dict]:
    """The project's ``bucket_batches`` against the homework's ``padded_batches``: same model, same reviews.

    Each way trains a fresh copy of one initialisation on the same seeded reviews, alternating
    ``rounds`` times so that a slow moment hurts both; the best round of each counts.
    """
    cfg = cfg or TrainConfig()
    model_options = model_options or {}
    index = np.random.default_rng(1).permutation(len(split))[:batches * cfg.batch_size]
    sample = split.subset(index)
    ways = {"bucketed": bucket_batches(sample.lengths(), cfg.batch_size, np.random.default_rng(0)),
            "padded": padded_batches(len(sample), cfg.batch_size, np.random.default_rng(0))}
    initial = fresh_model(vocab_size, cell, device, **model_options)
    best: dict[str, dict] = {}
    with onednn(onednn_enabled):
        for _ in range(rounds):
            for way, order in ways.items():
                result = train_steps(copy.deepcopy(initial), sample, order, cfg, device)
                if way not in best or result["seconds"] < best[way]["seconds"]:
                    best[way] = result
    common = dict(device=device.type, cell=cell, batch_size=cfg.batch_size, onednn=onednn_enabled)
    suffix = "" if onednn_enabled else "_no_onednn"
    records = [record(f"train_tokens_per_s_{cell}_{way}{suffix}", r["tokens_per_s"], "tokens/s", tokens=r["tokens"],
                      padded_tokens=r["padded_tokens"], **common) for way, r in best.items()]
    ratio = best["bucketed"]["tokens_per_s"] / best["padded"]["tokens_per_s"]
    return records + [record(f"train_bucketed_vs_padded_ratio{suffix}", ratio, "x", reviews=len(sample), **common)]
