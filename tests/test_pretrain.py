"""Next-word pretraining (sentiment/pretrain.py): what it reads, what it learns, how a run records it."""
import json

import numpy as np
import pytest
import torch

from sentiment.batching import EncodedSplit
from sentiment.model import ModelConfig, SentimentRNN
from sentiment.pretrain import NextWord, PretrainProgress, PretrainRecord, pretrain, segments
from sentiment.train import Done, EpochRecord, Stage, TrainConfig, estimate_peak_mb, prepare_data, train

OPTIONS = {"cell": "rnn", "embed_dim": 16, "hidden_size": 16, "num_layers": 2}
CFG = dict(batch_size=8, max_len=64, vocab_size=500, min_freq=1, seed=0)


def split_of(reviews: list[list[int]], max_len: int = 100) -> EncodedSplit:
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in reviews])]).astype(np.int64)
    return EncodedSplit(np.concatenate([np.array(r, dtype=np.int64) for r in reviews]), offsets,
                        np.zeros(len(reviews), dtype=np.int64), max_len)


def test_reviews_are_cut_into_pieces_in_order_and_within_their_max_len():
    split = split_of([list(range(2, 9)), [5], list(range(10, 30))], max_len=15)
    pieces = segments(split, length=4)
    got = [pieces.ids[a:b].tolist() for a, b in zip(pieces.offsets[:-1], pieces.offsets[1:])]
    # 7 tokens -> 4 + 3; one token: nothing to predict, left out; 20 tokens cut to max_len 15 -> 4 + 4 + 4 + 3
    assert got == [[2, 3, 4, 5], [6, 7, 8], [10, 11, 12, 13], [14, 15, 16, 17], [18, 19, 20, 21], [22, 23, 24]]


def test_the_next_word_loss_counts_only_real_next_words():
    torch.manual_seed(0)
    lm = NextWord(SentimentRNN(ModelConfig(vocab_size=50, **OPTIONS))).eval()
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])  # the second is 2 tokens, padded
    loss, n = lm(ids, torch.tensor([4, 2]))
    assert n == 3 + 1
    alone = [lm(ids[i:i + 1, :k], torch.tensor([k])) for i, k in ((0, 4), (1, 2))]
    assert torch.allclose(loss, (alone[0][0] * 3 + alone[1][0]) / 4, atol=1e-6)  # padding changes nothing


def test_pretraining_learns_the_text_and_changes_only_the_encoder():
    rng = np.random.default_rng(0)
    # a text with a rule to learn: each word is followed by the next id (mod 40, from 2)
    reviews = [[2 + (s + k) % 40 for k in range(30)] for s in rng.integers(0, 40, 256)]
    model = SentimentRNN(ModelConfig(vocab_size=42, **OPTIONS))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainConfig(pretrain_epochs=3, lr=1e-2, **{**CFG, "batch_size": 16})
    events = list(pretrain(model, split_of(reviews), split_of(reviews[:8]), cfg, torch.device("cpu")))
    records = [e for e in events if isinstance(e, PretrainRecord)]
    assert [r.epoch for r in records] == [1, 2, 3] and isinstance(events[0], PretrainProgress)
    assert records[-1].val_perplexity < 10 < 20 < records[0].train_perplexity  # from near chance (40 words) to the rule
    after = model.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed and all(k.startswith(("embedding.", "layers.")) for k in changed)


def test_a_run_with_pretraining_records_it_and_starts_sentiment_from_it(tiny_archive, tmp_path):
    cfg = TrainConfig(epochs=1, pretrain_epochs=1, val_fraction=0.25, **CFG)
    events = list(train(tiny_archive, OPTIONS, cfg, tmp_path / "run"))
    kinds = [type(e) for e in events]
    assert kinds.index(PretrainRecord) < kinds.index(EpochRecord) and isinstance(events[-1], Done)
    assert any(isinstance(e, Stage) and "next word" in e.message for e in events)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["pretrain"][0]["epoch"] == 1 and metrics["pretrain"][0]["val_perplexity"] > 1
    assert metrics["train_config"]["pretrain_epochs"] == 1
    # the same seed without pretraining starts from other weights, so it ends elsewhere
    plain = list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, val_fraction=0.25, **CFG), tmp_path / "plain"))
    assert plain[-1].history[0]["train_loss"] != events[-1].history[0]["train_loss"]


def test_pretraining_settings_are_checked_and_counted_in_the_memory_estimate():
    with pytest.raises(ValueError, match="pretrain_epochs"):
        TrainConfig(pretrain_epochs=-1)
    big = TrainConfig(batch_size=512, max_len=64)
    assert estimate_peak_mb(OPTIONS, TrainConfig(pretrain_epochs=1, batch_size=512, max_len=64)) > estimate_peak_mb(OPTIONS, big)


def test_the_model_card_says_a_run_began_by_predicting_words(tiny_archive, tmp_path):
    from sentiment.card import model_card
    list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, pretrain_epochs=1, val_fraction=0.25, **CFG), tmp_path / "run"))
    assert "first 1 epoch predicting the next word of the training reviews (perplexity" in model_card(tmp_path / "run")
    list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, val_fraction=0.25, **CFG), tmp_path / "plain"))
    assert "next word" not in model_card(tmp_path / "plain")
