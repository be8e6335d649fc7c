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
    if share <= 0 or len(name_ids) == 0:
        return split
    is_name = np.zeros(max(int(split.ids.max(initial=0)), int(name_ids.max())) + 1, dtype=bool)
    is_name[name_ids] = True
    chosen = rng.random(len(split)) < share  # (n,) texts whose names are swapped
    text_of = np.repeat(np.arange(len(split)), np.diff(split.offsets))  # (total_tokens,)
    where = np.flatnonzero(is_name[split.ids] & chosen[text_of])
    # one draw per (text, name): "Hanks ... Hanks" becomes "Seagal ... Seagal"
    keys, inverse = np.unique(text_of[where] * len(is_name) + split.ids[where], return_inverse=True)
    drawn = rng.choice(name_ids, size=len(keys), p=weights / weights.sum())
    ids = split.ids.copy()
    ids[where] = drawn[inverse]
    return replace(split, ids=ids)
