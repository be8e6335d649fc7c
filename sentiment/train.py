"""The one training loop. ``train()`` yields events; the command line prints them, the web app streams them.

    for event in train("aclImdb_v1.tar.gz", {"cell": "lstm"}, TrainConfig(epochs=2), "runs/demo"):
        print(event)

Events: ``Stage`` (data preparation), ``Progress`` (within an epoch), ``EpochRecord`` (after each
epoch), and a final ``Done``. The best epoch by validation accuracy is saved as a checkpoint in
``out_dir`` as soon as it is reached; ``out_dir/resume/`` holds the last epoch's full state.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch.optim.swa_utils import AveragedModel

from .batching import EncodedSplit, bucket_batches
from .calibration import ece, fit_temperature
from .data import DataError
from .distill import distill_loss, resolve_checkpoint, sentence_endings, sentence_windows, teacher_logits
from .contrast import CONTRAST_VERDICTS, TURN_LASTS, contrast_pairs, turn_pairs
from .negation import KINDS, negation_pairs
from .pretrain import CUTOFFS, SEGMENT, PretrainRecord, pretrain
from .checkpoint import CheckpointError, atomic_write, load_checkpoint, save_checkpoint, weights_digest, write_metrics
from .model import POOL_PARTS, ModelConfig, SentimentRNN
from .names import NAMES_STARTS, name_counts, swap_names, swap_words
from .opinions import opinion_swaps
from .text import tokenize_corpus
from .vocab import UNK_ID, Vocab


@dataclass
class TrainConfig:
    epochs: int = 6  # passes over the training split
    batch_size: int = 64  # reviews per step
    lr: float = 2e-3  # peak learning rate of Adam (linear warm-up, then cosine decay to 0)
    warmup: float = 0.05  # fraction of all steps spent warming up
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    clip_norm: float = 1.0  # gradients are clipped to this global norm; 0: not clipped
    max_len: int = 512  # tokens read of each review (the first ones)
    vocab_size: int = 30_000  # most frequent training tokens kept, <pad> and <unk> included
    min_freq: int = 2  # rarer tokens become <unk>
    lowercase: bool = True  # lowercase tokens (see README: data sparsity beats case)
    keep_html: bool = False  # read the reviews' HTML tags (<br />) as tokens, as the homework did
    schedule: str = "cosine"  # learning rate: "cosine" (linear warm-up, then cosine decay to 0) or "constant"
    val_fraction: float = 0.1  # share of the 25,000 training reviews held out for validation; 0: none, the last epoch is kept
    val_split: str = "random"  # "random" reviews, or whole "movie"s (like the test set: movies unseen in training)
    max_train: int | None = None  # train on only this many reviews (quick demos)
    seed: int = 0  # seeds the split, the batches, initialisation and dropout
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    weights_dtype: str = "float32"  # dtype of the saved weights: "float32" or "float16"
    ema: float = 0.0  # if > 0, validate and save an exponential moving average of the weights with this decay
    adversarial: float = 0.0  # if > 0, also train on token vectors pushed this far (L2, per review) against the label
    teacher: str | None = None  # a checkpoint folder whose probabilities the model also learns (distillation)
    distill: float = 0.5  # with a teacher: share of a review's loss that is the teacher's (the rest: its label's)
    distill_temperature: float = 2.0  # the teacher's and student's logits are divided by this in the teacher's loss
    windows: int = 0  # short windows (1-3 whole sentences) of each training review, drawn once, also trained on
    window_weight: float = 0.5  # a window's weight in the loss, against a review's 1
    window_distill: float = 1.0  # with a teacher: share of a window's loss that is the teacher's (the rest: its review's label)
    negations: int = 0  # sentence pairs (as written, negated) made from training reviews by sentiment/negation.py
    negation_weight: float = 0.5  # a negation pair sentence's weight in the loss, against a review's 1
    negation_kinds: str = "be"  # the forms of negation pair, comma-separated: be, verb, fragment (negation.KINDS)
    contrasts: int = 0  # sentence pairs ("A , but B", "B , but A") made by sentiment/contrast.py, at negation_weight
    contrast_verdict: str = "last"  # "both", "balanced", "varied": some or half the contrast pairs put their verdict first
    contrast_weight: float = 0.0  # a contrast pair text's weight in the loss; 0: negation_weight's
    turns: int = 0  # pairs of windows of opposite sides ("A B", "B A"; contrast.turn_pairs), drawn once
    turn_weight: float = 2.0  # a turn's weight in the loss, against a review's 1
    turn_last: str = "window"  # what ends a turn: another "window", or an "ending" of a review (contrast.turn_pairs)
    swap_names: float = 0.0  # share of the training texts whose names are replaced by other names (sentiment/names.py)
    swap_opinions: float = 0.0  # share of the training texts whose opinion words are replaced by others of the same
    #                             side and strength (sentiment/opinions.py)
    names_start: str = "learnt"  # with init_from and swap_names: names' word vectors start as "learnt", or all at
    #                              their "mean" (what the start learnt of each name is forgotten)
    temperature_from: str | None = None  # with val_fraction 0: a checkpoint of this recipe trained with validation,
    #                                      whose fitted temperature this run takes (it has none to fit its own on)
    pretrain_epochs: int = 0  # epochs of next-word prediction on the training reviews first (sentiment/pretrain.py)
    init_from: str | None = None  # a checkpoint folder whose weights and vocabulary this run starts from (fine-tuning)

    def __post_init__(self):
        positive = ("epochs", "batch_size", "max_len", "vocab_size")
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer; got {getattr(self, name)!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1) (0: no validation); got {self.val_fraction!r}")
        if not (self.clip_norm >= 0 and math.isfinite(self.clip_norm)):
            raise ValueError(f"clip_norm must be >= 0 (0 turns clipping off); got {self.clip_norm!r}")
        if self.val_split not in ("random", "movie"):
            raise ValueError(f"val_split must be random or movie; got {self.val_split!r}")
        if self.max_train is not None and self.max_train < 2:
            raise ValueError(f"max_train must be at least 2; got {self.max_train!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda; got {self.device!r}")
        if not (self.adversarial >= 0 and math.isfinite(self.adversarial)):
            raise ValueError(f"adversarial must be >= 0 (0 turns it off); got {self.adversarial!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0 turns it off); got {self.ema!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be cosine or constant; got {self.schedule!r}")
        if self.weights_dtype not in ("float32", "float16"):
            raise ValueError(f"weights_dtype must be float32 or float16; got {self.weights_dtype!r}")
        for name in ("distill", "window_distill", "swap_names", "swap_opinions"):  # shares: of a loss, of the texts
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {getattr(self, name)!r}")
        if not (self.distill_temperature > 0 and math.isfinite(self.distill_temperature)):
            raise ValueError(f"distill_temperature must be a positive number; got {self.distill_temperature!r}")
        if not isinstance(self.windows, int) or self.windows < 0:
            raise ValueError(f"windows must be an integer >= 0; got {self.windows!r}")
        if not isinstance(self.pretrain_epochs, int) or self.pretrain_epochs < 0:
            raise ValueError(f"pretrain_epochs must be an integer >= 0 (0: none); got {self.pretrain_epochs!r}")
        if not isinstance(self.negations, int) or self.negations < 0:
            raise ValueError(f"negations must be an integer >= 0; got {self.negations!r}")
        if not isinstance(self.contrasts, int) or self.contrasts < 0:
            raise ValueError(f"contrasts must be an integer >= 0; got {self.contrasts!r}")
        if self.contrast_verdict not in CONTRAST_VERDICTS:
            raise ValueError(f"contrast_verdict must be one of {', '.join(CONTRAST_VERDICTS)}; "
                             f"got {self.contrast_verdict!r}")
        if not isinstance(self.turns, int) or self.turns < 0:
            raise ValueError(f"turns must be an integer >= 0; got {self.turns!r}")
        if not (self.turn_weight > 0 and math.isfinite(self.turn_weight)):
            raise ValueError(f"turn_weight must be a positive number; got {self.turn_weight!r}")
        if self.turn_last not in TURN_LASTS:
            raise ValueError(f"turn_last must be one of {', '.join(TURN_LASTS)}; got {self.turn_last!r}")
        if self.turns and not (self.windows and self.teacher):
            raise ValueError("turns are made of the windows the teacher reads: give --windows and --teacher too")
        if not (self.window_weight > 0 and math.isfinite(self.window_weight)):
            raise ValueError(f"window_weight must be a positive number; got {self.window_weight!r}")
        if not (self.contrast_weight >= 0 and math.isfinite(self.contrast_weight)):
            raise ValueError(f"contrast_weight must be a number >= 0 (0: negation_weight's); got {self.contrast_weight!r}")
        if not (self.negation_weight > 0 and math.isfinite(self.negation_weight)):
            raise ValueError(f"negation_weight must be a positive number; got {self.negation_weight!r}")
        kinds = self.negation_kinds.split(",") if isinstance(self.negation_kinds, str) else []
        if not kinds or len(set(kinds)) < len(kinds) or not set(kinds) <= set(KINDS):
            raise ValueError(f"negation_kinds must be some of {', '.join(KINDS)}, comma-separated; "
                             f"got {self.negation_kinds!r}")
        if self.names_start not in NAMES_STARTS:
            raise ValueError(f"names_start must be one of {', '.join(NAMES_STARTS)}; got {self.names_start!r}")
        if self.names_start == "mean" and not (self.init_from and self.swap_names):
            raise ValueError("names_start mean resets the names' vectors of a start: give --init-from and --swap-names too")
        if self.init_from and self.pretrain_epochs:
            raise ValueError("init_from starts from trained weights; next-word pretraining (pretrain_epochs) would "
                             "start them over: use one or the other")
        if self.temperature_from and self.val_fraction > 0:
            raise ValueError("temperature_from is for runs without validation (val_fraction 0); this run fits "
                             "its own temperature on its validation reviews")


@dataclass
class Stage:
    message: str


@dataclass
class Progress:
    epoch: int
    step: int
    steps: int
    loss: float  # running mean over this epoch so far


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float | None  # None when nothing is held out for validation
    val_acc: float | None
    seconds: float
    tokens_per_s: float
    lr: float
    best: bool  # this epoch is the best so far (without validation: the latest), and is now the saved checkpoint
    partial: bool = False  # training was stopped during this epoch


@dataclass
class Done:
    out_dir: str
    best_epoch: int | None
    best_val_acc: float | None
    stopped: bool
    wall_seconds: float
    history: list[dict] = field(default_factory=list)


@dataclass
class Prepared:
    vocab: Vocab
    train: EncodedSplit
    val: EncodedSplit
    test: EncodedSplit
    data_path: str
    n_reviews: int | None = None  # with training extras: the reviews, first in ``train``; then windows, pairs
    teacher: np.ndarray | None = None  # (len(train),) the logits to learn beside the labels: the teacher's or a rule's
    mix: np.ndarray | None = None  # (len(train),) share of each example's loss that is those logits'
    weight: np.ndarray | None = None  # (len(train),) each example's weight in the loss
    temperature: np.ndarray | None = None  # (len(train),) each example's temperature in that loss
    name_ids: np.ndarray | None = None  # with swap_names: the vocabulary ids of the names swapped

    @property
    def train_reviews(self) -> int:
        """The training reviews, without the windows and negation pairs made of them that follow in ``train``."""
        return len(self.train) if self.n_reviews is None else self.n_reviews


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for, but no CUDA GPU is available")
    return torch.device(name)


def split_indices(n: int, cfg: TrainConfig, movies: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, val) indices into the official train split; ``max_train`` also shrinks val.

    With ``cfg.val_split == "movie"``, ``movies`` names each review's movie and validation takes whole
    movies, so, as on the test set, the model is scored on movies it never read a review of.
    """
    rng = np.random.default_rng(cfg.seed)
    if cfg.val_fraction == 0:  # train on every review; nothing to validate on
        return rng.permutation(n)[:cfg.max_train], np.zeros(0, dtype=np.int64)
    n_val = max(1, round(n * cfg.val_fraction))
    demo_val = max(100, cfg.max_train // 4) if cfg.max_train else None  # a demo should not spend its time validating
    if cfg.val_split == "random":
        n_val = min(n_val, demo_val or n_val)
        order = rng.permutation(n)
        return order[n_val:][:cfg.max_train], order[:n_val]
    if movies is None or len(movies) != n:
        raise ValueError("a movie validation split needs the movie of every review")
    names, movie = np.unique(np.asarray(movies), return_inverse=True)  # (n,) movie number of each review
    order = rng.permutation(len(names))
    per_movie = np.bincount(movie, minlength=len(names))[order]
    enough = int(np.searchsorted(np.cumsum(per_movie), n_val)) + 1  # whole movies, until n_val reviews
    is_val = np.isin(movie, order[:enough])
    val, train = rng.permutation(np.flatnonzero(is_val)), rng.permutation(np.flatnonzero(~is_val))
    return train[:cfg.max_train], val[:demo_val]


def prepare_data(data_path, cfg: TrainConfig, progress=None, vocab: Vocab | None = None,
                 for_training: bool = False, speller=None) -> Prepared:
    """Tokenize (or load from cache), split, build the vocabulary from train only, encode all splits.

    ``for_training`` also adds what only training needs: the reviews' short windows (``cfg.windows``)
    and negation pairs (``cfg.windows``, ``cfg.negations``), and the teacher's logits (``cfg.teacher``).
    A ``speller`` (``spelling.Speller``) reads the validation and test reviews' misspellings as meant, as a
    ``Predictor`` reads text (the training reviews stay as the vocabulary was built from them)."""
    corpus = tokenize_corpus(data_path, lowercase=cfg.lowercase, progress=progress, keep_html=cfg.keep_html)
    official_train = corpus.splits["train"]
    movies = official_train.movies if cfg.val_split == "movie" and cfg.val_fraction > 0 else None
    if movies is not None and not all(movies):
        raise DataError(f"{data_path} does not say which movie each training review is about (train/urls_pos.txt "
                        "and urls_neg.txt are missing or short). Use the random validation split (--val-split random).")
    train_idx, val_idx = split_indices(len(official_train), cfg, movies)
    train_tokens = official_train.subset(train_idx)
    if vocab is None:
        counts = np.bincount(train_tokens.token_ids, minlength=len(corpus.types))
        vocab = Vocab.build(Counter({corpus.types[i]: int(counts[i]) for i in np.flatnonzero(counts)}),
                            cfg.vocab_size, cfg.min_freq)
    lookup = vocab.lookup_table(corpus.types)
    encode = lambda split, table=lookup: EncodedSplit.from_tokens(split, table, cfg.max_len)
    val_tokens, test_tokens = official_train.subset(val_idx), corpus.splits["test"]
    read = (speller.lookup_table(corpus.types, lookup, np.concatenate([val_tokens.token_ids, test_tokens.token_ids]))
            if speller is not None else lookup)
    prepared = Prepared(vocab, encode(train_tokens), encode(val_tokens, read), encode(test_tokens, read),
                        str(data_path))
    if for_training and (cfg.windows or cfg.teacher or cfg.negations or cfg.contrasts):
        _add_training_extras(prepared, corpus.types, train_tokens, cfg, encode)
    if for_training and cfg.swap_names:
        prepared.train, prepared.name_ids = _names_swapped(prepared.train, corpus, train_tokens, lookup, cfg)
    if for_training and cfg.swap_opinions:
        group_of, pools = opinion_swaps(corpus.types, train_tokens, lookup, exclude=prepared.name_ids)
        prepared.train = swap_words(prepared.train, group_of, pools, cfg.swap_opinions,
                                    np.random.default_rng([cfg.seed, 29]))
    return prepared


def _names_swapped(train: EncodedSplit, corpus, train_tokens, lookup: np.ndarray,
                   cfg: TrainConfig) -> tuple[EncodedSplit, np.ndarray]:
    """``train`` with the names in a ``cfg.swap_names`` share of its texts swapped (after the teacher read them as
    written), drawn as often as the training reviews write each name; and the names' vocabulary ids."""
    if corpus.case is None:
        raise DataError("This tokenized corpus does not record which words are names (it predates --swap-names): "
                        "tokenize the data again (`python -m sentiment tokenize`).")
    names, counts = name_counts(corpus.types, corpus.case, train_tokens.token_ids)  # corpus type ids, how often
    known = lookup[names] != UNK_ID
    name_ids, weights = lookup[names][known], counts[known]  # vocabulary ids, how often
    return swap_names(train, name_ids, weights, cfg.swap_names, np.random.default_rng([cfg.seed, 23])), name_ids


def _add_training_extras(prepared: Prepared, types, train_tokens, cfg: TrainConfig, encode) -> None:
    """Append the training reviews' windows, turns, negation pairs and contrast pairs to ``prepared.train``, each part
    with what it learns beside its labels: logits to match, their share of the loss (mix), weight and
    temperature. Reviews: the teacher's logits (if any) at ``distill``; windows: the teacher's at ``window_distill``
    (1: the teacher's alone; without a teacher, their review's label); turns, negation and contrast pairs: their
    rule's targets (temperature 1)."""
    rng = lambda k: np.random.default_rng([cfg.seed, k])
    windows = sentence_windows(train_tokens, types, cfg.windows, rng(7)) if cfg.windows else None
    pairs, pair_targets = (negation_pairs(train_tokens, types, cfg.negations, rng(11),
                                          kinds=tuple(cfg.negation_kinds.split(","))) if cfg.negations else (None, None))
    contrasts, contrast_targets = (contrast_pairs(train_tokens, types, cfg.contrasts, rng(13),
                                                  verdict=cfg.contrast_verdict)
                                   if cfg.contrasts else (None, None))
    taught = lambda piece: teacher_logits(cfg.teacher, types, piece, cfg.lowercase, cfg.keep_html,
                                          resolve_device(cfg.device))
    t = cfg.distill_temperature
    parts = [(train_tokens, taught(train_tokens) if cfg.teacher else 0.0, cfg.distill if cfg.teacher else 0.0, 1.0, t)]
    if windows is not None:
        window_logits = taught(windows) if cfg.teacher else 0.0
        parts.append((windows, window_logits, cfg.window_distill if cfg.teacher else 0.0, cfg.window_weight, t))
        if cfg.turns:  # TrainConfig made sure there is a teacher
            endings = sentence_endings(train_tokens, types, rng(19)) if cfg.turn_last == "ending" else None
            turns, turn_targets = turn_pairs(windows, window_logits, cfg.turns, rng(17), endings,
                                             None if endings is None else taught(endings))
            parts.append((turns, np.log(turn_targets) - np.log1p(-turn_targets), 1.0, cfg.turn_weight, 1.0))
    if pairs is not None:
        parts.append((pairs, np.log(pair_targets) - np.log1p(-pair_targets), 1.0, cfg.negation_weight, 1.0))
    if contrasts is not None and len(contrasts):
        parts.append((contrasts, np.log(contrast_targets) - np.log1p(-contrast_targets), 1.0,
                      cfg.contrast_weight or cfg.negation_weight, 1.0))
    prepared.n_reviews = len(prepared.train)
    for piece, *_ in parts[1:]:
        prepared.train = prepared.train.concat(encode(piece))
    column = lambda k: np.concatenate([np.broadcast_to(np.float32(p[k]) if np.isscalar(p[k]) else p[k], len(p[0]))
                                       for p in parts]).astype(np.float32)  # (len(train),)
    prepared.teacher, prepared.mix, prepared.weight, prepared.temperature = (column(k) for k in (1, 2, 3, 4))


@torch.inference_mode()
def split_logits(model: SentimentRNN, split: EncodedSplit, batch_size: int = 256, device=None) -> torch.Tensor:
    """(n,) logits of every review in ``split``, in its order, scored in length-sorted batches, in eval mode."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits = torch.zeros(len(split))
    for index in bucket_batches(split.lengths(), batch_size, rng=None):
        ids, lengths, _ = split.batch(index)
        logits[index] = model(ids.to(device), lengths.to(device)).float().cpu()  # (B,)
    model.train(was_training)
    return logits


def evaluate(model: SentimentRNN, split: EncodedSplit, batch_size: int = 256, device=None,
             with_logits: bool = False) -> dict:
    """Loss, accuracy, confusion matrix [[TN, FP], [FN, TP]], calibration error (ECE, 15 bins) and reviews/s
    of ``model`` on ``split`` (and, ``with_logits``, the (n,) logits themselves)."""
    start = time.perf_counter()
    logits = split_logits(model, split, batch_size, device)  # (n,)
    seconds = time.perf_counter() - start
    labels = torch.from_numpy(split.labels)
    n = len(split)
    loss = F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="sum").item() if n else 0.0
    confusion = np.zeros((2, 2), dtype=np.int64)
    np.add.at(confusion, (split.labels, (logits > 0).long().numpy()), 1)
    return {"loss": loss / max(n, 1), "accuracy": float(np.trace(confusion)) / max(n, 1), "n": n,
            "confusion": confusion.tolist(), "ece": ece(torch.sigmoid(logits).numpy(), split.labels),
            "seconds": seconds, "reviews_per_s": n / max(seconds, 1e-9)} | ({"logits": logits} if with_logits else {})


def train_step(model: SentimentRNN, optimizer, split: EncodedSplit, index: np.ndarray, clip_norm: float,
               device, adversarial: float = 0.0, prepared: Prepared | None = None) -> tuple[float, int, int]:
    """One optimisation step on the reviews at ``index``: (mean loss, correct predictions, real tokens).

    With ``adversarial`` = eps > 0 (Miyato et al., 2017), the step also learns from the same reviews
    with their token vectors pushed by ``adversarial_push``. With ``prepared`` holding a teacher's
    logits and examples' weights (training extras), the loss is ``distill_loss``'s.
    """
    ids, lengths, labels = (t.to(device) for t in split.batch(index))
    extra = [None if a is None else torch.from_numpy(a[index]).to(device)  # (B,) each, or None
             for a in ((prepared.teacher, prepared.mix, prepared.weight, prepared.temperature)
                       if prepared else (None,) * 4)]
    optimizer.zero_grad(set_to_none=True)
    delta = torch.zeros(*ids.shape, model.config.embed_dim, device=device, requires_grad=True) if adversarial else None
    logits = model(ids, lengths, delta)  # (B,)
    loss = distill_loss(logits, labels, *extra)
    loss.backward()
    if adversarial:
        push = adversarial_push(delta.grad, adversarial)  # (B, T, E)
        distill_loss(model(ids, lengths, push), labels, *extra).backward()
    if clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    optimizer.step()
    return loss.item(), int(((logits > 0).long() == labels).sum()), int(lengths.sum())


def calibrate(val_logits: np.ndarray, val_labels: np.ndarray) -> dict:
    """The temperature fitted on the validation reviews' logits, as config.json records it; loading the
    checkpoint divides every logit by it, the running ones too."""
    t = fit_temperature(val_logits, val_labels)
    return {"temperature": round(t, 4), "fitted_on": f"validation ({len(val_labels)} reviews)",
            "val_ece_before": round(ece(1 / (1 + np.exp(-val_logits)), val_labels), 4),
            "val_ece_after": round(ece(1 / (1 + np.exp(-val_logits / t)), val_labels), 4)}


def borrowed_calibration(checkpoint) -> dict:
    """The calibration block of ``checkpoint`` (a run of the same recipe that had validation reviews), for a
    run trained on every review: the temperature is a property of the recipe more than of one run's weights."""
    path = resolve_checkpoint(checkpoint) / "config.json"
    try:
        calibration = json.loads(path.read_text()).get("calibration") or {}
    except (OSError, ValueError) as error:
        raise ValueError(f"temperature_from: cannot read {path}: {error}") from None
    t = calibration.get("temperature")
    if not (isinstance(t, (int, float)) and 0 < t < float("inf")):
        raise ValueError(f"temperature_from: {path} records no fitted temperature; name a checkpoint trained "
                         "with validation reviews")
    return {"temperature": t, "fitted_on": f"{calibration.get('fitted_on', 'validation')} of {checkpoint}, "
            "the same recipe trained with validation", "borrowed_from": str(checkpoint)}


def adversarial_push(grad: torch.Tensor, eps: float) -> torch.Tensor:
    """(B, T, E) gradient of the loss w.r.t. the token vectors -> the step of L2 norm ``eps`` per review
    along it: to first order, the change of the token vectors that raises the loss most."""
    return eps * grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]


