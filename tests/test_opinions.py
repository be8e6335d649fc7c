"""Opinion words swapped for others of the same side and strength in training texts (``--swap-opinions``)."""
from __future__ import annotations

import numpy as np
import pytest
from spacy.lang.en.stop_words import STOP_WORDS

from conftest import make_reviews, write_archive
from sentiment.batching import EncodedSplit
from sentiment.names import swap_words
from sentiment.opinions import group, lexicon, opinion_swaps, review_log_odds
from sentiment.text import TokenizedSplit
from sentiment.train import TrainConfig, prepare_data


def test_the_list_holds_opinion_words_of_both_sides_and_no_function_words():
    words = lexicon()
    assert len(words) > 500 and all(-1 <= s <= 1 and abs(s) >= 0.25 for s in words.values())
    assert words["superb"] > 0.75 and words["delicious"] > 0.75 and words["awful"] < -0.5 and words["rude"] < 0
    assert not set(words) & STOP_WORDS and "pretty" not in words and "kind" not in words


def test_groups_are_side_by_strength():
    assert [group(s) for s in (-0.9, -0.6, -0.3, 0.3, 0.6, 0.9)] == [2, 1, 0, 3, 4, 5]
    assert group(0.75) == 5 and group(0.749) == 4 and group(-0.5) == 1


def test_log_odds_lean_to_the_side_of_the_reviews_that_hold_a_word():
    # types 0..3; reviews: [0 1 1] +, [0 2] +, [0 3] -, [3] -
    reviews, lean = review_log_odds(split_of([[0, 1, 1], [0, 2], [0, 3], [3]], [1, 1, 0, 0]), 4)
    assert reviews.tolist() == [3, 1, 1, 2]  # a review counts once however often it holds the word
    assert lean[1] > 0 and lean[2] > 0 and lean[3] < 0 and abs(lean[0]) < lean[1]


def split_of(texts, labels):
    """A TokenizedSplit over type ids, each text a list of them."""
    offsets = np.cumsum([0] + [len(t) for t in texts])
    return TokenizedSplit(np.concatenate(texts).astype(np.int32), offsets, np.array(labels), [""] * len(texts),
                          [""] * len(texts))


def test_confirmed_words_are_replaced_others_drawn_and_contradicted_ones_left_alone():
    types = ["<pad>", "<unk>", "the", "superb", "magnificent", "cheap", "awful", "seagal", "delicious", "terrible"]
    # superb in 30 positive reviews; cheap (positive in the list) in 30 negative ones; awful in 30 negative ones;
    # magnificent, delicious and terrible once each
    texts = [[2, 3]] * 30 + [[2, 5, 6]] * 30 + [[4, 8], [9]]
    train_tokens = split_of(texts, [1] * 30 + [0] * 30 + [1, 0])
    lookup = np.arange(len(types))
    group_of, pools = opinion_swaps(types, train_tokens, lookup, exclude=np.array([7]))
    strong_positive, strong_negative = group(0.9), group(-0.9)
    assert group_of[3] == strong_positive and group_of[6] == strong_negative  # confirmed by the reviews
    assert group_of[4] == -1 and group_of[8] == -1 and group_of[9] == -1  # too rare to judge: never replaced...
    assert set(pools[strong_positive][0]) == {3, 4, 8} and set(pools[strong_negative][0]) == {6, 9}  # ...but drawn
    assert group_of[5] == -1 and all(5 not in ids for ids, _ in pools)  # the reviews use "cheap" as a complaint
    assert group_of[2] == -1 and all(7 not in ids for ids, _ in pools)


def test_swapping_within_groups_keeps_each_word_to_its_group():
    # texts: [3 2 3 6], [6 2], [2 2]; group 0 = {3, 4}, group 1 = {6, 9}
    split = EncodedSplit(np.array([3, 2, 3, 6, 6, 2, 2, 2]), np.array([0, 4, 6, 8]), np.array([1, 0, 1]), 50)
    group_of = np.array([-1, -1, -1, 0, -1, -1, 1])  # ids past its end (9) belong to no group
    pools = [(np.array([3, 4]), np.array([0.0, 1.0])), (np.array([6, 9]), np.array([0.0, 1.0]))]
    assert swap_words(split, group_of, pools, 0.0, np.random.default_rng(0)) is split
    out = swap_words(split, group_of, pools, 1.0, np.random.default_rng(0))
    assert out.ids.tolist() == [4, 2, 4, 9, 9, 2, 2, 2]
    assert np.array_equal(out.offsets, split.offsets) and np.array_equal(out.labels, split.labels)


def reviews_rating(files, side, i):
    return next(n for n in files if n.startswith(f"aclImdb/train/{side}/{i}_")).rsplit("_", 1)[1][:-4]


@pytest.fixture(scope="module")
def opinion_archive(tmp_path_factory):
    """The tiny data set, with "superb" in every positive review and "terrible" in every negative one, and two rare
    words of the same strengths ("magnificent", "horrible") in nine training reviews each."""
    files = make_reviews(40, seed=4)
    reviews = [n for n in files if n.endswith(".txt") and "/urls_" not in n]
    for name in reviews:
        files[name] += " It was superb." if "/pos/" in name else " It was terrible."
    for i in range(9):  # three movies' reviews: too few for the reviews to judge the words
        files[f"aclImdb/train/pos/{i}_{reviews_rating(files, 'pos', i)}.txt"] += " Magnificent."
        files[f"aclImdb/train/neg/{i}_{reviews_rating(files, 'neg', i)}.txt"] += " Horrible."
    return write_archive(tmp_path_factory.mktemp("opinions") / "aclImdb_v1.tar.gz", files)


def test_training_texts_have_their_opinion_words_swapped_and_validation_does_not(opinion_archive):
    cfg = TrainConfig(vocab_size=500, min_freq=1, max_len=80, val_fraction=0.2, val_split="movie", swap_opinions=1.0)
    plain = prepare_data(opinion_archive, TrainConfig(**{**cfg.__dict__, "swap_opinions": 0.0}), for_training=True)
    swapped = prepare_data(opinion_archive, cfg, for_training=True)
    stoi = swapped.vocab.stoi
    assert (plain.train.ids == stoi["superb"]).sum() >= 20
    assert (swapped.train.ids == stoi["magnificent"]).sum() > (plain.train.ids == stoi["magnificent"]).sum()
    assert (swapped.train.ids == stoi["superb"]).sum() < (plain.train.ids == stoi["superb"]).sum()
    changed = swapped.train.ids != plain.train.ids
    words, itos = lexicon(), swapped.vocab.itos
    assert {stoi["superb"], stoi["terrible"]} <= set(plain.train.ids[changed])
    for before, after in zip(plain.train.ids[changed], swapped.train.ids[changed]):  # each to a word of its group
        assert group(words[itos[before]]) == group(words[itos[after]])
    assert np.array_equal(swapped.train.labels, plain.train.labels)
    assert np.array_equal(swapped.val.ids, plain.val.ids)  # validation reads the reviews as written
    with pytest.raises(ValueError, match="swap_opinions must be in"):
        TrainConfig(swap_opinions=-0.1)
