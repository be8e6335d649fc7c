"""Learning from a teacher and from short windows of reviews; a temperature fitted on validation."""
import json
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sentiment.calibration import ece, fit_temperature
from sentiment.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from sentiment.distill import distill_loss, sentence_endings, sentence_windows, teacher_logits
from sentiment.model import ModelConfig, SentimentRNN
from sentiment.predict import Predictor
from sentiment.text import TokenizedSplit, tokenize_corpus
from sentiment.train import Done, EpochRecord, TrainConfig, prepare_data, split_indices, train
from sentiment.vocab import Vocab

OPTIONS = {"cell": "lstm", "embed_dim": 16, "hidden_size": 12}
CFG = dict(batch_size=16, lr=1e-2, vocab_size=200, min_freq=1, max_len=40)


def toy_split(texts: list[str], types: list[str]) -> TokenizedSplit:
    index = {t: i for i, t in enumerate(types)}
    ids = [[index[w] for w in text.split()] for text in texts]
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
    return TokenizedSplit(np.array([i for x in ids for i in x], dtype=np.int32), offsets,
                          np.arange(len(texts)) % 2, [f"r{i}" for i in range(len(texts))], ["tt1"] * len(texts))


def test_windows_are_whole_sentences_of_their_own_review():
    types = ["a", "b", "c", ".", "!", "d"]
    texts = ["a b . c ! d d .", "a a a a a a", "b . c . d . a ."]
    split = toy_split(texts, types)
    windows = sentence_windows(split, types, per_review=20, rng=np.random.default_rng(0), max_sentences=2)
    assert len(windows) == 60
    sentences = {0: ["a b .", "c !", "d d ."], 1: ["a a a a a a"], 2: ["b .", "c .", "d .", "a ."]}
    for i in range(len(windows)):
        review = int(windows.names[i][1:])
        text = " ".join(types[t] for t in windows.token_ids[windows.offsets[i]:windows.offsets[i + 1]])
        starts = [" ".join(sentences[review][k:k + n]) for k in range(len(sentences[review])) for n in (1, 2)]
        assert text in starts, (review, text)  # one or two whole sentences, in order
        assert windows.labels[i] == split.labels[review]
    seen = {" ".join(types[t] for t in windows.token_ids[windows.offsets[i]:windows.offsets[i + 1]])
            for i in range(40, 60)}
    assert len(seen) > 3  # random starts and lengths, not always the same window
    again = sentence_windows(split, types, per_review=20, rng=np.random.default_rng(0), max_sentences=2)
    assert np.array_equal(again.token_ids, windows.token_ids)  # seeded


def test_a_window_is_cut_at_max_tokens():
    types = ["w", "."]
    split = toy_split(["w " * 100 + "."], types)
    windows = sentence_windows(split, types, per_review=5, rng=np.random.default_rng(1), max_tokens=60)
    assert set(np.diff(windows.offsets)) == {60}


def test_an_ending_is_a_reviews_last_one_or_two_whole_sentences_cut_to_its_last_tokens():
    types = ["a", "b", "c", ".", "!", "d"]
    split = toy_split(["a b . c ! d d .", "a a a a a a", "", "b . c . d . a"], types)
    seen = set()
    for seed in range(20):
        endings = sentence_endings(split, types, rng=np.random.default_rng(seed))
        assert endings.names == ["r0", "r1", "r3"] and list(endings.labels) == [0, 1, 1]  # the empty review has none
        text = [" ".join(types[t] for t in endings.token_ids[endings.offsets[i]:endings.offsets[i + 1]])
                for i in range(3)]
        assert text[0] in ("d d .", "c ! d d .") and text[1] == "a a a a a a" and text[2] in ("a", "d . a")
        seen.add(text[0])
    assert len(seen) == 2  # one or two sentences, drawn
    long = sentence_endings(toy_split(["a . " + "w " * 100 + "."], ["a", ".", "w"]), ["a", ".", "w"],
                            rng=np.random.default_rng(0), max_tokens=60)
    assert list(long.token_ids) == [2] * 59 + [1]  # the last 60 tokens, the end kept


