"""Negation pairs from the training reviews' own sentences (sentiment/negation.py)."""
import random

import numpy as np
import pytest

from sentiment.negation import (BE, KINDS, NEGATED_NEGATIVE, NEGATED_POSITIVE, TARGETS, negation_pairs, opinion_words,
                                pair_candidates)
from sentiment.text import TokenizedSplit
from sentiment.train import TrainConfig, prepare_data
from tests.conftest import FILLER, NEGATIVE, POSITIVE, write_archive


def corpus(n: int = 1200, seed: int = 0) -> tuple[TokenizedSplit, list[str]]:
    """Reviews of a few sentences: filler, one "the film was W ." with W of the review's side, and some
    sentences that must never be chosen (already negated, or turning at "but")."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        good = i % 2 == 0
        word = rng.choice(POSITIVE if good else NEGATIVE)
        sentences = [" ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 8))) + " .",
                     f"the {rng.choice(['film', 'plot', 'cast'])} {rng.choice(BE)} {word} .",
                     f"it was not {word} .", f"the cast was {word} but long .", "i do n't know , never mind ."]
        rng.shuffle(sentences)
        texts.append(" ".join(sentences))
        labels.append(int(good))
    types = sorted({w for t in texts for w in t.split()})
    index = {t: i for i, t in enumerate(types)}
    ids = [[index[w] for w in t.split()] for t in texts]
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
    split = TokenizedSplit(np.array([i for x in ids for i in x], dtype=np.int32), offsets, np.array(labels),
                           [f"train/{i}.txt" for i in range(n)], [""] * n)
    return split, types


def words(split: TokenizedSplit, types: list[str], i: int) -> list[str]:
    return [types[t] for t in split.token_ids[split.offsets[i]:split.offsets[i + 1]]]


def test_opinion_words_come_from_the_data_and_leave_function_words_out():
    split, types = corpus()
    positive, negative = opinion_words(split, types)
    assert {types[i] for i in positive} == set(POSITIVE)
    assert {types[i] for i in negative} == set(NEGATIVE)


def test_each_pair_is_a_plain_sentence_and_the_same_with_a_negation_after_the_verb():
    split, types = corpus()
    pairs, targets = negation_pairs(split, types, n=300, rng=np.random.default_rng(0))
    assert len(pairs) == 600 and targets.shape == (600,)
    negators = set()
    for k in range(0, 600, 2):
        plain, negated = words(pairs, types, k), words(pairs, types, k + 1)
        assert plain[0] == "the" and plain[2] in BE and plain[-1] == "."  # never the "not" or "but" sentences
        good = plain[3] in POSITIVE
        assert negated[:3] == plain[:3] and negated[4:] == plain[3:]
        negators.add(negated[3])
        assert targets[k] == TARGETS["positive" if good else "negative"]
        assert targets[k + 1] == (NEGATED_POSITIVE if good else NEGATED_NEGATIVE)
        assert list(pairs.labels[k:k + 2]) == [int(good), int(not good)]
    assert negators == {"not", "n't", "never"}
    again, _ = negation_pairs(split, types, n=300, rng=np.random.default_rng(0))
    assert np.array_equal(again.token_ids, pairs.token_ids)  # seeded


def test_training_data_gets_the_pairs_with_their_own_targets(tmp_path):
    split, types = corpus(1200)
    texts = [" ".join(words(split, types, i)) for i in range(len(split))]
    files = {f"aclImdb/{part}/{'pos' if split.labels[i] else 'neg'}/{i}_{8 if split.labels[i] else 2}.txt": texts[i]
             for part in ("train", "test") for i in range(len(texts))}
    cfg = TrainConfig(negations=100, negation_weight=2.0, vocab_size=500, min_freq=1, max_len=60, val_split="random")
    prepared = prepare_data(write_archive(tmp_path / "imdb.tar.gz", files), cfg, for_training=True)
    n = prepared.n_reviews
    assert n == 1080 and len(prepared.train) == n + 200
    assert np.all(prepared.mix[:n] == 0) and np.all(prepared.mix[n:] == 1)  # no teacher: reviews learn their labels
    assert np.all(prepared.temperature[n:] == 1) and np.all(prepared.weight[n:] == 2.0)  # their own weight
    p = 1 / (1 + np.exp(-prepared.teacher[n:]))
    assert np.allclose(np.sort(np.unique(np.round(p, 4))), [0.1, 0.7, 0.9])


def corpus_of_forms(n: int = 1200, seed: int = 0) -> tuple[TokenizedSplit, list[str]]:
    """Reviews that hold each form of pair once: "the plot was W ." (be), "the music was nice|bad ." (a word
    in every review of its class: too common for the first list), "i adored|despised it ." (a verb) and
    "W !" (a fragment), beside sentences no kind may take."""
    rng = random.Random(seed)
    adjectives = {True: ["superb", "excellent", "wonderful", "brilliant", "moving", "fun", "charming", "witty",
                         "lovely", "gripping", "clever", "stunning"],
                  False: ["awful", "terrible", "dull", "poor", "lame", "inept", "tedious", "stupid", "weak", "silly",
                          "pointless", "bland"]}  # each in under a tenth of the reviews: the first list's
    texts, labels = [], []
    for i in range(n):
        good = i % 2 == 0
        sentences = [" ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 8))) + " .",
                     f"the plot {rng.choice(BE)} {rng.choice(adjectives[good])} .",
                     f"the music was {'nice' if good else 'bad'} .",
                     f"i {'adored' if good else 'despised'} it .",
                     f"{rng.choice(adjectives[good])} !",
                     "we adore and despise nothing .", "they did n't do it , never .", f"it was not {'nice' if good else 'bad'} .", "i mean , well ."]
        rng.shuffle(sentences)
        texts.append(" ".join(sentences))
        labels.append(int(good))
    return tokenized(texts, labels)


def tokenized(texts, labels) -> tuple[TokenizedSplit, list[str]]:
    types = sorted({w for t in texts for w in t.split()})
    index = {t: i for i, t in enumerate(types)}
    ids = [[index[w] for w in t.split()] for t in texts]
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
    n = len(texts)
    return (TokenizedSplit(np.array([i for x in ids for i in x], dtype=np.int32), offsets, np.array(labels),
                           [f"train/{i}.txt" for i in range(n)], [""] * n), types)


def test_each_kind_of_pair_finds_its_own_form_and_negates_it_as_english_does():
    split, types = corpus_of_forms()
    found = pair_candidates(split, types)
    assert all(len(found[kind][0]) > 100 for kind in KINDS)
    pairs, targets = negation_pairs(split, types, n=400, rng=np.random.default_rng(0), kinds=KINDS)
    assert len(pairs) == 800
    seen = {kind: 0 for kind in KINDS}
    for k in range(0, 800, 2):
        plain, negated = words(pairs, types, k), words(pairs, types, k + 1)
        good = bool(pairs.labels[k])
        assert targets[k] == TARGETS["positive" if good else "negative"]
        assert targets[k + 1] == (NEGATED_POSITIVE if good else NEGATED_NEGATIVE)
        if plain[:2] == ["the", "music"]:
            seen["common"] += 1
            assert negated[:3] == plain[:3] and negated[3] in ("not", "n't", "never") and negated[4:] == plain[3:]
        elif plain[0] == "i":
            seen["verb"] += 1
            verb = plain[1]
            assert negated in (["i", "never", verb, "it", "."], ["i", "did", "n't", verb[:-1], "it", "."])
        elif plain[-1] == "!":
            seen["fragment"] += 1
            assert negated == ["not"] + plain
        else:
            seen["be"] += 1
            assert plain[:2] == ["the", "plot"] and plain[2] in BE
    assert seen == {kind: 100 for kind in KINDS}  # n shared evenly
    assert "mean" not in {words(pairs, types, k)[1] for k in range(0, 800, 2)}  # "i mean , ..." is no opinion


def test_the_first_kind_alone_keeps_the_first_rule_and_unknown_kinds_are_refused():
    split, types = corpus_of_forms()
    be, _ = negation_pairs(split, types, n=50, rng=np.random.default_rng(1))
    assert all(words(be, types, k)[:2] == ["the", "plot"] for k in range(len(be)))  # not "the music was bad"
    with pytest.raises(ValueError, match="be, common, verb, fragment"):
        negation_pairs(split, types, n=50, rng=np.random.default_rng(1), kinds=("adverb",))
    with pytest.raises(ValueError, match="negation_kinds"):
        TrainConfig(negation_kinds="be,be")
