import json
import time
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from sentiment.data import DataError, read_reviews
from sentiment.model import ModelConfig, SentimentRNN
from sentiment.predict import Predictor
from sentiment.train import (Done, EpochRecord, Progress, TrainConfig, TrainingBusy, adversarial_push, initial_weights,
                             prepare_data, split_indices, train, weight_average)
from tests.conftest import write_folder

OPTIONS = {"cell": "gru", "embed_dim": 16, "hidden_size": 12}
CFG = dict(batch_size=16, lr=1e-2, vocab_size=200, min_freq=1, max_len=40)


def records(events):
    return [e for e in events if isinstance(e, EpochRecord)]


def test_two_epochs_give_two_records_and_a_falling_loss(tiny_archive, tmp_path):
    events = list(train(tiny_archive, OPTIONS, TrainConfig(epochs=2, **CFG), tmp_path / "run"))
    epochs = records(events)
    assert [r.epoch for r in epochs] == [1, 2]
    assert epochs[1].train_loss < epochs[0].train_loss
    assert all(r.tokens_per_s > 0 and 0 <= r.val_acc <= 1 and r.lr > 0 for r in epochs)
    steps = [e for e in events if isinstance(e, Progress) and e.epoch == 1]
    assert [e.step for e in steps] == list(range(1, 6)) and steps[-1].steps == 5  # 72 reviews / 16
    done = events[-1]
    assert isinstance(done, Done) and not done.stopped and len(done.history) == 2
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert metrics["best_epoch"] == max(epochs, key=lambda r: r.val_acc).epoch
    assert Predictor.load(tmp_path / "run").model.config.cell == "gru"


def test_training_is_reproducible_on_cpu(tiny_archive, tmp_path):
    run = lambda name: [(r.train_loss, r.val_loss) for r in records(
        train(tiny_archive, OPTIONS, TrainConfig(epochs=2, **CFG), tmp_path / name))]
    assert run("a") == run("b")


def test_stop_between_batches_keeps_a_usable_model(tiny_archive, tmp_path):
    calls = iter(range(1000))
    events = list(train(tiny_archive, OPTIONS, TrainConfig(epochs=5, **CFG), tmp_path / "run",
                        stop=lambda: next(calls) >= 2))  # stop after two batches
    done = events[-1]
    assert done.stopped and done.best_epoch == 1
    [partial] = records(events)
    assert partial.partial
    assert Predictor.load(tmp_path / "run").predict(["great film"])[0].label in ("positive", "negative")


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_resume_continues_exactly(tiny_archive, tmp_path, ema):
    cfg = TrainConfig(epochs=3, ema=ema, **CFG)
    full = records(train(tiny_archive, OPTIONS, cfg, tmp_path / "full"))
    list(train(tiny_archive, OPTIONS, cfg, tmp_path / "cut",
               stop=iter([False] * 11 + [True] * 99).__next__))  # 5 steps per epoch: stops in epoch 3
    first_sitting = json.loads((tmp_path / "cut" / "resume" / "state.json").read_text())["wall_seconds"]
    start = time.perf_counter()
    resumed = records(train(tiny_archive, OPTIONS, cfg, tmp_path / "cut", resume=True))
    second_sitting = time.perf_counter() - start
    wall = json.loads((tmp_path / "cut" / "metrics.json").read_text())["wall_seconds"]
    assert wall > second_sitting and wall > first_sitting > 0  # the wall time counts both sittings
    assert [r.epoch for r in resumed] == [3]
    assert resumed[0].train_loss == pytest.approx(full[2].train_loss, rel=1e-5)
    assert resumed[0].val_loss == pytest.approx(full[2].val_loss, rel=1e-5)  # the average resumed too
    with pytest.raises(ValueError, match="other settings"):
        list(train(tiny_archive, OPTIONS, TrainConfig(epochs=3, **{**CFG, "lr": 0.5}), tmp_path / "cut", resume=True))


def test_validation_split_is_seeded_and_disjoint():
    cfg = TrainConfig()
    train_idx, val_idx = split_indices(25_000, cfg)
    assert len(val_idx) == 2500 and len(train_idx) == 22_500 and not set(train_idx) & set(val_idx)
    assert (split_indices(25_000, cfg)[1] == val_idx).all()
    small_train, small_val = split_indices(25_000, TrainConfig(max_train=400))
    assert len(small_train) == 400 and len(small_val) == 100 and set(small_val) <= set(val_idx)