def test_distill_loss_is_the_labels_loss_without_a_teacher_and_the_teachers_with_mix_1():
    logits, labels = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1, 0, 0])
    teacher = torch.tensor([1.0, 3.0, -2.0])
    plain = F.binary_cross_entropy_with_logits(logits, labels.float())
    assert torch.allclose(distill_loss(logits, labels, None, None, None, 2.0), plain)
    assert torch.allclose(distill_loss(logits, labels, teacher, torch.zeros(3), None, 2.0), plain)
    student = teacher.clone().requires_grad_(True)  # the student already says what the teacher says
    distill_loss(student, labels, teacher, torch.ones(3), None, 2.0).backward()
    assert torch.allclose(student.grad, torch.zeros(3), atol=1e-6)
    weighted = distill_loss(logits, labels, None, None, torch.tensor([1.0, 0.0, 0.0]), 2.0)
    assert torch.allclose(weighted, F.binary_cross_entropy_with_logits(logits[:1], labels[:1].float()))


def test_fit_temperature_recovers_an_overconfident_models_temperature():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20_000)  # the true logits
    labels = (rng.random(z.size) < 1 / (1 + np.exp(-z))).astype(int)
    overconfident = 3.0 * z
    t = fit_temperature(overconfident, labels)
    assert 2.7 < t < 3.3
    assert ece(1 / (1 + np.exp(-overconfident / t)), labels) < ece(1 / (1 + np.exp(-overconfident)), labels) / 3
    assert fit_temperature(np.zeros(0), np.zeros(0)) == 1.0


def test_the_recorded_temperature_divides_every_logit_the_running_ones_too(tmp_path):
    torch.manual_seed(0)
    model = SentimentRNN(ModelConfig(vocab_size=20, **OPTIONS)).eval()
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(18)])
    tokenizer = {"lowercase": True, "max_len": 50}
    save_checkpoint(tmp_path / "plain", model, vocab, {}, tokenizer)
    save_checkpoint(tmp_path / "warm", model, vocab, {}, tokenizer, calibration={"temperature": 2.5})
    plain, warm = load_checkpoint(tmp_path / "plain")[0], load_checkpoint(tmp_path / "warm")[0]
    ids = torch.tensor([3, 5, 7, 2, 9])
    assert torch.allclose(warm(ids[None], torch.tensor([5])), plain(ids[None], torch.tensor([5])) / 2.5, atol=1e-6)
    assert torch.allclose(warm.inspect(ids)["running_logits"], plain.inspect(ids)["running_logits"] / 2.5, atol=1e-6)
    config = json.loads((tmp_path / "warm" / "config.json").read_text())
    config["calibration"]["temperature"] = -1
    (tmp_path / "warm" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="temperature"):
        load_checkpoint(tmp_path / "warm")


