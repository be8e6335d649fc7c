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

That is the ``"be"`` kind of pair. Three more kinds (``KINDS``) find other forms in the same sentences.
They draw on a wider list of opinion words (``WIDE``: the top 1,000 of each side that are at least twice as
likely in one class's reviews as in the other's, used by up to half the reviews, so common words such as
"bad" and "great" are in it), and tell a word's class from the data too:

- ``"common"``: the be-form again, for the wider list's words that the first list leaves out ("the acting
  was bad ." -> "the acting was n't bad .").
- ``"verb"``: the opinion word is the speaker's own verb, right after *I*, *we*, *you* or *they* (or after
  one *-ly* word there): "i loved it ." becomes "i did n't love it ." or "i never loved it ."; "we
  recommend it ." becomes "we do n't recommend it .". A verb is a word found right after those
  subjects in at least a quarter of its uses, and not followed by a mark ("i mean , ..." is left out). A past form's plain form is found in the vocabulary
  ("loved" -> "love", "enjoyed" -> "enjoy"); without one, only *never* is used.
- ``"fragment"``: a verbless sentence of at most five words that opens with the opinion word, or with one
  article or degree word before it ("awful .", "a great film !", "very funny ."), gets *not* in front:
  "not awful .", "not a great film !". The word must be an adjective by the data: found after *is*,
  *was*, *very*, *so* and the like (``DESCRIBERS``) in at least a tenth of its uses.

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
KINDS = ("be", "common", "verb", "fragment")  # the forms of pair (see above); "be" alone is the first rule's
WIDE = {"max_share": 0.5, "top": 1000, "min_log_odds": 0.7}  # opinion_words' settings for every kind but "be"
DESCRIBERS = BE + ("very", "so", "too", "pretty", "quite", "really")  # an adjective often follows these
SUBJECTS = ("i", "we", "you", "they")  # a verb of opinion right after these is the speaker's (first or plural)
OPENERS = ("a", "an", "the", "very", "so", "too", "really", "quite", "pretty", "truly", "simply", "just")
FRAGMENT_WORDS = 5  # a fragment's most words, its end mark aside


