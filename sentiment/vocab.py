"""The vocabulary: token string <-> integer id, built from the training split only, stored as JSON."""
from __future__ import annotations

import json
from collections import Counter
from typing import Iterable

import numpy as np

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


class Vocab:
    def __init__(self, itos: list[str]):
        if itos[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}; got {itos[:2]!r}")
        if len(set(itos)) != len(itos):
            raise ValueError("a vocabulary holds each token once")
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @classmethod
    def build(cls, counts: Counter | dict[str, int], max_size: int = 30_000, min_freq: int = 2) -> "Vocab":
        """The ``max_size - 2`` most frequent tokens seen at least ``min_freq`` times (ties: alphabetical)."""
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in (PAD, UNK)),
                      key=lambda t: (-counts[t], t))
        return cls([PAD, UNK] + kept[:max(0, max_size - 2)])

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def lookup_table(self, types: list[str]) -> np.ndarray:
        """(len(types),) int64: vocabulary id of each corpus type, to encode whole splits at once."""
        return np.array([self.stoi.get(t, UNK_ID) for t in types], dtype=np.int64)

    def to_json(self) -> str:
        return json.dumps({"itos": self.itos, "pad": PAD, "unk": UNK}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Vocab":
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list):
            raise ValueError('expected an object with an "itos" list')
        return cls(data["itos"])