def test_adversarial_push_has_norm_eps_and_raises_the_loss():
    torch.manual_seed(0)
    model = SentimentRNN(ModelConfig(vocab_size=30, embed_dim=8, hidden_size=6)).eval()
    ids, lengths, labels = torch.randint(2, 30, (4, 7)), torch.tensor([7, 5, 3, 7]), torch.tensor([1., 0., 1., 0.])
    ids[1, 5:], ids[2, 3:] = 0, 0
    delta = torch.zeros(4, 7, 8, requires_grad=True)
    loss = lambda d: F.binary_cross_entropy_with_logits(model(ids, lengths, d), labels)
    loss(delta).backward()
    push = adversarial_push(delta.grad, 0.5)
    torch.testing.assert_close(push.flatten(1).norm(dim=1), torch.full((4,), 0.5))
    assert push[2, 3:].abs().max() == 0  # padding gets no push
    assert loss(push) > loss(None) > loss(-push)


def test_adversarial_training_learns(tiny_archive, tmp_path):
    epochs = records(train(tiny_archive, OPTIONS, TrainConfig(epochs=2, adversarial=1.0, **CFG), tmp_path / "run"))
    assert epochs[1].train_loss < epochs[0].train_loss


def test_weight_average_warms_up_then_follows_slowly():
    model = torch.nn.Linear(1, 1, bias=False)
    average = weight_average(model, decay=0.99)
    values = []
    for w in (0.0, 1.0, 1.0):
        model.weight.data.fill_(w)
        average.update_parameters(model)
        values.append(average.module.weight.item())
    keep = 2 / 11  # after one update the decay is (1 + 1) / (10 + 1), not 0.99: the random start is forgotten fast
    assert values[0] == 0.0 and values[1] == pytest.approx(1 - keep)
    assert values[2] == pytest.approx(values[1] + (1 - values[1]) * (1 - 3 / 12))


def test_with_ema_the_averaged_weights_are_validated_and_saved(tiny_archive, tmp_path):
    list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, ema=0.9, **CFG), tmp_path / "run"))
    saved = Predictor.load(tmp_path / "run").model.state_dict()
    state = load_file(tmp_path / "run" / "resume" / "state.safetensors")
    name = "layers.1.weight_hh_l0"
    assert torch.equal(saved[name], state[f"average.module.{name}"])
    assert not torch.equal(saved[name], state[f"model.{name}"])
    temperature = json.loads((tmp_path / "run" / "config.json").read_text())["calibration"]["temperature"]
    assert torch.allclose(saved["classifier.weight"], state["average.module.classifier.weight"] / temperature)


def test_movie_validation_split_holds_out_whole_movies(tiny_archive, tmp_path):
    reviews = read_reviews(tiny_archive)["train"]
    names, movies = [r.name for r in reviews], [r.movie for r in reviews]
    review_4 = next(i for i, name in enumerate(names) if name.startswith("train/neg/4_"))
    assert movies[review_4] == "tt0001001"  # line 4 of urls_neg.txt; a movie has 3 pos + 3 neg reviews
    cfg = TrainConfig(val_split="movie", val_fraction=0.25)
    train_idx, val_idx = split_indices(len(names), cfg, movies)
    assert 20 <= len(val_idx) < 20 + 6 and len(train_idx) + len(val_idx) == len(names)
    assert not {movies[i] for i in train_idx} & {movies[i] for i in val_idx}
    assert (split_indices(len(names), cfg, movies)[1] == val_idx).all()
    events = list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, val_split="movie", **CFG), tmp_path / "run"))
    assert events[-1].best_epoch == 1
    assert Predictor.load(tmp_path / "run").train_config().val_split == "movie"


def test_without_validation_every_review_trains_and_the_last_epoch_is_kept(tiny_archive, tmp_path, capsys):
    from sentiment.card import model_card
    from sentiment.cli import main
    n = len(read_reviews(tiny_archive)["train"])
    train_idx, val_idx = split_indices(n, TrainConfig(val_fraction=0.0))
    assert sorted(train_idx) == list(range(n)) and len(val_idx) == 0
    cfg = TrainConfig(epochs=2, val_fraction=0.0, val_split="movie", **CFG)  # the split kind is moot
    events = list(train(tiny_archive, OPTIONS, cfg, tmp_path / "run"))
    epochs = records(events)
    assert [(r.best, r.val_acc, r.val_loss) for r in epochs] == [(True, None, None)] * 2
    assert events[-1].best_epoch == 2 and events[-1].best_val_acc is None
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_train"] == n and metrics["n_val"] == 0 and metrics["best_epoch"] == 2
    card = model_card(tmp_path / "run")
    assert f"{n:,} training reviews; none held out" in card and "no validation: the last epoch (2) kept" in card
    assert "| Validation accuracy | n/a |" in card
    assert main(["evaluate", "--checkpoint", str(tmp_path / "run"), "--data", str(tiny_archive), "--split", "val"]) != 0
    assert "no validation split" in capsys.readouterr().err