def weight_average(model: SentimentRNN, decay: float) -> AveragedModel:
    """An exponential moving average of ``model``'s weights, updated after each step.

    The decay warms up as min(decay, (1 + n) / (10 + n)) after n updates, so the random initial
    weights are forgotten within the first epoch.
    """
    def average(averaged: torch.Tensor, current: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        keep = min(decay, (1 + int(n)) / (10 + int(n)))
        return averaged + (current - averaged) * (1 - keep)

    return AveragedModel(model, avg_fn=average)


def checkpoint_train_config(metrics: dict, tokenizer: dict) -> TrainConfig:
    """The settings a checkpoint was trained with (so its validation split and max_len are its own)."""
    known = {f.name for f in fields(TrainConfig)}
    saved = {k: v for k, v in (metrics.get("train_config") or {}).items() if k in known}
    return TrainConfig(**saved) if saved else TrainConfig(max_len=tokenizer["max_len"], lowercase=tokenizer["lowercase"],
                                                          keep_html=tokenizer.get("keep_html", False))


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to zero (or constant); a function of the step alone, so resuming is exact."""
    if cfg.schedule == "constant":
        return cfg.lr
    warm = max(1, int(total * cfg.warmup))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))


def hardware(device: torch.device) -> dict:
    info = {"device": device.type, "torch": torch.__version__, "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


class TrainingBusy(RuntimeError):
    """Another training is writing to the same output folder."""


@contextmanager
def claim(out_dir: Path, cleared: list | None = None):
    """One training per output folder at a time: a second one is refused instead of clobbering the first.
    A lock left by a process that is gone (killed mid-run) is removed, and a sentence saying so is
    appended to ``cleared``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = out_dir / ".training.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            owner = lock.read_text().strip()
            if owner.isdigit() and _process_alive(int(owner)):
                raise TrainingBusy(f"{out_dir} is being written by another training (process {owner}); "
                                   "wait for it to end, or choose another --out.") from None
            lock.unlink(missing_ok=True)  # left by a process that is gone
            if cleared is not None:
                cleared.append(f"Cleared a stale lock in {out_dir}: the training that held it (process "
                               f"{owner or '?'}) is gone, so it was stopped before it could finish.")
    else:
        raise TrainingBusy(f"cannot claim {out_dir} for training: {lock} keeps coming back")
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def train(data_path, model_options: dict, cfg: TrainConfig, out_dir, stop: Callable[[], bool] = lambda: False,
          resume: bool = False, progress=None, command: str | None = None,
          prepared: Prepared | None = None) -> Iterator[Stage | Progress | EpochRecord | Done]:
    """Train a model and yield what happens. ``stop()`` is polled between batches.

    ``model_options`` are ModelConfig fields other than ``vocab_size`` (which the vocabulary sets).
    With ``resume=True`` and a ``resume/`` state in ``out_dir``, training continues where it stopped.
    A second training into the same ``out_dir`` while this one runs raises TrainingBusy.
    """
    cleared: list[str] = []
    with claim(Path(out_dir), cleared):
        for message in cleared:
            yield Stage(message)
        yield from _train(data_path, model_options, cfg, Path(out_dir), stop, resume, progress, command, prepared)


def _train(data_path, model_options, cfg, out_dir: Path, stop, resume, progress, command, prepared):
    wall_start = time.perf_counter()
    device = resolve_device(cfg.device)
    resume_dir = out_dir / "resume"
    state = json.loads((resume_dir / "state.json").read_text()) if resume and (resume_dir / "state.json").exists() else None
    if state:
        saved = {**asdict(TrainConfig()), **state["train_config"]}  # settings added since then: their defaults
        if saved != asdict(cfg) or state["model_options"] != model_options:
            raise ValueError(f"cannot resume {out_dir}: it was trained with other settings "
                             f"({state['train_config']}, {state['model_options']})")
    if cfg.teacher and not (resolve_checkpoint(cfg.teacher) / "config.json").exists():  # before minutes of data work
        raise CheckpointError(f"No teacher checkpoint at {cfg.teacher}: expected a folder holding config.json "
                              "(e.g. --teacher checkpoints/large).")
    calibration = borrowed_calibration(cfg.temperature_from) if cfg.temperature_from else None  # fail fast
    start = initial_weights(cfg.init_from, model_options) if cfg.init_from and not state else None  # fail fast too
    if prepared is None:
        yield Stage(f"Preparing data from {data_path}")
        vocab = Vocab.from_json((resume_dir / "vocab.json").read_text()) if state else start[1] if start else None
        prepared = prepare_data(data_path, cfg, progress=progress, for_training=True, vocab=vocab)
    if start and prepared.vocab.itos != start[1].itos:
        raise ValueError(f"the data given was prepared with another vocabulary than {cfg.init_from}'s, "
                         "which a run that starts from its weights must keep")
    validated = len(prepared.val) > 0
    n_reviews = prepared.train_reviews
    yield Stage(f"Training on {device.type.upper()}: {n_reviews} reviews"
                + (f" and {len(prepared.train) - n_reviews} windows and sentences" if len(prepared.train) > n_reviews else "")
                + (f", learning from the teacher {cfg.teacher}" if cfg.teacher else "") + ", "
                + (f"validating on {len(prepared.val)}" if validated else "no validation (the last epoch is kept)")
                + f", vocabulary of {len(prepared.vocab)}")

    torch.manual_seed(cfg.seed)
    model = SentimentRNN(ModelConfig(vocab_size=len(prepared.vocab), **model_options)).to(device)
    if start:
        model.load_state_dict(start[0].state_dict())
        yield Stage(f"Starting from the weights of {cfg.init_from}")
        if cfg.names_start == "mean":
            with torch.no_grad():
                names = torch.from_numpy(prepared.name_ids)
                model.embedding.weight[names] = model.embedding.weight[names].mean(0)  # (E,) for every name
            yield Stage(f"The {len(names)} names' word vectors start at their mean")
    pretrained: list[dict] = []
    if cfg.pretrain_epochs and not state:  # a resumed run's weights already hold it
        reviews = prepared.train.subset(np.arange(n_reviews))  # the reviews' own text, not windows or pairs
        yield Stage(f"Learning to predict the next word of the {n_reviews} training reviews "
                    f"({cfg.pretrain_epochs} epoch{'s' if cfg.pretrain_epochs > 1 else ''}) before sentiment")
        for event in pretrain(model, reviews, prepared.val, cfg, device, stop):
            if isinstance(event, PretrainRecord):
                pretrained.append(asdict(event))
            yield event
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    average = weight_average(model, cfg.ema) if cfg.ema else None
    scored = average.module if average else model  # the weights that are validated and saved
    history, best_val, best_epoch, first_epoch = [], -1.0, None, 1
    if state:
        _load_state(resume_dir, model, optimizer, device, average)
        history, best_val, best_epoch = state["history"], state["best_val"], state["best_epoch"]
        pretrained = state.get("pretrain") or []
        first_epoch = state["epoch"] + 1
        wall_start -= state.get("wall_seconds", 0.0)  # the wall time counts every sitting
        yield Stage(f"Resuming after epoch {state['epoch']}")

    tokenizer = {"lowercase": cfg.lowercase, "max_len": cfg.max_len} | ({"keep_html": True} if cfg.keep_html else {})
    metrics = {"history": history, "best_epoch": best_epoch, "val_accuracy": None, "test": None,
               "train_config": asdict(cfg), "model_options": model_options, "data": str(data_path),
               "n_train": n_reviews, "n_val": len(prepared.val), "hardware": hardware(device),
               "command": command, "wall_seconds": None} | ({"pretrain": pretrained} if pretrained else {}) | (
                   {"teacher": {"path": cfg.teacher, "weights_sha256": weights_digest(resolve_checkpoint(cfg.teacher))}} if cfg.teacher else {}) | (
                   {"init_from": {"path": cfg.init_from,  # which weights it started from, should that folder change
                                  "weights_sha256": weights_digest(resolve_checkpoint(cfg.init_from))}} if cfg.init_from else {})
    lengths = prepared.train.lengths()
    steps_per_epoch = math.ceil(len(prepared.train) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    stopped = False
    for epoch in range(first_epoch, cfg.epochs + 1):
        torch.manual_seed(cfg.seed * 1000 + epoch)  # dropout noise per epoch: resuming replays it
        batches = bucket_batches(lengths, cfg.batch_size, np.random.default_rng([cfg.seed, epoch]))
        model.train()
        start, loss_sum, correct, seen, tokens = time.perf_counter(), 0.0, 0, 0, 0
        for step, index in enumerate(batches):
            if stop():
                stopped = True
                break
            lr = lr_at((epoch - 1) * steps_per_epoch + step, total_steps, cfg)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss, batch_correct, batch_tokens = train_step(model, optimizer, prepared.train, index, cfg.clip_norm,
                                                           device, cfg.adversarial, prepared)
            if average:
                average.update_parameters(model)
            loss_sum += loss * len(index)
            correct += batch_correct
            seen += len(index)
            tokens += batch_tokens
            yield Progress(epoch, step + 1, len(batches), loss_sum / seen)
        if seen == 0 and stopped:
            break
        seconds = time.perf_counter() - start
        val = evaluate(scored, prepared.val, device=device, with_logits=True) if validated else {"loss": None,
                                                                                                "accuracy": None}
        is_best = not validated or val["accuracy"] > best_val  # without validation the latest epoch is kept
        record = EpochRecord(epoch, loss_sum / seen, correct / seen, val["loss"], val["accuracy"], seconds,
                             tokens / max(seconds, 1e-9), lr, is_best, partial=stopped)
        history.append(asdict(record))
        metrics["wall_seconds"] = time.perf_counter() - wall_start
        if is_best:
            best_epoch, best_val = epoch, val["accuracy"] if validated else best_val
            metrics.update(best_epoch=best_epoch, val_accuracy=val["accuracy"])
            save_checkpoint(out_dir, scored, prepared.vocab, metrics, tokenizer, cfg.weights_dtype,
                            calibrate(val["logits"].numpy(), prepared.val.labels) if validated else calibration)
        else:
            write_metrics(out_dir, metrics)
        if not stopped:
            _save_state(resume_dir, model, optimizer, prepared.vocab, average, {
                "epoch": epoch, "history": history, "best_val": best_val, "best_epoch": best_epoch,
                "train_config": asdict(cfg), "model_options": model_options, "wall_seconds": metrics["wall_seconds"],
                "pretrain": pretrained})
        yield record
        if stopped:
            break
    yield Done(str(out_dir), best_epoch, best_val if best_epoch and validated else None, stopped,
               time.perf_counter() - wall_start, history)


def initial_weights(init_from, model_options: dict) -> tuple[SentimentRNN, Vocab]:
    """(model, vocabulary) of the checkpoint a run starts from (``init_from``), its weights as trained; it must
    have the run's model options, and its vocabulary is the run's, so that every weight keeps its word. Two
    exceptions: dropouts, which hold no weights, may differ (the run trains with its own); and a pooling that adds
    parts to the checkpoint's (maxmean -> maxmeanlast) starts the classifier's new parts at zero, so the run starts
    from exactly the checkpoint's answers."""
    model, vocab, _, _ = load_checkpoint(resolve_checkpoint(init_from), calibrated=False, unknown_word=False)
    wanted = ModelConfig(vocab_size=model.config.vocab_size, **model_options)
    differ = [(k, getattr(model.config, k), getattr(wanted, k)) for k in model_option_names()
              if getattr(model.config, k) != getattr(wanted, k) and not k.endswith("_dropout")]
    if [k for k, *_ in differ] == ["pooling"] and set(model.pool_parts) <= set(POOL_PARTS[wanted.pooling]):
        return _widened(model, wanted), vocab
    if differ:
        raise ValueError(f"cannot start from {init_from}: its model differs from this run's in "
                         + ", ".join(f"{k} ({a} there, {b} here)" for k, a, b in differ))
    return model, vocab


@torch.no_grad()
def _widened(model: SentimentRNN, config: ModelConfig) -> SentimentRNN:
    """``model`` with ``config``'s pooling, which holds every part of its own: the same weights, and the
    classifier's weights for each new part zero (so every logit is unchanged)."""
    wider = SentimentRNN(config)
    wider.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("classifier.")}, strict=False)
    old = model.classifier_parts()
    for name, block in wider.classifier_parts().items():
        block.copy_(old[name] if name in old else torch.zeros_like(block))
    wider.classifier.bias.copy_(model.classifier.bias)
    return wider


