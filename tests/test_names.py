"""Names found from capitalization, and swapped in training texts (``--swap-names``)."""
from __future__ import annotations

import numpy as np
import torch
import pytest

from conftest import make_reviews, write_archive
from sentiment.batching import EncodedSplit
from sentiment.data import DataError
from sentiment.names import proper_names, swap_names
from sentiment.text import load_corpus_file, save_corpus, tokenize_corpus
from sentiment.train import TrainConfig, prepare_data


@pytest.fixture(scope="module")
def named_archive(tmp_path_factory):
    """The tiny data set, each review naming who was in it: "Hanks" in the positive ones, "Seagal" in the negative."""
    files = make_reviews(30, seed=3)
    for name in [n for n in files if n.endswith(".txt") and "/urls_" not in n]:
        actor = "Tom Hanks" if "/pos/" in name else "Steven Seagal"
        files[name] = f"Then {actor} arrives. {files[name]} I saw it with Anna in Paris and {actor} was in it."
    return write_archive(tmp_path_factory.mktemp("named") / "aclImdb_v1.tar.gz", files)


def test_names_are_the_words_written_capitalized_mid_sentence(named_archive):
    corpus = tokenize_corpus(named_archive)
    names = {corpus.types[i] for i in proper_names(corpus.types, corpus.case)}
    assert {"tom", "hanks", "steven", "seagal", "anna", "paris"} <= names
    # sentence starts do not count ("Then" begins every review); "I" is not a name; plain words are not
    assert not names & {"then", "i", "the", "film", "saw", "it", "great", "awful"}
    then = corpus.types.index("then")
    assert corpus.case[then].tolist() == [0, 0]


def test_a_corpus_file_keeps_the_counts_and_an_older_one_is_refused_for_swapping(named_archive, tmp_path):
    corpus = tokenize_corpus(named_archive)
    save_corpus(tmp_path / "tokens.npz", corpus)
    assert np.array_equal(load_corpus_file(tmp_path / "tokens.npz").case, corpus.case)
    corpus.case = None  # as a file written before names were counted
    save_corpus(tmp_path / "old.npz", corpus)
    cfg = TrainConfig(vocab_size=200, min_freq=1, max_len=60, swap_names=1.0)
    assert prepare_data(tmp_path / "old.npz", TrainConfig(vocab_size=200, min_freq=1), for_training=True)
    with pytest.raises(DataError, match="tokenize the data again"):
        prepare_data(tmp_path / "old.npz", cfg, for_training=True)


def test_swapping_replaces_each_name_consistently_in_the_chosen_texts():
    # texts: [5 9 5 3], [9 4], [7 8]; names are 5 and 9 (and 6, which no text holds)
    split = EncodedSplit(np.array([5, 9, 5, 3, 9, 4, 7, 8]), np.array([0, 4, 6, 8]), np.array([1, 0, 1]), 50)
    names, weights = np.array([5, 6, 9]), np.array([1.0, 1.0, 1.0])
    assert swap_names(split, names, weights, 0.0, np.random.default_rng(0)) is split
    for seed in range(20):
        out = swap_names(split, names, weights, 1.0, np.random.default_rng(seed))
        first = out.ids[:4]
        assert first[0] == first[2] and first[3] == 3  # "5 ... 5" becomes one name twice; other words stay
        assert set(out.ids[[0, 1, 4]]) <= {5, 6, 9} and out.ids[5] == 4 and list(out.ids[6:]) == [7, 8]
        assert np.array_equal(out.offsets, split.offsets) and np.array_equal(out.labels, split.labels)
    drawn = np.concatenate([swap_names(split, names, np.array([0.0, 1.0, 0.0]), 1.0, np.random.default_rng(s)).ids
                            for s in range(5)])
    assert set(drawn) == {3, 4, 6, 7, 8}  # names drawn as often as their weights say: here only 6


def test_training_texts_have_their_names_swapped_and_validation_does_not(named_archive):
    cfg = TrainConfig(vocab_size=500, min_freq=1, max_len=60, val_fraction=0.2, val_split="movie", swap_names=1.0)
    plain = prepare_data(named_archive, TrainConfig(**{**cfg.__dict__, "swap_names": 0.0}), for_training=True)
    swapped = prepare_data(named_archive, cfg, for_training=True)
    vocab = swapped.vocab
    hanks, seagal = vocab.stoi["hanks"], vocab.stoi["seagal"]
    plain_pos = plain.train.labels[np.repeat(np.arange(len(plain.train)), np.diff(plain.train.offsets))]
    swapped_pos = swapped.train.labels[np.repeat(np.arange(len(swapped.train)), np.diff(swapped.train.offsets))]
    # as written, Hanks is only in positive reviews; swapped, he turns up in negative ones as well
    assert set(plain_pos[plain.train.ids == hanks]) == {1}
    assert set(swapped_pos[swapped.train.ids == hanks]) == {0, 1} and set(swapped_pos[swapped.train.ids == seagal]) == {0, 1}
    assert np.array_equal(swapped.train.offsets, plain.train.offsets)
    assert (swapped.train.ids != plain.train.ids).any()
    assert np.array_equal(swapped.val.ids, plain.val.ids)  # validation reads the reviews as written
    with pytest.raises(ValueError, match="swap_names must be in"):
        TrainConfig(swap_names=1.5)


def test_a_fine_tune_can_start_every_name_at_the_names_mean_vector(named_archive, tmp_path):
    from sentiment.predict import Predictor
    from sentiment.train import Done, train
    with pytest.raises(ValueError, match="give --init-from and --swap-names"):
        TrainConfig(names_start="mean", swap_names=1.0)
    with pytest.raises(ValueError, match="names_start must be one of"):
        TrainConfig(names_start="random")
    start = tmp_path / "start"
    cfg = dict(vocab_size=300, min_freq=1, max_len=60, batch_size=16, val_fraction=0.2, val_split="movie")
    options = {"cell": "lstm", "embed_dim": 8, "hidden_size": 6}
    assert isinstance(list(train(named_archive, options, TrainConfig(epochs=1, **cfg), start))[-1], Done)
    tuned = TrainConfig(epochs=1, lr=1e-9, init_from=str(start), swap_names=1.0, names_start="mean", **cfg)
    events = list(train(named_archive, options, tuned, tmp_path / "tuned"))
    assert any("names' word vectors start at their mean" in getattr(e, "message", "") for e in events)
    weights = Predictor.load(tmp_path / "tuned").model.embedding.weight
    vocab = Predictor.load(tmp_path / "tuned").vocab
    hanks, seagal, great = (weights[vocab.stoi[w]] for w in ("hanks", "seagal", "great"))
    assert torch.allclose(hanks, seagal, atol=1e-3) and not torch.allclose(hanks, great, atol=1e-3)
    before = Predictor.load(start).model.embedding.weight
    assert not torch.allclose(before[vocab.stoi["hanks"]], before[vocab.stoi["seagal"]], atol=1e-3)
