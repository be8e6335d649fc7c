"""Next-word pretraining: before it learns sentiment, the network learns to predict each next word of the
training reviews (Dai & Le, 2015), so its embedding and recurrent layers start from what English text does.

    cfg = TrainConfig(pretrain_epochs=1)       # ``train`` runs ``pretrain`` first, on the same vocabulary
    python -m sentiment train --preset rnn --pretrain-epochs 1 --out runs/rnn-lm

Only the training split's reviews are read, never the validation or test text (validation perplexity is
measured, not trained on). The output layer is an adaptive softmax (Grave et al., 2017): the most frequent
words get a full row each and rare words share smaller clusters, so a step costs a small part of a
30,000-way softmax. The softmax is thrown away afterwards; the embedding and recurrent layers are kept.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from .batching import EncodedSplit, bucket_batches
from .model import SentimentRNN
from .text import pack

SEGMENT = 256  # tokens per next-word sequence: reviews are cut into pieces this long, each read from a fresh state
CUTOFFS = (2_000, 10_000)  # the adaptive softmax's frequency bands: the 2,000 most frequent ids, the next 8,000, the rest


@dataclass
class PretrainRecord:
    epoch: int
    train_perplexity: float  # exp of the mean next-word loss over this epoch's training pieces
    val_perplexity: float | None  # the same on the validation reviews (None without validation)
    seconds: float
    tokens_per_s: float


@dataclass
class PretrainProgress:
    epoch: int
    epochs: int  # next-word epochs in all
    step: int
    steps: int
    loss: float  # running mean next-word loss over this epoch so far


def segments(split: EncodedSplit, length: int = SEGMENT) -> EncodedSplit:
    """The reviews of ``split`` (each cut to its max_len) in consecutive pieces of at most ``length`` tokens;
    pieces shorter than 2 tokens (nothing to predict) are left out."""
    read = np.minimum(np.diff(split.offsets), split.max_len)  # (n,) tokens of each review
    pieces = [split.ids[start + a:start + min(a + length, n)] for start, n in zip(split.offsets[:-1], read)
              for a in range(0, n, length) if min(a + length, n) - a >= 2]
    ids, offsets = pack(pieces, split.ids.dtype)
    return EncodedSplit(ids, offsets, np.zeros(len(pieces), dtype=np.int64), length)


class NextWord(nn.Module):
    """``model``'s embedding and recurrent layers under an adaptive softmax over its vocabulary."""

    def __init__(self, model: SentimentRNN):
        super().__init__()
        self.model = model
        c = model.config
        self.drop = nn.Dropout(c.output_dropout)
        cutoffs = [k for k in CUTOFFS if k < c.vocab_size - 1]
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(c.hidden_size, c.vocab_size, cutoffs or [c.vocab_size - 1],
                                                     div_value=4.0)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(B, T) ids padded on the right, (B,) lengths >= 2 -> (mean loss over every predicted word, their number)."""
        top = self.model.encode(ids[:, :-1])[-1]  # (B, T-1, H): the state after reading each word but the last
        T = ids.shape[1] - 1
        mask = torch.arange(T, device=ids.device)[None, :] < (lengths - 1)[:, None]  # (B, T-1) real next words
        out = self.softmax(self.drop(top[mask]), ids[:, 1:][mask])  # (N, H) states -> the N next words' loss
        return out.loss, int(mask.sum())


@torch.no_grad()
def perplexity(lm: NextWord, pieces: EncodedSplit, batch_size: int, device) -> float:
    """exp of the mean next-word loss over ``pieces``, in eval mode."""
    was_training = lm.training
    lm.eval()
    total, words = 0.0, 0
    for index in bucket_batches(pieces.lengths(), batch_size, rng=None):
        ids, lengths, _ = pieces.batch(index)
        loss, n = lm(ids.to(device), lengths.to(device))
        total, words = total + loss.item() * n, words + n
    lm.train(was_training)
    return math.exp(total / max(words, 1))


def pretrain(model: SentimentRNN, train: EncodedSplit, val: EncodedSplit, cfg, device,
             stop=lambda: False) -> Iterator[PretrainProgress | PretrainRecord]:
    """Train ``model``'s embedding and recurrent layers in place to predict the next word of ``train``'s
    reviews, for ``cfg.pretrain_epochs`` epochs at ``cfg.lr`` (warm-up, then the run's schedule), batches of
    ``cfg.batch_size`` pieces. Yields progress, then a record per epoch; returns early when ``stop()``."""
    # local import: train imports this module
    from .train import lr_at
    pieces, val_pieces = segments(train), segments(val) if len(val) else None
    lm = NextWord(model).to(device)
    lm.train()
    optimizer = torch.optim.AdamW(lm.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    lengths = pieces.lengths()
    steps_per_epoch = math.ceil(len(pieces) / cfg.batch_size)
    for epoch in range(1, cfg.pretrain_epochs + 1):
        batches = bucket_batches(lengths, cfg.batch_size, np.random.default_rng([cfg.seed, 100 + epoch]))
        start, loss_sum, words = time.perf_counter(), 0.0, 0
        for step, index in enumerate(batches):
            if stop():
                return
            for group in optimizer.param_groups:
                group["lr"] = lr_at((epoch - 1) * steps_per_epoch + step, steps_per_epoch * cfg.pretrain_epochs, cfg)
            ids, batch_lengths, _ = pieces.batch(index)
            optimizer.zero_grad(set_to_none=True)
            loss, n = lm(ids.to(device), batch_lengths.to(device))
            loss.backward()
            if cfg.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(lm.parameters(), cfg.clip_norm)
            optimizer.step()
            loss_sum, words = loss_sum + loss.item() * n, words + n
            yield PretrainProgress(epoch, cfg.pretrain_epochs, step + 1, len(batches), loss_sum / words)
        seconds = time.perf_counter() - start
        val_ppl = perplexity(lm, val_pieces, cfg.batch_size, device) if val_pieces is not None else None
        yield PretrainRecord(epoch, math.exp(loss_sum / max(words, 1)), val_ppl, seconds, words / max(seconds, 1e-9))
