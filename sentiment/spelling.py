"""Misspelled words read as the word meant: "wonderfull" as "wonderful".

    speller = Speller(vocab)
    speller.fix(["the", "acting", "was", "wonderfull", "."])   # (["the", "acting", "was", "wonderful", "."], [(3, "wonderfull")])

A network reads a word it does not know as ``<unk>``, one vector for all of them, and IMDB taught it that an unknown
word leans negative, so "The acting was wonderfull." read 0.32. The rule, for a word the vocabulary lacks (letters
only, at least ``MIN_LENGTH`` long): if English rarely writes it (a Zipf frequency below ``MAX_ZIPF`` in
``wordfreq``'s English list: fewer than about one in three million words), and one edit away (a letter dropped,
added, changed, or two swapped) there is a word the vocabulary holds that English writes at least ``MIN_GAIN``
Zipf points (100×) more often, it is read as the one of them the training reviews use most (the vocabulary's
order: "movei" as "movie", not as "move", which English writes more often). Real words the vocabulary lacks
("unwind", "paving", "mirth") are common enough in English to stay as written: "unwind" is not read as "unkind".
A rare name can be read as a common one ("dusan" as "susan"); ``docs/experiments.md`` has the figures.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .vocab import UNK_ID, Vocab

MIN_LENGTH = 4  # shorter words have too many neighbours one edit away
MAX_ZIPF = 2.5  # a word English writes more often than this is taken as meant (Zipf: log10 of uses per 10^9 words)
MIN_GAIN = 2.0  # the word read instead is written at least this much more often (2.0: 100 times)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str) -> set[str]:
    """Every string one edit from ``word``: a letter deleted, two neighbours swapped, a letter changed or inserted."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in LETTERS} | {a + c + b for a, b in splits for c in LETTERS})


def zipf(word: str) -> float:
    from wordfreq import zipf_frequency  # here: its English list (about 50 MB) loads at the first unknown word

    return zipf_frequency(word, "en")


def load_word_list() -> None:
    """Load wordfreq's English list now (about 0.2 s), not at the first unknown word a visitor types."""
    zipf("the")


class Speller:
    def __init__(self, vocab: Vocab):
        self.vocab = vocab
        self.meant = lru_cache(maxsize=20_000)(self._meant)  # a server meets new words without end

    def _meant(self, word: str) -> str | None:
        """The word the vocabulary holds that ``word`` (which it lacks) misspells, or None."""
        if len(word) < MIN_LENGTH or not (word.isalpha() and word.isascii()) or word in self.vocab.stoi:
            return None
        written = zipf(word)
        if written >= MAX_ZIPF:
            return None
        meant = [c for c in one_edit(word) & self.vocab.stoi.keys() if zipf(c) >= written + MIN_GAIN]  # C-speed &
        return min(meant, key=self.vocab.stoi.__getitem__, default=None)  # the training reviews' most used

    def fix(self, tokens: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
        """(``tokens`` with misspellings read as meant, [(position, the token as written)] for each one changed)."""
        read, changed = list(tokens), []
        for i, token in enumerate(tokens):
            if token not in self.vocab.stoi and (meant := self.meant(token)) is not None:
                read[i] = meant
                changed.append((i, token))
        return read, changed

    def lookup_table(self, types: list[str], lookup: np.ndarray, token_ids: np.ndarray) -> np.ndarray:
        """``lookup`` (the vocabulary id of each corpus type, ``Vocab.lookup_table``) with the unknown types among
        ``token_ids`` read as the words they misspell, as ``fix`` reads them."""
        read = lookup.copy()
        seen = np.zeros(len(types), dtype=bool)
        seen[token_ids] = True
        for t in np.flatnonzero(seen & (lookup == UNK_ID)):
            if (meant := self.meant(types[t])) is not None:
                read[t] = self.vocab.stoi[meant]
        return read
