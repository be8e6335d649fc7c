"""Contrast pairs made from the training reviews' own sentences (a data augmentation rule of this project).

    pairs, targets = contrast_pairs(train_tokens, corpus.types, n=10_000, rng=rng)

In "the cast was fine , but the plot was dull ." the verdict is the clause after *but*. A review says
both often; a short text that turns once is what people type. The rule:

1. **Two plain opinions.** Two training sentences that each say one opinion plainly, of opposite sides: the
   negation module's candidates (``negation.pair_candidates``: one opinion word, found from the data, no
   negation and no contrast word in the sentence), from two different reviews.
2. **Joined by a contrast word, both ways round.** A and B become "A , but B" (or "A . however , B", or
   "although A , B": the main clause last), labelled by B's side, and the same with A and B swapped,
   labelled by A's side. The two texts hold the same words; only the order tells them apart, so the network
   learns that the clause after the turn decides, not which opinion word is stronger.

Both get soft targets (``TARGETS``), less sure than a plain sentence's: a mixed verdict is not a rave.

**Turns** (``turn_pairs``) do the same with no contrast word, for a review whose verdict turns in its last
sentences: two short windows of training reviews (1-3 sentences, ``distill.sentence_windows``) that the
teacher reads as clearly of opposite sides, one after the other, both ways round, each labelled by the window
that comes last (at ``--turn-weight``). With ``--turn-last ending`` the last window is a review's own ending
(its last one or two sentences) that the teacher reads as its review's side: a verdict, where any window may be
a stray remark.
"""
from __future__ import annotations

import numpy as np

from .distill import SENTENCE_ENDS
from .negation import KINDS, pair_candidates
from .text import TokenizedSplit, pack

TARGETS = {"positive": 0.85, "negative": 0.15}  # P(positive) learnt for a text whose last clause says this side
JOINS = ("but", "however", "although")  # how two sentences are joined (see above), used about equally
CONTRAST_VERDICTS = ("last", "both", "balanced", "varied")  # where a contrast's verdict may stand (contrast_pairs)
VERDICT_FIRST = "although, verdict first"  # the join "B , although A" (B: the verdict)
SENTENCE_ADVERBS = ("however", "nevertheless", "nonetheless")  # "A . however , B"
SUBORDINATORS = ("although", "while")  # "although A , B", and verdict first "B , although A"
# "varied": verdict last after a coordinator, a sentence adverb or a clause that concedes; verdict first before one
VARIED_LAST = ("but", "however", "nevertheless", "nonetheless", "although", "while")
VARIED_FIRST = (VERDICT_FIRST, "while, verdict first")


