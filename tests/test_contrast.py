"""Contrast pairs from the training reviews' own sentences (sentiment/contrast.py)."""
from dataclasses import replace

import numpy as np
import pytest

from sentiment.contrast import JOINS, TARGETS, contrast_pairs, turn_pairs
from sentiment.text import TokenizedSplit, pack
from sentiment.train import TrainConfig, prepare_data
from tests.conftest import NEGATIVE, POSITIVE, write_archive
from tests.test_negation import corpus, words


def test_each_pair_holds_two_opposite_opinions_both_ways_round_labelled_by_the_last():
    split, types = corpus()
    types = types + ["however", "although"]  # words of the vocabulary the reviews here never use
    pairs, targets = contrast_pairs(split, types, n=300, rng=np.random.default_rng(0))
    assert 500 <= len(pairs) <= 600 and len(pairs) % 2 == 0 and targets.shape == (len(pairs),)
    seen = set()
    for k in range(0, len(pairs), 2):
        one, other = words(pairs, types, k), words(pairs, types, k + 1)
        assert sorted(one) == sorted(other) and one != other  # the same words, the other order
        for text, label, target in ((one, pairs.labels[k], targets[k]), (other, pairs.labels[k + 1], targets[k + 1])):
            opinions = [w for w in text if w in POSITIVE or w in NEGATIVE]
            assert len(opinions) == 2 and (opinions[0] in POSITIVE) != (opinions[1] in POSITIVE)
            last_good = opinions[1] in POSITIVE  # the clause after the turn decides
            assert label == int(last_good) and target == TARGETS["positive" if last_good else "negative"]
            assert "not" not in text and text.count(".") <= 2
            if text[0] == "although":
                seen.add("although")
                assert text[text.index(",") - 1] in POSITIVE + NEGATIVE  # "although the film was W , the ..."
            elif "however" in text:
                seen.add("however")
                assert text[text.index("however") - 1] == "." and text[text.index("however") + 1] == ","
            else:
                seen.add("but")
                assert text[text.index("but") - 1] == ","
    assert seen == set(JOINS)
    again, _ = contrast_pairs(split, types, n=300, rng=np.random.default_rng(0))
    assert np.array_equal(again.token_ids, pairs.token_ids)  # seeded


@pytest.mark.parametrize("verdict, share", [("both", (100, 200)), ("balanced", (270, 330))])
def test_pairs_may_put_the_verdict_first_after_which_although_concedes(verdict, share):
    split, types = corpus()
    types = types + ["however", "although"]
    pairs, targets = contrast_pairs(split, types, n=300, rng=np.random.default_rng(0), verdict=verdict)
    first = 0
    for k in range(len(pairs)):
        text = words(pairs, types, k)
        opinions = [w for w in text if w in POSITIVE or w in NEGATIVE]
        if "although" in text and text[0] != "although":  # "the plot was W , although the film was V ."
            first += 1
            at = text.index("although")
            assert text[at - 1] == "," and text[at - 2] == opinions[0] and "." not in text[:at]
            verdict_good = opinions[0] in POSITIVE  # the clause before "although" decides
        else:
            verdict_good = opinions[1] in POSITIVE
        assert pairs.labels[k] == int(verdict_good)
        assert targets[k] == TARGETS["positive" if verdict_good else "negative"]
    assert share[0] <= first <= share[1]  # both: about one pair in four, both ways round; balanced: one in two
    joins = {"but" if "but" in t else "however" if "however" in t else "although" for t in
             (words(pairs, types, k) for k in range(len(pairs)))}
    assert joins == {"but", "however", "although"}  # every join still made
    last_only, _ = contrast_pairs(split, types, n=300, rng=np.random.default_rng(0))
    assert not any("although" in (t := words(last_only, types, k)) and t[0] != "although" for k in range(len(last_only)))
    with pytest.raises(ValueError, match="verdict must be one of last, both, balanced, varied"):
        contrast_pairs(split, types, n=10, rng=np.random.default_rng(0), verdict="first")


