"""Negation pairs made from the training reviews' own sentences (a data augmentation rule of this project).

    pairs = negation_pairs(train_tokens, corpus.types, n=20_000, rng=rng)

1. **Opinion words from the data.** A word is positive (negative) when far more positive (negative)
   training reviews use it than chance allows: the log-odds ratio of its document frequency in the two
   classes, divided by its standard error (Monroe et al., 2008), among words at least ``min_reviews``
   reviews use. No hand-made word list is involved.
2. **Sentences that say one opinion plainly.** Short training sentences in which exactly one opinion
   word follows a form of *be* ("the plot was dull ."), with no negation anywhere in them.
3. **The pair.** The sentence as it is, labelled by its word's side, and the same sentence with *not*
   after the verb ("the plot was not dull ."), labelled the other way: a negated positive is negative;
   a negated negative leans positive (``NEGATED_NEGATIVE``), as "not bad" is faint praise. The negation
   is "not", "n't" or "never" (``NEGATORS``).

Both get soft targets (``TARGETS``), so the network learns that *not* turns the word after it.
"""
from __future__ import annotations

import numpy as np

from .distill import SENTENCE_ENDS
from .text import TokenizedSplit, pack

BE = ("is", "was", "are", "were")  # "not", "n't" and "never" read naturally after each
NEGATIONS = ("not", "n't", "never", "no", "nothing", "none", "nobody", "neither", "nor", "without", "hardly",
             "barely", "cannot", "nowhere")
CONTRAST = ("but", "however", "although", "though", "yet", "while", "whereas")  # sentences that may turn are left out
NEGATORS = (("not", 0.5), ("n't", 0.3), ("never", 0.2))  # what is put after the verb, and how often
TARGETS = {"positive": 0.9, "negative": 0.1}  # P(positive) learnt for a plain opinion sentence
NEGATED_POSITIVE = 0.1  # "was not great": negative
NEGATED_NEGATIVE = 0.7  # "was not bad": leans positive, less sure


def opinion_words(split: TokenizedSplit, types: list[str], min_reviews: int = 50, max_share: float = 0.1,
                  top: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """(positive type ids, negative type ids): the ``top`` words of each side with the largest log-odds
    ratio of document frequencies between the classes, among words (letters only) that are significant
    (|z| > 3), used by at least ``min_reviews`` reviews and by at most ``max_share`` of them (so not
    function words)."""
    in_review = np.zeros((2, len(types)))  # reviews of each class that use each type at least once
    for i in range(len(split)):
        in_review[split.labels[i], np.unique(split.token_ids[split.offsets[i]:split.offsets[i + 1]])] += 1
    neg, pos = in_review + 0.5  # (n_types,) each, smoothed
    n_neg, n_pos = (split.labels == 0).sum() + 1, (split.labels == 1).sum() + 1
    log_odds = np.log(pos / (n_pos - pos + 1)) - np.log(neg / (n_neg - neg + 1))  # (n_types,)
    z = log_odds / np.sqrt(1 / pos + 1 / neg)
    used = in_review.sum(0)
    letters = np.array([t.isalpha() for t in types])
    eligible = letters & (used >= min_reviews) & (used <= max_share * len(split)) & (np.abs(z) > 3)
    score = np.where(eligible, log_odds, 0.0)
    order = np.argsort(score)
    positive, negative = order[::-1][:top], order[:top]
    return positive[score[positive] > 0], negative[score[negative] < 0]


def negation_pairs(split: TokenizedSplit, types: list[str], n: int, rng: np.random.Generator,
                   max_tokens: int = 20) -> tuple[TokenizedSplit, np.ndarray]:
    """Up to ``n`` sentence pairs (plain, negated) from ``split``, as a TokenizedSplit of 2 x pairs examples
    (each pair side by side) and their (2 x pairs,) targets: P(positive) to learn."""
    index = {t: i for i, t in enumerate(types)}
    is_type = lambda words: np.isin(np.arange(len(types)), [index[w] for w in words if w in index])
    be, negation, end, contrast = is_type(BE), is_type(NEGATIONS), is_type(SENTENCE_ENDS), is_type(CONTRAST)
    negators = [(index[w], share) for w, share in NEGATORS if w in index]
    if not negators or len(split) == 0:
        return TokenizedSplit(*pack([], split.token_ids.dtype), np.zeros(0, np.int64), [], []), np.zeros(0, np.float32)
    negator_ids = np.array([i for i, _ in negators])
    negator_p = np.array([share for _, share in negators]) / sum(share for _, share in negators)
    positive, negative = opinion_words(split, types)
    side = np.zeros(len(types), dtype=np.int8)  # +1 positive word, -1 negative word
    side[positive], side[negative] = 1, -1
    candidates = []  # (review, sentence start, sentence end, the opinion word's place in the sentence)
    for i in range(len(split)):
        review = split.token_ids[split.offsets[i]:split.offsets[i + 1]]
        bounds = np.concatenate([[0], np.flatnonzero(end[review]) + 1, [len(review)]])
        for s, e in zip(bounds[:-1], bounds[1:]):
            sentence = review[s:e]
            if not 3 <= len(sentence) <= max_tokens or negation[sentence].any() or contrast[sentence].any():
                continue
            opinions = np.flatnonzero(side[sentence])
            if len(opinions) == 1 and opinions[0] > 0 and be[sentence[opinions[0] - 1]]:
                candidates.append((i, s, e, opinions[0]))
    pieces, targets, labels, names, movies = [], [], [], [], []
    for c in rng.permutation(len(candidates))[:n]:
        i, s, e, at = candidates[c]
        sentence = split.token_ids[split.offsets[i] + s:split.offsets[i] + e]
        good = side[sentence[at]] > 0
        negator = rng.choice(negator_ids, p=negator_p)
        pieces += [sentence, np.concatenate([sentence[:at], [negator], sentence[at:]]).astype(sentence.dtype)]
        targets += [TARGETS["positive" if good else "negative"], NEGATED_POSITIVE if good else NEGATED_NEGATIVE]
        labels += [int(good), int(not good)]
        names += [split.names[i]] * 2
        movies += [split.movies[i]] * 2
    return (TokenizedSplit(*pack(pieces, split.token_ids.dtype), np.asarray(labels, dtype=np.int64), names, movies),
            np.asarray(targets, dtype=np.float32))