def contrast_pairs(split: TokenizedSplit, types: list[str], n: int, rng: np.random.Generator,
                   max_tokens: int = 20, verdict: str = "last") -> tuple[TokenizedSplit, np.ndarray]:
    """Up to ``n`` pairs ("A , but B", "B , but A") from ``split``'s sentences, as a TokenizedSplit of
    2 x pairs examples (each pair side by side, each named after its verdict's review) and their
    (2 x pairs,) targets: P(positive) to learn. ``verdict="both"`` adds a fourth join, with the verdict first:
    "B , although A", labelled by B, beside "although A , B" (where B comes last), so that what decides is the
    clause *although* does not introduce, not the last one. ``"balanced"`` joins every other pair that way, so
    that as many texts put their verdict first as last. ``"varied"`` has more connectives (``VARIED_LAST``: *but*,
    *however*, *nevertheless*, *nonetheless*, "although A , B", "while A , B") and every other pair puts its
    verdict first ("B , although A", "B , while A"), so that neither the last clause nor one connective's place
    tells the verdict, only what each connective does."""
    if verdict not in CONTRAST_VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(CONTRAST_VERDICTS)}; got {verdict!r}")
    index = {t: i for i, t in enumerate(types)}
    joins = [j for j in JOINS if j in index and "," in index]
    if verdict == "both" and "although" in joins:
        joins.append(VERDICT_FIRST)
    firsts = []  # the joins that put the verdict first, used by every other pair ("balanced", "varied")
    if verdict == "balanced" and "although" in joins:
        firsts = [VERDICT_FIRST]
    if verdict == "varied" and "," in index:
        joins = [j for j in VARIED_LAST if j in index]
        firsts = [j for j in VARIED_FIRST if j.split(",")[0] in index]
    if not joins or n == 0:
        return TokenizedSplit(*pack([], split.token_ids.dtype), np.zeros(0, dtype=np.int64), [], []), np.zeros(0, np.float32)
    ends = {index[t] for t in SENTENCE_ENDS if t in index}
    found = pair_candidates(split, types, KINDS, max_tokens)
    plain = {+1: [], -1: []}  # (review, start, end) of each plain opinion sentence, by its side
    for candidates, _, side in found.values():
        for i, s, e, at in candidates:
            word = split.token_ids[split.offsets[i] + s + at]
            plain[int(side[word])].append((i, s, e))
    good, bad = (np.asarray(plain[k], dtype=np.int64).reshape(-1, 3) for k in (+1, -1))
    pieces, targets, labels, names, movies = [], [], [], [], []
    for k in range(min(n, len(good), len(bad))):
        a, b = good[rng.integers(len(good))], bad[rng.integers(len(bad))]
        if a[0] == b[0]:
            continue  # two sentences of one review: leave them to the review
        if firsts and k % 2:
            join = firsts[(k // 2) % len(firsts)]
        else:
            join = joins[(k // 2 if firsts else k) % len(joins)]
        sentences = {+1: a, -1: b}
        for first, last in ((+1, -1), (-1, +1)):
            pieces.append(_join(_sentence(split, sentences[first]), _sentence(split, sentences[last]), join, index, ends))
            targets.append(TARGETS["positive" if last > 0 else "negative"])
            labels.append(int(last > 0))
            names.append(split.names[sentences[last][0]])
            movies.append(split.movies[sentences[last][0]])
    return (TokenizedSplit(*pack(pieces, split.token_ids.dtype), np.asarray(labels, dtype=np.int64), names, movies),
            np.asarray(targets, dtype=np.float32))


def _sentence(split: TokenizedSplit, where) -> np.ndarray:
    i, s, e = where
    return split.token_ids[split.offsets[i] + s:split.offsets[i] + e]


def _bare(sentence: np.ndarray, ends: set) -> np.ndarray:
    """The sentence without its end mark, if it has one and more ("the cast was fine ." -> "the cast was fine")."""
    return sentence[:-1] if len(sentence) > 1 and sentence[-1] in ends else sentence


def _join(first: np.ndarray, last: np.ndarray, join: str, index: dict, ends: set) -> np.ndarray:
    """"the cast was fine ." + "the plot was dull ." (``last``: the verdict) -> "the cast was fine , but the plot
    was dull ." (``join`` "but"), "the cast was fine . however , the plot was dull ." (a sentence adverb),
    "although the cast was fine , the plot was dull ." (a subordinator) or, "although, verdict first", "the plot
    was dull , although the cast was fine ."."""
    comma, word = index[","], index[join.split(",")[0]]
    if join.endswith(", verdict first"):
        return np.concatenate([_bare(last, ends), [comma, word], first])
    bare = _bare(first, ends)  # "the cast was fine" (no end mark)
    if join in SENTENCE_ADVERBS:
        return np.concatenate([first, [word, comma], last])
    if join in SUBORDINATORS:
        return np.concatenate([[word], bare, [comma], last])
    return np.concatenate([bare, [comma, word], last])


TURN_SURE = 0.9  # a window joins a turn only if the teacher gives its side at least this probability
TURN_LASTS = ("window", "ending")  # what ends a turn (turn_pairs)


def turn_pairs(windows: TokenizedSplit, teacher_logits: np.ndarray, n: int, rng: np.random.Generator,
               endings: TokenizedSplit | None = None, ending_logits: np.ndarray | None = None
               ) -> tuple[TokenizedSplit, np.ndarray]:
    """Up to ``n`` pairs of windows ("A B", "B A") that the teacher (``teacher_logits``, (len(windows),))
    reads as clearly positive (A) and clearly negative (B), from two different reviews, as a TokenizedSplit
    of 2 x pairs examples (each named after its last window's review) and their (2 x pairs,) targets.

    With ``endings`` (``distill.sentence_endings``) and their teacher's ``ending_logits``, each text ends with a
    review's own ending instead, one that the teacher reads as clearly of its review's side (a verdict, not a
    stray last remark): "A E" with A a window and E an ending of the other side, one of each order of sides."""
    sure = np.log(TURN_SURE / (1 - TURN_SURE))
    sides = {+1: np.flatnonzero(teacher_logits >= sure), -1: np.flatnonzero(teacher_logits <= -sure)}
    last_sides, lasts = sides, windows
    if endings is not None:
        agree = np.where(endings.labels == 1, ending_logits, -ending_logits) >= sure  # (len(endings),)
        last_sides = {+1: np.flatnonzero(agree & (endings.labels == 1)), -1: np.flatnonzero(agree & (endings.labels == 0))}
        lasts = endings
    window = lambda split, i: split.token_ids[split.offsets[i]:split.offsets[i + 1]]
    pieces, targets, labels, names, movies = [], [], [], [], []
    if all(len(v) for v in (*sides.values(), *last_sides.values())):
        for _ in range(n):
            first = {k: int(v[rng.integers(len(v))]) for k, v in sides.items()}
            last = first if endings is None else {k: int(v[rng.integers(len(v))]) for k, v in last_sides.items()}
            orders = [(+1, -1), (-1, +1)]
            if any(windows.names[first[a]] == lasts.names[last[b]] for a, b in orders):
                continue  # two pieces of one review: leave them to the review
            for a, b in orders:
                pieces.append(np.concatenate([window(windows, first[a]), window(lasts, last[b])]))
                targets.append(TARGETS["positive" if b > 0 else "negative"])
                labels.append(int(b > 0))
                names.append(lasts.names[last[b]])
                movies.append(lasts.movies[last[b]])
    return (TokenizedSplit(*pack(pieces, windows.token_ids.dtype), np.asarray(labels, dtype=np.int64), names, movies),
            np.asarray(targets, dtype=np.float32))