def test_varied_pairs_use_every_connective_and_put_half_their_verdicts_first_before_a_clause_that_concedes():
    split, types = corpus()
    types = types + ["however", "although", "while", "nevertheless", "nonetheless"]
    pairs, targets = contrast_pairs(split, types, n=300, rng=np.random.default_rng(0), verdict="varied")
    assert 500 <= len(pairs) <= 600
    seen, first = set(), 0
    for k in range(len(pairs)):
        text = words(pairs, types, k)
        opinions = [w for w in text if w in POSITIVE or w in NEGATIVE]
        assert len(opinions) == 2 and (opinions[0] in POSITIVE) != (opinions[1] in POSITIVE)
        word = next(w for w in text if w in ("but", "however", "although", "while", "nevertheless", "nonetheless"))
        at = text.index(word)
        if word in ("although", "while") and at > 0:  # "the plot was W , while the film was V ."
            seen.add(word + ", verdict first")
            first += 1
            assert text[at - 1] == "," and text[at - 2] == opinions[0] and "." not in text[:at]
            verdict_good = opinions[0] in POSITIVE
        else:
            seen.add(word)
            if word in ("however", "nevertheless", "nonetheless"):
                assert text[at - 1] == "." and text[at + 1] == ","  # "... . nevertheless , the ..."
            verdict_good = opinions[1] in POSITIVE
        assert pairs.labels[k] == int(verdict_good)
        assert targets[k] == TARGETS["positive" if verdict_good else "negative"]
    assert seen == {"but", "however", "nevertheless", "nonetheless", "although", "while",
                    "although, verdict first", "while, verdict first"}
    assert 270 <= first <= 330  # every other pair, both ways round


def test_a_vocabulary_without_the_joining_words_gives_no_pairs():
    split, types = corpus(n=200)
    renamed = [t + "_" if t in ("but", "however", "although") else t for t in types]
    pairs, targets = contrast_pairs(split, renamed, n=50, rng=np.random.default_rng(0))
    assert len(pairs) == 0 and targets.shape == (0,)
    assert isinstance(pairs, TokenizedSplit)


def test_training_data_gets_the_contrast_pairs_after_the_negation_pairs_at_their_weight(tmp_path):
    split, types = corpus(1200)
    texts = [" ".join(words(split, types, i)) for i in range(len(split))]
    files = {f"aclImdb/{part}/{'pos' if split.labels[i] else 'neg'}/{i}_{8 if split.labels[i] else 2}.txt": texts[i]
             for part in ("train", "test") for i in range(len(texts))}
    cfg = TrainConfig(negations=100, contrasts=50, negation_weight=2.0, vocab_size=500, min_freq=1, max_len=60,
                      val_split="random")
    prepared = prepare_data(write_archive(tmp_path / "imdb.tar.gz", files), cfg, for_training=True)
    n = prepared.n_reviews
    extra = len(prepared.train) - n - 200  # after the reviews and the 100 negation pairs
    assert 80 <= extra <= 100 and extra % 2 == 0
    assert np.all(prepared.mix[n:] == 1) and np.all(prepared.weight[n:] == 2.0)
    p = 1 / (1 + np.exp(-prepared.teacher[n + 200:]))
    assert np.allclose(np.sort(np.unique(np.round(p, 4))), [TARGETS["negative"], TARGETS["positive"]])
    assert list(prepared.train.labels[n + 200:]) == [int(q > 0.5) for q in p]
    lighter = prepare_data(write_archive(tmp_path / "imdb.tar.gz", files),
                           replace(cfg, contrast_weight=0.5), for_training=True)  # the pairs alone weigh less
    assert np.all(lighter.weight[n:n + 200] == 2.0) and np.all(lighter.weight[n + 200:] == 0.5)
    assert np.array_equal(lighter.train.ids, prepared.train.ids)
    with pytest.raises(ValueError, match="contrasts"):
        TrainConfig(contrasts=-1)
    with pytest.raises(ValueError, match="contrast_weight"):
        TrainConfig(contrast_weight=-1.0)


