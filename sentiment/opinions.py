"""Opinion words swapped for others of the same side and strength (``--swap-opinions``).

    group_of, pools = opinion_swaps(types, train_tokens, lookup)     # who is replaced, and by whom
    train = swap_words(train, group_of, pools, share=0.5, rng=rng)   # sentiment/names.py

IMDB teaches a network the opinion words that film reviews use. "Delicious", "attentive" or "courteous" are rare
there, so a review of a restaurant or a shop is read mostly by its few film words. Public lexicons know how people
rate everyday adjectives: ``opinion_words.tsv`` (built by ``scripts/opinion_words.py`` from Pattern's English
adjectives and VADER) gives about 700 a side and a strength. The rule: in a share of the training texts (reviews,
windows, pairs, turns), each opinion word that the training reviews confirm is replaced by one drawn at random
from the list's words of the same side and strength that the vocabulary holds, the same replacement wherever it
recurs in a text. Labels and the teacher's probabilities stay those of the text as written, so a rare word learns
the part that the common words of its side play ("the service was delicious" is clumsy English, but it is read
as a verdict on the right side).

The training reviews judge each word too. A word is *confirmed*, and replaced, where they use it for its side: it
is in at least ``MIN_REVIEWS`` of them, and a review that holds it is positive at log-odds at least
``MIN_LOG_ODDS`` above (for a negative word: below) those of all reviews. Words that film reviews use either way
("good": "not good", "good actors wasted") are not replaced but can be drawn. Words they use for the other side
("cheap" is a compliment in the list and a complaint in film reviews) are neither.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .vocab import UNK_ID

WORDS_FILE = Path(__file__).with_name("opinion_words.tsv")
STRENGTHS = (0.5, 0.75)  # |score| below 0.5, below 0.75, from 0.75: three strengths a side
MIN_REVIEWS = 20  # training reviews that hold a word, for the reviews to judge it
MIN_LOG_ODDS = 0.25  # how far those reviews lean to a side


@lru_cache(maxsize=1)
def lexicon() -> dict[str, float]:
    """word -> score in [-1, 1] (negative .. positive), from ``opinion_words.tsv``."""
    rows = (line.split("\t") for line in WORDS_FILE.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#"))
    return {word: float(score) for word, score in rows}


def group(score: float) -> int:
    """0..5: side × strength; words swap only within their group."""
    return int(score > 0) * (len(STRENGTHS) + 1) + int(np.searchsorted(STRENGTHS, abs(score), side="right"))


def review_log_odds(split, n_types: int) -> tuple[np.ndarray, np.ndarray]:
    """Per type of ``split`` (a ``text.TokenizedSplit``): (the reviews that hold it, the log-odds that such a review
    is positive less that of all reviews)."""
    negative, positive = split.reviews_holding(n_types)  # (n_types,) each
    prior = np.log((split.labels == 1).sum() + 1) - np.log((split.labels == 0).sum() + 1)
    return positive + negative, np.log(positive + 1) - np.log(negative + 1) - prior


def opinion_swaps(types: list[str], train_tokens, lookup: np.ndarray,
                  exclude: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """For ``names.swap_words``: (the group of each vocabulary id, -1 for words never replaced; per group, the
    vocabulary ids drawn from and their weights, all 1). ``train_tokens`` (a ``text.TokenizedSplit`` over
    ``types``) judges each word; ``lookup`` maps type ids to vocabulary ids; ``exclude`` (vocabulary ids: the
    names) are neither replaced nor drawn."""
    words = lexicon()
    reviews, log_odds = review_log_odds(train_tokens, len(types))
    group_of = np.full(int(lookup.max()) + 1, -1, dtype=np.int64)
    drawn = [set() for _ in range(2 * (len(STRENGTHS) + 1))]
    excluded = set() if exclude is None else {int(i) for i in exclude}
    for t, word in enumerate(types):
        v = int(lookup[t])
        if word not in words or v == UNK_ID or v in excluded:
            continue
        lean = log_odds[t] * np.sign(words[word]) if reviews[t] >= MIN_REVIEWS else 0.0  # > 0: the word's side
        if lean <= -MIN_LOG_ODDS:
            continue  # the reviews use it for the other side
        drawn[group(words[word])].add(v)
        if lean >= MIN_LOG_ODDS:
            group_of[v] = group(words[word])
    # a replaced word is drawn from its own group too, so no group that has words to replace is empty
    return group_of, [(np.array(sorted(ids), dtype=np.int64), np.ones(len(ids))) for ids in drawn]