def test_a_run_without_validation_takes_the_temperature_its_recipe_got_on_validation(tiny_archive, tmp_path):
    from sentiment.checkpoint import load_checkpoint
    validated = tmp_path / "validated"
    list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, val_fraction=0.25, **CFG), validated))
    fitted = json.loads((validated / "config.json").read_text())["calibration"]["temperature"]
    full = TrainConfig(epochs=1, val_fraction=0.0, temperature_from=str(validated), **CFG)
    list(train(tiny_archive, OPTIONS, full, tmp_path / "all"))
    calibration = json.loads((tmp_path / "all" / "config.json").read_text())["calibration"]
    assert calibration["temperature"] == fitted and calibration["borrowed_from"] == str(validated)
    assert str(validated) in calibration["fitted_on"]
    from sentiment.card import model_card
    assert f"fitted on validation of the same recipe (`{validated}`)" in model_card(tmp_path / "all")
    model, _, _, _ = load_checkpoint(tmp_path / "all")  # the borrowed temperature is applied like a fitted one
    raw = load_file(tmp_path / "all" / "model.safetensors")  # small: one file
    assert torch.allclose(model.classifier.bias, raw["classifier.bias"].float() / fitted)


def test_a_temperature_to_take_must_exist_and_is_only_for_runs_without_validation(tiny_archive, tmp_path):
    with pytest.raises(ValueError, match="val_fraction 0"):
        TrainConfig(val_fraction=0.1, temperature_from="checkpoints/rnn")
    uncalibrated = tmp_path / "uncalibrated"
    list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, val_fraction=0.0, **CFG), uncalibrated))
    for source, problem in ((uncalibrated, "no fitted temperature"), (tmp_path / "missing", "cannot read")):
        with pytest.raises(ValueError, match=problem):
            list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, val_fraction=0.0, temperature_from=str(source),
                                                          **CFG), tmp_path / "run"))
    assert not (tmp_path / "run" / "config.json").exists()  # refused before any training


def test_movie_split_without_movie_lists_says_so(tiny_files, tmp_path):
    root = write_folder(tmp_path, {k: v for k, v in tiny_files.items() if "urls_" not in k})
    with pytest.raises(DataError, match="--val-split random"):
        prepare_data(root, TrainConfig(val_split="movie", **CFG))


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"lr": -1.0}, {"val_fraction": 1.0}, {"val_fraction": -0.1}, {"device": "tpu"},
                                 {"max_train": 1}, {"ema": 1.0}, {"ema": -0.1},
                                 {"val_split": "rating"}, {"adversarial": -1.0}])
def test_train_config_is_validated(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_a_second_training_into_the_same_folder_is_refused(tiny_archive, tmp_path):
    first = train(tiny_archive, OPTIONS, TrainConfig(epochs=1, **CFG), tmp_path / "run")
    next(first)  # the first run has started and holds the folder
    with pytest.raises(TrainingBusy, match="being written by another training"):
        next(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, **CFG), tmp_path / "run"))
    list(first)
    assert not (tmp_path / "run" / ".training.lock").exists()
    (tmp_path / "run" / ".training.lock").write_text("999999999")  # left by a process that died
    assert isinstance(list(train(tiny_archive, OPTIONS, TrainConfig(epochs=1, **CFG), tmp_path / "run"))[-1], Done)