def test_turns_join_two_sure_windows_of_opposite_sides_both_ways_labelled_by_the_last():
    types = ["a", "great", "film", ".", "dull", "plot", "fine"]
    texts = ["a great film .", "dull plot .", "a fine film .", "great plot ."]
    ids = [[types.index(w) for w in t.split()] for t in texts]
    windows = TokenizedSplit(*pack([np.array(x, dtype=np.int32) for x in ids], np.int32), np.array([1, 0, 1, 1]),
                             ["r0", "r1", "r2", "r0"], ["m0", "m1", "m2", "m0"])
    logits = np.array([4.0, -4.0, 0.5, 3.0])  # the teacher is sure of the first, second and fourth only
    turns, targets = turn_pairs(windows, logits, n=20, rng=np.random.default_rng(0))
    made = {" ".join(types[i] for i in turns.token_ids[turns.offsets[k]:turns.offsets[k + 1]]): (targets[k], turns.labels[k])
            for k in range(len(turns))}
    assert set(made) <= {"a great film . dull plot .", "dull plot . a great film .", "great plot . dull plot .",
                         "dull plot . great plot ."} and len(made) == 4  # never "a fine film", never two of r0
    assert made["a great film . dull plot ."] == (TARGETS["negative"], 0)
    assert made["dull plot . great plot ."] == (TARGETS["positive"], 1)
    assert len(turn_pairs(windows, np.array([4.0, 4.0, 4.0, 4.0]), n=5, rng=np.random.default_rng(0))[0]) == 0


def test_turns_need_the_windows_and_the_teacher_they_are_made_of():
    with pytest.raises(ValueError, match="turns are made of the windows"):
        TrainConfig(turns=5, windows=1)
    with pytest.raises(ValueError, match="turn_last must be one of window, ending"):
        TrainConfig(turn_last="sentence")


def test_turns_can_end_with_an_ending_the_teacher_reads_as_its_reviews_side():
    types = ["a", "great", "film", ".", "dull", "plot", "fine", "bad"]
    split = lambda texts, labels, names: TokenizedSplit(
        *pack([np.array([types.index(w) for w in t.split()], dtype=np.int32) for t in texts], np.int32),
        np.array(labels), names, [n.replace("r", "m") for n in names])
    windows = split(["a great film .", "dull plot .", "great plot ."], [1, 0, 0], ["r0", "r1", "r2"])
    endings = split(["bad film .", "fine plot .", "a fine film .", "great film .", "dull film ."],
                    [0, 1, 1, 0, 0], ["r3", "r4", "r1", "r5", "r0"])
    ending_logits = np.array([-4.0, 4.0, 4.0, 4.0, -4.0])  # r5's ending reads against its review's label
    turns, targets = turn_pairs(windows, np.array([4.0, -4.0, 0.0]), n=40, rng=np.random.default_rng(0),
                                endings=endings, ending_logits=ending_logits)
    made = {" ".join(types[i] for i in turns.token_ids[turns.offsets[k]:turns.offsets[k + 1]]): (targets[k], turns.labels[k], turns.names[k])
            for k in range(len(turns))}
    firsts, lasts = {"a great film .": +1, "dull plot .": -1}, {"bad film .": -1, "fine plot .": +1, "a fine film .": +1, "dull film .": -1}
    for text, (target, label, name) in made.items():
        first = next(f for f in firsts if text.startswith(f + " "))
        last = text[len(first) + 1:]
        assert firsts[first] == -lasts[last]  # a sure window, then an ending of the other side
        assert label == (lasts[last] > 0) and target == TARGETS["positive" if label else "negative"]
        assert name == {"bad film .": "r3", "fine plot .": "r4", "a fine film .": "r1"}[last]  # the ending's review
    assert {"a great film . bad film .", "dull plot . fine plot ."} <= set(made)
    assert not any(t.endswith("great film .") for t in made)  # r5's ending strays from its review's side
    assert "a great film . dull film ." not in made and "dull plot . a fine film ." not in made  # one review's pieces
    assert len(turns) % 2 == 0 and np.mean(turns.labels) == 0.5  # one of each order of sides per pair