def opinion_words(split: TokenizedSplit, types: list[str], min_reviews: int = 50, max_share: float = 0.1,
                  top: int = 300, min_log_odds: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(positive type ids, negative type ids): the ``top`` words of each side with the largest log-odds
    ratio of document frequencies between the classes, among words (letters only) that are significant
    (|z| > 3), used by at least ``min_reviews`` reviews and by at most ``max_share`` of them (so not
    function words), and at least ``min_log_odds`` away from even odds."""
    in_review = split.reviews_holding(len(types)).astype(np.float64)  # (2, n_types) reviews of each class using it
    neg, pos = in_review + 0.5  # (n_types,) each, smoothed
    n_neg, n_pos = (split.labels == 0).sum() + 1, (split.labels == 1).sum() + 1
    log_odds = np.log(pos / (n_pos - pos + 1)) - np.log(neg / (n_neg - neg + 1))  # (n_types,)
    z = log_odds / np.sqrt(1 / pos + 1 / neg)
    used = in_review.sum(0)
    letters = np.array([t.isalpha() for t in types])
    eligible = (letters & (used >= min_reviews) & (used <= max_share * len(split)) & (np.abs(z) > 3)
                & (np.abs(log_odds) >= min_log_odds))
    score = np.where(eligible, log_odds, 0.0)
    order = np.argsort(score)
    positive, negative = order[::-1][:top], order[:top]
    return positive[score[positive] > 0], negative[score[negative] < 0]


def negation_pairs(split: TokenizedSplit, types: list[str], n: int, rng: np.random.Generator,
                   max_tokens: int = 20, kinds: tuple[str, ...] = ("be",)) -> tuple[TokenizedSplit, np.ndarray]:
    """Up to ``n`` sentence pairs (plain, negated) from ``split``, shared evenly by ``kinds`` (the first
    takes the remainder), as a TokenizedSplit of 2 x pairs examples (each pair side by side) and their
    (2 x pairs,) targets: P(positive) to learn."""
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"negation pair kinds must be some of {', '.join(KINDS)}; got {', '.join(kinds) or 'none'}")
    found = pair_candidates(split, types, kinds, max_tokens)
    pieces, targets, labels, names, movies = [], [], [], [], []
    for k, kind in enumerate(kinds):
        share = n // len(kinds) + (n % len(kinds) if k == 0 else 0)
        candidates, make, side = found[kind]
        for c in rng.permutation(len(candidates))[:share]:
            i, s, e, at = candidates[c]
            sentence = split.token_ids[split.offsets[i] + s:split.offsets[i] + e]
            good = side[sentence[at]] > 0
            pieces += [sentence, np.asarray(make(sentence, at, rng), dtype=sentence.dtype)]
            targets += [TARGETS["positive" if good else "negative"], NEGATED_POSITIVE if good else NEGATED_NEGATIVE]
            labels += [int(good), int(not good)]
            names += [split.names[i]] * 2
            movies += [split.movies[i]] * 2
    return (TokenizedSplit(*pack(pieces, split.token_ids.dtype), np.asarray(labels, dtype=np.int64), names, movies),
            np.asarray(targets, dtype=np.float32))


def pair_candidates(split: TokenizedSplit, types: list[str], kinds=KINDS, max_tokens: int = 20) -> dict:
    """For each of ``kinds``: (its candidates, each (review, sentence start, sentence end, the opinion word's
    place in the sentence); how it negates one, ``make(sentence, at, rng) -> token ids``; and its opinion
    words' sides, (n_types,) +1 for a positive word, -1 for a negative one, else 0). A sentence is a
    candidate of the first kind (in ``KINDS``'s order) whose form it has."""
    index = {t: i for i, t in enumerate(types)}
    is_type = lambda words: np.isin(np.arange(len(types)), [index[w] for w in words if w in index])
    be, negation, end, contrast = is_type(BE), is_type(NEGATIONS), is_type(SENTENCE_ENDS), is_type(CONTRAST)
    subject, opener = is_type(SUBJECTS), is_type(OPENERS)
    adverb = np.array([t.isalpha() and t.endswith("ly") for t in types] + [False])[:len(types)]
    side, wide = _sides(split, types), _sides(split, types, **WIDE) if set(kinds) - {"be"} else None
    verb_like = adjective_like = np.zeros(len(types), dtype=bool)
    if wide is not None:  # a word's class from where it is used: after a subject, or after "was", "very"...
        ids, before = split.token_ids, np.concatenate([[-1], split.token_ids[:-1]])
        uses = np.maximum(np.bincount(ids, minlength=len(types)), 1)
        share_after = lambda mask: np.bincount(ids[(before >= 0) & mask[np.maximum(before, 0)]],
                                               minlength=len(types)) / uses
        plain = np.array([t.isalpha() and not t.endswith(("ly", "ing")) for t in types] + [False])[:len(types)]
        verb_like = plain & (share_after(subject) >= 0.25)
        adjective_like = share_after(is_type(DESCRIBERS)) >= 0.1
    makers = {"be": _be_negator(index), "common": _be_negator(index), "verb": _verb_negator(index, types),
              "fragment": _fragment_negator(index)}
    found = {kind: ([], makers[kind], side if kind == "be" else wide) for kind in kinds}
    able = {kind for kind in kinds if makers[kind] is not None}  # a kind its vocabulary cannot write finds nothing
    for i in range(len(split)):
        review = split.token_ids[split.offsets[i]:split.offsets[i + 1]]
        bounds = np.concatenate([[0], np.flatnonzero(end[review]) + 1, [len(review)]])
        for s, e in zip(bounds[:-1], bounds[1:]):
            sentence = review[s:e]
            if not 2 <= len(sentence) <= max_tokens or negation[sentence].any() or contrast[sentence].any():
                continue
            first = np.flatnonzero(side[sentence])
            if "be" in able and len(first) == 1 and first[0] > 0 and len(sentence) >= 3 and be[sentence[first[0] - 1]]:
                found["be"][0].append((i, s, e, first[0]))
                continue
            opinions = np.flatnonzero(wide[sentence]) if wide is not None else []
            if len(opinions) != 1:
                continue
            at, word = opinions[0], sentence[opinions[0]]
            if "common" in able and at > 0 and len(sentence) >= 3 and be[sentence[at - 1]] and not side[word]:
                found["common"][0].append((i, s, e, at))
            elif ("verb" in able and verb_like[word] and at > 0 and
                  (subject[sentence[at - 1]] or (at > 1 and subject[sentence[at - 2]] and adverb[sentence[at - 1]]))
                  and makers["verb"](sentence, at, None) is not None):
                found["verb"][0].append((i, s, e, at))
            elif ("fragment" in able and adjective_like[word] and len(sentence) - int(end[sentence[-1]]) <= FRAGMENT_WORDS
                  and (at == 0 or (at == 1 and opener[sentence[0]])) and not be[sentence].any()
                  and not subject[sentence].any()):
                found["fragment"][0].append((i, s, e, at))
    return found


def _sides(split: TokenizedSplit, types: list[str], **lexicon) -> np.ndarray:
    """(n_types,) int8: +1 for each positive opinion word of ``split`` (``opinion_words``), -1 for each negative."""
    side = np.zeros(len(types), dtype=np.int8)
    if len(split):
        positive, negative = opinion_words(split, types, **lexicon)
        side[positive], side[negative] = 1, -1
    return side


def _be_negator(index):
    """"the plot was dull ." -> "the plot was not dull ." (or *n't*, *never*: ``NEGATORS``)."""
    negators = [(index[w], share) for w, share in NEGATORS if w in index]
    if not negators:
        return None
    ids, shares = np.array([i for i, _ in negators]), np.array([share for _, share in negators])
    return lambda sentence, at, rng: np.concatenate([sentence[:at], [rng.choice(ids, p=shares / shares.sum())],
                                                     sentence[at:]])


def _verb_negator(index, types):
    """"i loved it ." -> "i did n't love it ." or "i never loved it ."; "we recommend it ." -> "we do n't
    recommend it ." (after the subject, before any *-ly* word). With ``rng`` None it only says whether the
    sentence can be negated (not None) or not."""
    if not all(w in index for w in ("do", "did", "n't", "never")):
        return None
    do, did, nt, never = (index[w] for w in ("do", "did", "n't", "never"))

    def plain_form(word: str):
        for stem in (word[:-1], word[:-2]):  # loved -> love, enjoyed -> enjoy
            if stem in index and len(stem) > 2:
                return index[stem]
        return None

    def make(sentence, at, rng):
        word = types[sentence[at]]
        start = at if sentence[at - 1] in subjects else at - 1  # right after the subject, before any -ly word
        if at + 1 < len(sentence) and not types[sentence[at + 1]].isalnum():  # "i mean , ..." is not an opinion
            return None
        if word.endswith("ed"):
            plain = plain_form(word)
            if rng is None:
                return ()
            if plain is not None and rng.random() < 0.5:
                return np.concatenate([sentence[:start], [did, nt], sentence[start:at], [plain], sentence[at + 1:]])
            return np.concatenate([sentence[:start], [never], sentence[start:]])
        if word.endswith("s") or not word.isalpha():  # "i loves" is not English; "we recommend" is
            return None
        return () if rng is None else np.concatenate([sentence[:start], [do, nt], sentence[start:]])

    subjects = {index[w] for w in SUBJECTS if w in index}
    return make


def _fragment_negator(index):
    """"awful ." -> "not awful ."; "a great film !" -> "not a great film !"."""
    if "not" not in index:
        return None
    return lambda sentence, at, rng: np.concatenate([[index["not"]], sentence])
