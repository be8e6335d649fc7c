"""People's and places' names in the training reviews, and swapping them (``--swap-names``).

    case = case_counts(form_ids, offsets, forms, type_of_form, n_types)  # while tokenizing: capitalized mid-sentence?
    name_types = proper_names(corpus.types, corpus.case)              # the words written capitalized nearly always
    train = swap_names(train, name_ids, weights, share=1.0, rng=rng)

A name says who is in a film, not what the reviewer thought of it; yet a network that reads IMDB learns that
"Seagal" is bad news and "Pitt" good, and then reads "Tom Hanks is gripping in this film." as negative. The
rule: in a share of the training texts, every name is replaced by another name drawn from the reviews' own
names (as often as each is written), the same replacement wherever the name recurs in that text. The labels
and the teacher's probabilities stay those of the text as written, so a name no longer tells the side.

A name is found from the data, without a tagger: a word (letters only, two or more) written capitalized in at
least ``MIN_SHARE`` of its occurrences in the middle of a sentence, seen there at least ``MIN_COUNT`` times in
the training reviews. The rule also catches places, studios and days ("Hollywood", "Tuesday"); a film's
words about them are no verdict either.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

SENTENCE_STARTS_AFTER = frozenset({".", "!", "?", "...", '"', "'", ":", ";", "(", ")", "-", "--", "*", "``", "''"})
MIN_COUNT = 3  # mid-sentence occurrences in the training reviews
MIN_SHARE = 0.9  # of them written capitalized
NAMES_STARTS = ("learnt", "mean")  # a fine-tune's names' word vectors: as its start learnt them, or all at their mean


def case_counts(form_ids: np.ndarray, offsets: np.ndarray, forms: list[str], type_of_form: np.ndarray,
                n_types: int) -> np.ndarray:
    """(n_types, 2) int64: per type, [occurrences in the middle of a sentence, capitalized among them], counted over
    texts given as (form_ids, offsets): each token's form (the token as written, ``forms[i]``), which
    ``type_of_form`` maps to the type the model reads (its lowercase, say)."""
    starts_after = np.array([f in SENTENCE_STARTS_AFTER for f in forms], dtype=bool)  # (n_forms,)
    capitalized = np.array([f[:1].isupper() and not f.isupper() for f in forms], dtype=bool)  # (n_forms,)
    mid = np.ones(len(form_ids), dtype=bool)  # (total_tokens,) the token before is no sentence's end
    mid[1:] = ~starts_after[form_ids[:-1]]
    mid[offsets[:-1][np.diff(offsets) > 0]] = False  # a text's first token starts a sentence
    types = type_of_form[form_ids]  # (total_tokens,)
    return np.stack([np.bincount(types[mid], minlength=n_types),
                     np.bincount(types[mid & capitalized[form_ids]], minlength=n_types)], axis=1).astype(np.int64)


def proper_names(types: list[str], case: np.ndarray, min_count: int = MIN_COUNT,
                 min_share: float = MIN_SHARE) -> np.ndarray:
    """Type ids of the words written capitalized in the middle of a sentence nearly always (sorted)."""
    mid, capitalized = case[:, 0], case[:, 1]  # (n_types,) each
    often = np.flatnonzero((mid >= min_count) & (capitalized >= min_share * mid))
    return np.array([i for i in often if len(types[i]) >= 2 and types[i].isalpha()], dtype=np.int64)


def name_counts(types: list[str], case: np.ndarray, train_token_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(type ids of the names the training reviews write, (float64) how often each is written there): the names
    a swap draws from, and their weights."""
    names = proper_names(types, case)
    counts = np.bincount(train_token_ids, minlength=len(types))[names]
    return names[counts > 0], counts[counts > 0].astype(np.float64)


def swap_names(split, name_ids: np.ndarray, weights: np.ndarray, share: float, rng: np.random.Generator):
    """``split`` (a ``batching.EncodedSplit``) with every name (an id in ``name_ids``) in a ``share`` of its texts
    replaced by a name drawn with probability proportional to ``weights``; a name that recurs in a text gets the
    same replacement each time."""
    if len(name_ids) == 0:
        return split
    group_of = np.full(int(name_ids.max()) + 1, -1, dtype=np.int64)
    group_of[name_ids] = 0
    return swap_words(split, group_of, [(name_ids, weights)], share, rng)


def swap_words(split, group_of: np.ndarray, pools: list[tuple[np.ndarray, np.ndarray]], share: float,
               rng: np.random.Generator):
    """``split`` with every word of a group (``group_of[id] = g >= 0``; ids past its end belong to none) in a
    ``share`` of its texts replaced by a word drawn from ``pools[g]`` = (ids, weights), with probability
    proportional to the weights; a word that recurs in a text gets the same replacement each time."""
    if share <= 0 or not (group_of >= 0).any():
        return split
    groups = np.full(max(int(split.ids.max(initial=0)) + 1, len(group_of)), -1, dtype=np.int64)
    groups[:len(group_of)] = group_of
    chosen = rng.random(len(split)) < share  # (n,) texts whose words are swapped
    text_of = np.repeat(np.arange(len(split)), np.diff(split.offsets))  # (total_tokens,)
    where = np.flatnonzero((groups[split.ids] >= 0) & chosen[text_of])
    # one draw per (text, word): "Hanks ... Hanks" becomes "Seagal ... Seagal"
    keys, first, inverse = np.unique(text_of[where] * len(groups) + split.ids[where], return_index=True,
                                     return_inverse=True)
    key_group = groups[split.ids[where[first]]]  # (n_keys,)
    drawn = np.empty(len(keys), dtype=split.ids.dtype)
    for g, (ids, weights) in enumerate(pools):
        mine = np.flatnonzero(key_group == g)
        if len(mine):
            drawn[mine] = rng.choice(ids, size=len(mine), p=weights / weights.sum())
    ids = split.ids.copy()
    ids[where] = drawn[inverse]
    return replace(split, ids=ids)