def test_training_with_a_teacher_and_windows(tiny_archive, tiny_checkpoint, tmp_path):
    cfg = TrainConfig(epochs=2, teacher=str(tiny_checkpoint), windows=2, distill=0.5, **CFG)
    teacher_cfg = Predictor.load(tiny_checkpoint).train_config()
    cfg.lowercase, cfg.keep_html = teacher_cfg.lowercase, teacher_cfg.keep_html
    events = list(train(tiny_archive, OPTIONS, cfg, tmp_path / "student"))
    assert any("and 144 windows and sentences, learning from the teacher" in getattr(e, "message", "") for e in events)
    assert [r.epoch for r in events if isinstance(r, EpochRecord)] == [1, 2] and isinstance(events[-1], Done)
    metrics = json.loads((tmp_path / "student" / "metrics.json").read_text())
    assert metrics["n_train"] == 72 and metrics["train_config"]["teacher"] == str(tiny_checkpoint)
    calibration = json.loads((tmp_path / "student" / "config.json").read_text())["calibration"]
    assert calibration["temperature"] > 0 and calibration["fitted_on"] == "validation (8 reviews)"
    prepared = prepare_data(tiny_archive, cfg, for_training=True)
    assert len(prepared.train) == 72 * 3 and prepared.n_reviews == 72
    assert np.allclose(prepared.mix, [0.5] * 72 + [1.0] * 144) and np.allclose(prepared.weight[72:], 0.5)
    corpus = tokenize_corpus(tiny_archive)
    official = corpus.splits["train"]
    train_idx, _ = split_indices(len(official), cfg, official.movies if cfg.val_split == "movie" else None)
    reviews = [" ".join(corpus.tokens("train", int(i))) for i in train_idx]
    teacher = Predictor.load(tiny_checkpoint)
    assert np.allclose(prepared.teacher[:72], teacher.logits(reviews), atol=1e-4)  # the teacher's own logits
    windows = prepared.train.subset(np.arange(72, 216))
    window_texts = [" ".join(prepared.vocab.itos[t] for t in windows.ids[windows.offsets[i]:windows.offsets[i + 1]])
                    for i in range(144)]
    assert all(text.split() and len(text.split()) <= 60 for text in window_texts)
    assert not prepare_data(tiny_archive, cfg).n_reviews  # evaluating needs neither windows nor the teacher
    cfg.window_distill = 0.25  # windows learn their review's label too
    assert np.allclose(prepare_data(tiny_archive, cfg, for_training=True).mix, [0.5] * 72 + [0.25] * 144)


def test_a_missing_teacher_is_named_before_any_data_is_read(tmp_path):
    with pytest.raises(CheckpointError, match="No teacher checkpoint at nowhere"):
        list(train(tmp_path / "no-data-either", OPTIONS, TrainConfig(teacher="nowhere", **CFG), tmp_path / "run"))


def test_a_teacher_that_read_other_tokens_is_refused(tiny_archive, tiny_checkpoint):
    corpus = tokenize_corpus(tiny_archive, lowercase=False)
    with pytest.raises(ValueError, match="tokens"):
        teacher_logits(tiny_checkpoint, corpus.types, corpus.splits["train"], lowercase=False, keep_html=False)


def test_teachers_logits_are_cached_and_the_least_recently_used_pruned(tiny_checkpoint, monkeypatch):
    from sentiment import distill
    types = Predictor.load(tiny_checkpoint).vocab.itos
    texts = [" ".join(types[2 + i:5 + i]) for i in range(6)]
    ask = lambda split: teacher_logits(tiny_checkpoint, types, split, lowercase=True, keep_html=False)
    first = ask(toy_split(texts, types))
    folder = distill.cache_dir() / "teacher"
    cached = max(folder.glob("*.npy"), key=lambda p: p.stat().st_mtime)  # the file just written
    cached.write_bytes(b"not an array")  # damaged: computed again, not an error
    assert np.allclose(ask(toy_split(texts, types)), first)
    monkeypatch.setattr(distill, "KEEP_TEACHER_CACHES", 2)
    os.utime(cached, (0, 1))  # as if last used long ago: reading it makes it the newest again
    assert np.allclose(ask(toy_split(texts, types)), first) and cached.stat().st_mtime > 1
    for k in range(3):  # three more pieces of data, each cached
        ask(toy_split(texts[k:k + 2], types))
    assert len(list(folder.glob("*.npy"))) == 2 and not cached.exists()  # the oldest went


@pytest.mark.parametrize("bad", [dict(distill=1.5), dict(distill_temperature=0), dict(windows=-1),
                                 dict(window_weight=0), dict(window_distill=1.5), dict(window_distill=-0.1), dict(negation_weight=0), dict(negation_weight=float("nan"))])
def test_distillation_settings_are_validated(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)
