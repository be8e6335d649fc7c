"""Misspelled words read as the word meant (``sentiment/spelling.py``), wherever a Predictor reads text."""
from __future__ import annotations

import numpy as np

from sentiment.predict import Predictor
from sentiment.spelling import Speller, one_edit
from sentiment.train import prepare_data
from sentiment.vocab import Vocab

VOCAB = Vocab(["<pad>", "<unk>", "the", "acting", "was", "wonderful", "terrible", "unkind", "having", "film", "."])


def test_one_edit_drops_swaps_changes_and_adds_a_letter():
    edits = one_edit("abc")
    assert {"bc", "ac", "ab", "bac", "acb", "xbc", "abz", "abcd", "zabc", "abxc"} <= edits
    assert "abc" in edits and "cba" not in edits and "abcde" not in edits
    assert len(one_edit("abcdef")) <= 54 * 6 + 25


def test_a_rare_misspelling_is_read_as_the_common_word_one_edit_away():
    speller = Speller(VOCAB)
    read, changed = speller.fix(["the", "acting", "was", "wonderfull", ",", "terible", "."])
    assert read == ["the", "acting", "was", "wonderful", ",", "terrible", "."]
    assert changed == [(3, "wonderfull"), (5, "terible")]


def test_of_several_words_one_edit_away_the_one_the_training_reviews_use_most_is_meant():
    vocab = Vocab(["<pad>", "<unk>", "the", "movie", "was", "move"])  # the vocabulary's order: training frequency
    assert Speller(vocab).meant("movei") == "movie"  # English writes "move" more often; film reviews, "movie"


def test_real_words_short_words_and_words_without_a_neighbour_stay_as_written():
    speller = Speller(VOCAB)
    # English writes "unwind" and "paving" often enough to be meant; "teh" is too short; "flim9" is not letters
    tokens = ["unwind", "paving", "teh", "flim9", "qwzxv", "the"]
    assert speller.fix(tokens) == (tokens, [])
    assert speller.meant("unwind") is None and speller.meant("paving") is None and speller.meant("wonderful") is None


def test_a_predictor_reads_misspellings_as_meant_and_says_so(tiny_checkpoint):
    reader, plain = Predictor.load(tiny_checkpoint), Predictor.load(tiny_checkpoint, spelling=False)
    e = reader.explain("The acting was wonderfull.")
    assert e.tokens == ["the", "acting", "was", "wonderful", "."] and e.misspelled == [(3, "wonderfull")]
    assert e.n_known == 5
    right = reader.explain("The acting was wonderful.")
    assert e.prob_positive == right.prob_positive and right.misspelled == []
    p = plain.explain("The acting was wonderfull.")
    assert p.tokens[3] == "wonderfull" and p.misspelled == [] and p.n_known == 4
    assert reader.predict(["The acting was wonderfull."])[0].prob_positive == reader.predict(["The acting was wonderful."])[0].prob_positive
    assert [e.misspelled for e in reader.explain_many(["Terible film.", "A film."])] == [[(0, "terible")], []]
    assert reader.encode(["wonderfull"]) == [reader.vocab.stoi["wonderful"]]


def test_evaluation_reads_the_held_out_reviews_as_a_predictor_does(tiny_files, tmp_path, tiny_checkpoint):
    from conftest import write_archive
    files = dict(tiny_files)
    test_reviews = [n for n in files if n.startswith("aclImdb/test/pos/") and n.endswith(".txt")]
    files[test_reviews[0]] = "The acting was wonderfull."
    archive = write_archive(tmp_path / "aclImdb_v1.tar.gz", files)
    reader = Predictor.load(tiny_checkpoint)
    cfg = reader.train_config()
    plain = prepare_data(archive, cfg, vocab=reader.vocab)
    read = prepare_data(archive, cfg, vocab=reader.vocab, speller=reader.speller)
    wonderful = reader.vocab.stoi["wonderful"]
    assert (read.test.ids == wonderful).sum() == (plain.test.ids == wonderful).sum() + 1
    assert np.array_equal(read.train.ids, plain.train.ids)  # training reviews stay as the vocabulary was built
