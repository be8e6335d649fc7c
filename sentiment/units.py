"""What each hidden unit responds to: the words that most excite and most inhibit it, on average,
over a sample of IMDB reviews. Computed once per checkpoint and stored beside it as ``units.json``
(the offline step that LSTMVis and RNNVis do with separate tooling).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .batching import EncodedSplit, bucket_batches
from .checkpoint import atomic_write
from .model import SentimentRNN
from .vocab import Vocab

FILE = "units.json"


@torch.inference_mode()
def unit_words(model: SentimentRNN, vocab: Vocab, split: EncodedSplit, n_reviews: int = 2000,
               min_count: int = 20, min_reviews: int = 15, top_k: int = 12, seed: int = 0) -> dict:
    """For every layer and unit: the ``top_k`` words with the highest mean activation above 0 (``excite``)
    and the lowest below 0 (``inhibit``); a unit that never averages above 0 on any word excites on none.

    Only words seen at least ``min_count`` times, in at least ``min_reviews`` different reviews of the
    sample, count: a character's name repeated in the few reviews of one film cannot top a list.
    """
    model.eval()
    index = np.random.default_rng(seed).permutation(len(split))[:n_reviews]
    L, H, V = model.config.num_layers, model.config.hidden_size, len(vocab)
    sums = torch.zeros(L, V, H, dtype=torch.float64)  # summed activation of each unit at each word
    counts = torch.zeros(V, dtype=torch.float64)
    in_reviews = torch.zeros(V, dtype=torch.int64)  # how many reviews of the sample hold each word
    lengths = split.lengths()[index]
    for batch in bucket_batches(lengths, 64, rng=None):
        ids, batch_lengths, _ = split.batch(index[batch])
        states = model.encode(ids)  # L x (B, T, H)
        valid = torch.arange(ids.shape[1])[None, :] < batch_lengths[:, None]  # (B, T)
        words = ids[valid]  # (N,)
        counts.index_add_(0, words, torch.ones(len(words), dtype=torch.float64))
        present = torch.zeros(len(ids), V, dtype=torch.bool).scatter_(1, ids * valid, True)  # (B, V); pads at 0
        in_reviews += present.sum(0)
        for layer, state in enumerate(states):
            sums[layer].index_add_(0, words, state[valid].double())  # (N, H) into (V, H)
    frequent = torch.nonzero((counts >= min_count) & (in_reviews >= min_reviews)).squeeze(1)
    frequent = frequent[frequent > 1]  # not <pad>, not <unk>
    means = sums[:, frequent] / counts[frequent][None, :, None]  # (L, F, H)
    layers = []
    for layer in range(L):
        units = []
        for unit in range(H):
            values = means[layer, :, unit]  # (F,)
            order = torch.argsort(values)
            pick = lambda rows: [[vocab.itos[frequent[i]], round(float(values[i]), 4)] for i in rows]
            units.append({"excite": pick([i for i in order.flip(0)[:top_k].tolist() if values[i] > 0]),
                          "inhibit": pick([i for i in order[:top_k].tolist() if values[i] < 0])})
        layers.append(units)
    return {"layers": layers, "n_reviews": len(index), "min_count": min_count, "min_reviews": min_reviews,
            "n_words": len(frequent)}


def save_unit_words(directory, table: dict) -> None:
    atomic_write(Path(directory) / FILE, json.dumps(table, ensure_ascii=False))


def load_unit_words(directory) -> dict | None:
    """The stored table, or None when this checkpoint has none yet (or it cannot be read)."""
    path = Path(directory) / FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