def test_a_run_can_start_from_a_checkpoints_weights_and_keeps_its_vocabulary(tiny_archive, tiny_checkpoint, tmp_path):
    start = Predictor.load(tiny_checkpoint)
    options = {k: v for k, v in start.model.config.to_dict().items() if k != "vocab_size"}
    cfg = TrainConfig(epochs=1, batch_size=16, lr=1e-9, vocab_size=50, min_freq=1, max_len=40, val_fraction=0.0,
                      init_from=str(tiny_checkpoint))  # a vocabulary of 50 would be built without it
    events = list(train(tiny_archive, options, cfg, tmp_path / "tuned"))
    assert any(getattr(e, "message", "") == f"Starting from the weights of {tiny_checkpoint}" for e in events)
    tuned = Predictor.load(tmp_path / "tuned")
    assert tuned.vocab.itos == start.vocab.itos
    from sentiment.card import model_card
    from sentiment.checkpoint import weights_digest
    recorded = json.loads((tmp_path / "tuned" / "metrics.json").read_text())["init_from"]
    assert recorded == {"path": str(tiny_checkpoint), "weights_sha256": weights_digest(tiny_checkpoint)}
    assert (f"started from the weights of `{tiny_checkpoint}` (sha256 {recorded['weights_sha256'][:12]}…) (fine-tuning)"
            in model_card(tmp_path / "tuned"))
    texts = ["a wonderful film", "dull and boring , awful", "the plot was fine"]
    # a learning rate of 1e-9 leaves the weights as they were, so the logits differ only by the calibration
    # temperature the start's own validation gave it (this run has none: it keeps the raw logits)
    t = json.loads((tiny_checkpoint / "config.json").read_text())["calibration"]["temperature"]
    assert torch.allclose(torch.tensor(tuned.logits(texts)), torch.tensor(start.logits(texts)) * t, atol=1e-4)
    list(train(tiny_archive, options, replace(cfg, init_from=None), tmp_path / "fresh"))  # the same run, fresh weights
    fresh = Predictor.load(tmp_path / "fresh")
    assert not torch.allclose(torch.tensor(fresh.logits(texts)), torch.tensor(start.logits(texts)) * t, atol=1e-2)


def test_a_run_starts_from_the_unknown_word_as_trained(tiny_checkpoint, tmp_path):
    import shutil
    shutil.copytree(tiny_checkpoint, tmp_path / "mean")
    config = json.loads((tmp_path / "mean" / "config.json").read_text())
    (tmp_path / "mean" / "config.json").write_text(json.dumps(config | {"unknown_word": "mean"}))
    start = Predictor.load(tiny_checkpoint)
    options = {k: v for k, v in start.model.config.to_dict().items() if k != "vocab_size"}
    model, _ = initial_weights(tmp_path / "mean", options)
    assert torch.equal(model.embedding.weight, start.model.embedding.weight)  # <unk> as trained, not the mean


def test_a_run_may_start_from_a_checkpoint_with_fewer_pooled_parts(tiny_checkpoint):
    start = Predictor.load(tiny_checkpoint)  # maxmean pooling
    options = {k: v for k, v in start.model.config.to_dict().items() if k != "vocab_size"}
    wider, vocab = initial_weights(tiny_checkpoint, {**options, "pooling": "maxmeanlast"})
    assert wider.pool_parts == ("max", "mean", "last") and vocab.itos == start.vocab.itos
    H = wider.config.hidden_size
    assert torch.equal(wider.classifier.weight[0, 2 * H:], torch.zeros(H))  # the new part starts at zero
    narrow, _ = initial_weights(tiny_checkpoint, options)
    ids = torch.tensor([start.vocab.encode("a wonderful film , but dull".split())])  # (1, T)
    read = lambda m: m.read_outputs(m.encode(ids))
    assert torch.equal(wider.eval().running_logits(read(wider)), narrow.eval().running_logits(read(narrow)))
    with pytest.raises(ValueError, match=r"pooling \(maxmean there, last here\)"):
        initial_weights(tiny_checkpoint, {**options, "pooling": "last"})  # a part of it would be lost


def test_a_checkpoint_to_start_from_must_have_the_runs_model(tiny_archive, tiny_checkpoint, tmp_path):
    with pytest.raises(ValueError, match=r"hidden_size \(12 there, 24 here\)"):
        list(train(tiny_archive, {"cell": "lstm", "embed_dim": 16, "hidden_size": 24},
                   TrainConfig(epochs=1, init_from=str(tiny_checkpoint), **CFG), tmp_path / "run"))
    with pytest.raises(ValueError, match="one or the other"):
        TrainConfig(init_from=str(tiny_checkpoint), pretrain_epochs=1)


def test_a_fine_tune_may_train_with_other_dropouts(tiny_archive, tiny_checkpoint, tmp_path):
    """Dropouts hold no weights: a run from a checkpoint may read whole words as <unk> where its start did not."""
    start = Predictor.load(tiny_checkpoint)
    options = {k: v for k, v in start.model.config.to_dict().items() if k != "vocab_size"}
    options.update(word_dropout=0.1, output_dropout=0.2)
    cfg = TrainConfig(epochs=1, init_from=str(tiny_checkpoint), **{**CFG, "vocab_size": 50})
    assert isinstance(list(train(tiny_archive, options, cfg, tmp_path / "run"))[-1], Done)
    tuned = Predictor.load(tmp_path / "run").model.config
    assert (tuned.word_dropout, tuned.output_dropout) == (0.1, 0.2) and start.model.config.word_dropout == 0.0