def _save_state(resume_dir: Path, model, optimizer, vocab: Vocab, average: AveragedModel | None, state: dict) -> None:
    """Last epoch's weights, their average and optimizer moments (tensors in safetensors, the rest in JSON)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if average:
        tensors |= {f"average.{k}": v.detach().cpu().contiguous() for k, v in average.state_dict().items()}
    opt = optimizer.state_dict()
    for index, moments in opt["state"].items():
        for name, value in moments.items():
            tensors[f"optim.{index}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    atomic_write(resume_dir / "state.safetensors", save(tensors))
    atomic_write(resume_dir / "vocab.json", vocab.to_json())
    atomic_write(resume_dir / "state.json", json.dumps({**state, "param_groups": opt["param_groups"]}))


def _load_state(resume_dir: Path, model, optimizer, device, average: AveragedModel | None) -> None:
    tensors = load_file(resume_dir / "state.safetensors")
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    if average:
        average.load_state_dict({k[len("average."):]: v for k, v in tensors.items() if k.startswith("average.")})
    moments: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            moments.setdefault(int(index), {})[name] = value.to(device) if name != "step" else value
    groups = json.loads((resume_dir / "state.json").read_text())["param_groups"]
    optimizer.load_state_dict({"state": moments, "param_groups": groups})


FLOATS_PER_UNIT_STEP = {"rnn": 8, "gru": 14, "lstm": 14}  # kept for the backward pass, per unit and token (measured)


def estimate_peak_mb(model_options: dict, cfg: TrainConfig) -> float:
    """Peak memory of training with these settings, estimated before any data is read: weights, gradients,
    Adam's two moments (and the weight average), the activations a batch of ``batch_size`` reviews of
    ``max_len`` tokens keeps for the backward pass (twice with adversarial training), and torch's own.
    Fitted to the peak RSS of two training steps measured on a CPU: 2 x 64 LSTM, batch 32 x 256 tokens,
    186 MB measured, 192 estimated; 2 x 256 LSTM, batch 16 x 512: 405 and 409; 4 x 512 LSTM, batch 2 x 2,048:
    776 and 935."""
    config = ModelConfig(vocab_size=cfg.vocab_size, **model_options)
    with torch.device("meta"):
        params = sum(p.numel() for p in SentimentRNN(config).parameters())
    state = params * 4 * (4 + (1 if cfg.ema else 0))
    per_token = 3 * config.embed_dim + config.num_layers * config.hidden_size * FLOATS_PER_UNIT_STEP[config.cell]
    activations = cfg.batch_size * cfg.max_len * per_token * 4 * (2 if cfg.adversarial else 1)
    if cfg.pretrain_epochs:  # next-word pieces: the adaptive softmax's head scores, with their gradients
        activations = max(activations, cfg.batch_size * min(SEGMENT, cfg.max_len) * (CUTOFFS[0] + 2) * 4 * 3)
    return (state + activations) / 2**20 + 100


def model_option_names() -> list[str]:
    return [f.name for f in fields(ModelConfig) if f.name != "vocab_size"]
