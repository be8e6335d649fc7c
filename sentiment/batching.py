"""Encoded reviews and length-bucketed batches (what torchtext's BucketIterator did, in a few lines)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .text import TokenizedSplit, take_reviews
from .vocab import PAD_ID, Vocab


@dataclass
class EncodedSplit:
    """Reviews as vocabulary ids, each cut to at most ``max_len`` tokens (the first ones are kept)."""
    ids: np.ndarray  # (total_tokens,) int64 vocabulary ids
    offsets: np.ndarray  # (n + 1,) int64
    labels: np.ndarray  # (n,) int64, 1 = positive
    max_len: int

    @classmethod
    def from_tokens(cls, split: TokenizedSplit, lookup: np.ndarray, max_len: int) -> "EncodedSplit":
        """``lookup`` maps corpus type ids to vocabulary ids (``Vocab.lookup_table``)."""
        return cls(lookup[split.token_ids], split.offsets, split.labels, max_len)

    def __len__(self) -> int:
        return len(self.labels)

    def lengths(self) -> np.ndarray:
        """(n,) tokens the model reads of each review: at least 1, at most max_len."""
        return np.clip(np.diff(self.offsets), 1, self.max_len)

    def subset(self, index) -> "EncodedSplit":
        """The reviews at ``index``, in that order (e.g. a seeded sample of the test split)."""
        index = np.asarray(index, dtype=np.int64)
        ids, offsets = take_reviews(self.ids, self.offsets, index)
        return EncodedSplit(ids, offsets, self.labels[index], self.max_len)

    def concat(self, other: "EncodedSplit") -> "EncodedSplit":
        """This split's reviews, then ``other``'s, as one split (this one's max_len)."""
        return EncodedSplit(np.concatenate([self.ids, other.ids]),
                            np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]]),
                            np.concatenate([self.labels, other.labels]), self.max_len)

    def batch(self, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T) ids padded on the right, (B,) lengths, (B,) labels for the reviews in ``index``."""
        lengths = self.lengths()[index]
        ids = np.full((len(index), lengths.max()), PAD_ID, dtype=np.int64)  # (B, T)
        for row, i in enumerate(index):
            start = self.offsets[i]
            review = self.ids[start:min(self.offsets[i + 1], start + self.max_len)]
            ids[row, :len(review)] = review  # an empty review stays one <pad>
        return torch.from_numpy(ids), torch.from_numpy(lengths), torch.from_numpy(self.labels[index])


def encode_texts(token_lists: list[list[str]], vocab: Vocab, max_len: int) -> EncodedSplit:
    ids = [vocab.encode(tokens) for tokens in token_lists]
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
    flat = np.fromiter((i for x in ids for i in x), dtype=np.int64, count=int(offsets[-1]))
    return EncodedSplit(flat, offsets, np.zeros(len(ids), dtype=np.int64), max_len)


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None,
                   pool_batches: int = 50) -> list[np.ndarray]:
    """Batches of reviews of similar length, so little compute goes to padding.

    With ``rng``: shuffle, sort by length within pools of ``pool_batches`` batches, cut into batches,
    shuffle the batches (random yet bucketed, as BucketIterator did). Without: sorted by length.
    """
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = rng.permutation(n)
        pool = batch_size * pool_batches
        order = np.concatenate([chunk[np.argsort(lengths[chunk], kind="stable")]
                                for chunk in np.split(order, range(pool, n, pool))]) if n else order
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def padded_batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The homework's way, for comparison: random batches, each padded to its longest review."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]
