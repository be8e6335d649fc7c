"""Learning from a teacher, and from short pieces of reviews (knowledge distillation; Hinton et al., 2015).

    windows = sentence_windows(train_tokens, corpus.types, per_review=1, rng=rng)   # 1-3 sentences each
    logits = teacher_logits("checkpoints/large", corpus.types, windows)              # (n,) the teacher's

A trained model (the teacher) scores every training review, and short windows of them: runs of one to
three whole sentences, which are what people type into the app. The student learns the teacher's
probabilities, softened by a temperature, beside (for reviews) the reviews' own labels. The teacher's
scores are computed once per data set and cached, keyed by its weights and the tokens it read.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from .batching import EncodedSplit
from .checkpoint import load_checkpoint, weights_digest
from .data import cache_dir, prune_least_recently_used
from .text import TokenizedSplit, pack

SENTENCE_ENDS = (".", "!", "?", "...")  # tokens that end a sentence (negation.py splits sentences by them too)
WINDOW_MAX_TOKENS = 60  # a window is cut here even mid-sentence
KEEP_TEACHER_CACHES = 64  # teachers' logits kept (one file per teacher and piece of data, up to a few MB each)


def sentence_starts(is_end: np.ndarray) -> np.ndarray:
    """(S,) the first token of each sentence of a text, given (L,) whether each token ends a sentence (a text's
    own last token starts none)."""
    return np.concatenate([[0], np.flatnonzero(is_end[:-1]) + 1])


def sentence_windows(split: TokenizedSplit, types: list[str], per_review: int, rng: np.random.Generator,
                     max_sentences: int = 3, max_tokens: int = WINDOW_MAX_TOKENS) -> TokenizedSplit:
    """``per_review`` windows of each review: 1 to ``max_sentences`` whole sentences from a random sentence
    start (a review's first sentence included, so prefixes are among them), at most ``max_tokens`` tokens.
    Each window keeps its review's label, name and movie."""
    ends = np.isin(np.asarray(types, dtype=object), SENTENCE_ENDS)  # (n_types,) bool
    pieces, labels, names, movies = [], [], [], []
    for i in range(len(split)):
        review = split.token_ids[split.offsets[i]:split.offsets[i + 1]]  # (L,)
        if len(review) == 0:
            continue
        starts = sentence_starts(ends[review])  # (S,)
        bounds = np.concatenate([starts, [len(review)]])  # (S + 1,)
        for _ in range(per_review):
            s = int(rng.integers(len(starts)))
            e = min(s + int(rng.integers(1, max_sentences + 1)), len(starts))
            begin, end = bounds[s], min(bounds[e], bounds[s] + max_tokens)
            pieces.append(review[begin:end])
            labels.append(split.labels[i])
            names.append(split.names[i])
            movies.append(split.movies[i])
    return TokenizedSplit(*pack(pieces, split.token_ids.dtype), np.asarray(labels, dtype=np.int64), names, movies)


def sentence_endings(split: TokenizedSplit, types: list[str], rng: np.random.Generator, max_sentences: int = 2,
                     max_tokens: int = WINDOW_MAX_TOKENS) -> TokenizedSplit:
    """Each review's ending: its last 1 to ``max_sentences`` whole sentences (drawn), at most its last
    ``max_tokens`` tokens. Each keeps its review's label, name and movie."""
    ends = np.isin(np.asarray(types, dtype=object), SENTENCE_ENDS)  # (n_types,) bool
    pieces, keep = [], []
    for i in range(len(split)):
        review = split.token_ids[split.offsets[i]:split.offsets[i + 1]]  # (L,)
        if len(review) == 0:
            continue
        starts = sentence_starts(ends[review])  # (S,)
        s = max(len(starts) - int(rng.integers(1, max_sentences + 1)), 0)
        pieces.append(review[max(starts[s], len(review) - max_tokens):])
        keep.append(i)
    return TokenizedSplit(*pack(pieces, split.token_ids.dtype), split.labels[keep],
                          [split.names[i] for i in keep], [split.movies[i] for i in keep])


def teacher_logits(teacher_dir, types: list[str], split: TokenizedSplit, lowercase: bool, keep_html: bool,
                   device: torch.device | str = "cpu", use_cache: bool = True) -> np.ndarray:
    """(n,) the teacher's logit of "positive" for each review of ``split`` (tokens into ``types``).

    The teacher must have read tokens made the same way (case, HTML) as the student's; it encodes them
    with its own vocabulary and reads at most its own ``max_len`` of each.
    """
    from .train import split_logits  # train imports this module

    teacher_dir = resolve_checkpoint(teacher_dir)
    model, vocab, config, _ = load_checkpoint(teacher_dir, device)
    tokenizer = config["tokenizer"]
    if tokenizer["lowercase"] != lowercase or tokenizer.get("keep_html", False) != keep_html:
        raise ValueError(f"the teacher {teacher_dir} read {'lowercased' if tokenizer['lowercase'] else 'cased'} tokens"
                         f"{' with HTML' if tokenizer.get('keep_html') else ''}; this run's tokens differ. "
                         "Train with the teacher's --cased/--keep-html settings.")
    key = hashlib.sha256()
    for part in (weights_digest(teacher_dir).encode(), "\n".join(types).encode(), split.token_ids.tobytes(),
                 split.offsets.tobytes()):
        key.update(part)
    cache_file = cache_dir() / "teacher" / f"{key.hexdigest()[:24]}.npy"
    if use_cache and cache_file.exists():
        try:
            logits = np.load(cache_file)
            os.utime(cache_file)  # used now: the pruning below keeps the most recently used
            return logits
        except (OSError, ValueError):
            pass  # a damaged or vanished cache file is computed again
    encoded = EncodedSplit.from_tokens(split, vocab.lookup_table(types), tokenizer["max_len"])
    logits = split_logits(model, encoded, batch_size=64, device=torch.device(device)).numpy()  # (n,)
    if use_cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")  # its own name: runs side by side may write the same key
        with os.fdopen(fd, "wb") as f:
            np.save(f, logits)
        os.replace(tmp, cache_file)
        prune_least_recently_used(cache_file.parent, "*.npy", KEEP_TEACHER_CACHES)
    return logits


def resolve_checkpoint(path) -> Path:
    """A checkpoint folder (a teacher, a run's temperature) named as given, else relative to this project's
    folder (``checkpoints/large`` from anywhere)."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    beside = Path(__file__).resolve().parents[1] / given
    return beside if beside.exists() else given


def distill_loss(logits: torch.Tensor, labels: torch.Tensor, teacher: torch.Tensor | None, mix: torch.Tensor | None,
                 weight: torch.Tensor | None, temperature: float | torch.Tensor) -> torch.Tensor:
    """The loss of one batch, a weighted mean over its reviews.

    logits, labels (B,): the student's logits and the labels; teacher (B,): the teacher's logits, or None;
    mix (B,): per review, the share of the loss that is the teacher's (1 - mix: the label's);
    weight (B,): per review, its weight in the mean (None: all 1).
    The teacher's part is the cross-entropy against its probability at ``temperature``, times
    temperature**2 so its gradients keep their scale (Hinton et al., 2015); ``temperature`` may be one
    per review (B,).
    """
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    loss = bce(logits, labels.float(), reduction="none")  # (B,)
    if teacher is not None:
        t = temperature
        soft = bce(logits / t, torch.sigmoid(teacher / t), reduction="none") * t * t  # (B,)
        loss = (1 - mix) * loss + mix * soft
    if weight is None:
        return loss.mean()
    return (loss * weight).sum() / weight.sum()
