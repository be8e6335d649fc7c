"""The train tab through its API (``/train``, ``/stop_training``), on the tiny generated archive."""
import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

from sentiment.batching import EncodedSplit
from sentiment.predict import Predictor
from sentiment.ui import models, train_tab, training_job

# cell, layers, hidden, embedding, epochs, lr, batch, max length, training reviews, test on
QUICK = ["gru", 2, 8, 8, 2, 1e-2, 16, 48, 100, "sample"]
LONG = ["lstm", 2, 64, 64, 50, 1e-2, 1, 48, 100, "sample"]  # 72 steps an epoch, 50 epochs: plenty of time to stop


def rows(update) -> int:
    table = update[1]
    return sum(1 for row in table["data"] if row and row[0] not in ("", None))


def run_folder(status: str) -> Path:
    name = status.split("**")[1]  # "**runs/<folder>**, training on ..."
    return models.model_choices()[name]


def test_a_two_epoch_run_streams_its_epochs_and_saves_a_model(client, app_env):
    job = client.submit(*QUICK, api_name="/train")
    updates = list(job)
    counts = [rows(u) for u in updates]
    assert counts[-1] == 2
    assert 1 in counts[:-1] and 2 in counts[:-1]  # each epoch streamed in while the run went on
    assert counts == sorted(counts)
    status, _, loss, accuracy, result = updates[-1]
    assert ("GPU" if torch.cuda.is_available() else "CPU") in status and "Finished" in status
    assert "72 training reviews, 8 validating" in status  # the tiny archive has 80 training reviews
    assert len(loss["data"]) == 4 and len(accuracy["data"]) == 4  # 2 epochs x (train, validation)
    assert "Test accuracy" in result and "80 test reviews" in result  # the tiny test split is under 1,000

    folder = run_folder(status)  # listed for the predict tab as soon as it is saved
    assert folder.parent == Path(app_env["SENTIMENT_RUNS"]) and folder.name.startswith("gru-")
    assert not (folder / "resume").exists()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert metrics["test"]["n"] == 80 and metrics["test"]["sample"] and 0 <= metrics["test"]["accuracy"] <= 1
    assert metrics["command"].startswith(f"python -m sentiment train --out {folder} --cell gru")
    assert metrics["hardware"]["threads"] == 1  # trained on one torch thread: the model thread's team is the only one
    assert Predictor.load(folder).model.config.hidden_size == 8


def test_stop_ends_a_run_early_and_a_second_start_is_refused(client):
    job = client.submit(*LONG, api_name="/train")
    for update in job:
        if rows(update) >= 1:
            break
    refused = client.predict(*QUICK, api_name="/train")  # a sentence in the status, no error on every output
    assert "already going" in refused[0] and refused[0].startswith("⚠️")
    watcher = client.submit(api_name="/watch_training")  # e.g. a reopened page follows the same run
    assert "Stopping" in client.predict(api_name="/stop_training")
    job.result(timeout=120)
    assert watcher.result(timeout=30) == job.outputs()[-1]
    status, table, _, _, result = job.outputs()[-1]
    assert "Stopped" in status and 1 <= rows(job.outputs()[-1]) < 50
    assert "Test accuracy" in result
    predictor = Predictor.load(run_folder(status))  # the best epoch so far, complete and usable
    assert predictor.predict(["a wonderful, moving film"])[0].label in ("positive", "negative")
    assert train_tab.stop_training() == gr.skip()  # nothing going: a notice; the last run's status stays


def test_a_bad_value_is_refused_with_a_message_that_says_which(client):
    assert "Learning rate must be" in client.predict(*QUICK[:5], 0.0, *QUICK[6:], api_name="/train")[0]
    with pytest.raises(ValueError, match="Training reviews must be a whole number from 100 to 25,000"):
        train_tab.run_request(*QUICK[:8], 99, "sample")
    with pytest.raises(ValueError, match="Layers must be a whole number from 1 to 4; got 2.5"):
        train_tab.run_request("gru", 2.5, *QUICK[2:])
    assert train_tab.run_request(*QUICK[:8], 25_000, "full").cfg.max_train is None  # all reviews


def test_the_environment_switches_training_off_or_caps_it(monkeypatch):
    monkeypatch.setenv("SENTIMENT_TRAINING", "off")
    assert "switched off" in next(train_tab.start_training(*QUICK))[0]
    monkeypatch.setenv("SENTIMENT_TRAINING", "on")
    monkeypatch.setenv("SENTIMENT_MAX_TRAIN", "500")
    status, *rest = next(train_tab.start_training(*QUICK[:8], 600, "sample"))
    assert "at most 500 reviews per run" in status and all(r == gr.skip() for r in rest)
    monkeypatch.setenv("SENTIMENT_MAX_TRAIN", "lots")
    with pytest.raises(ValueError, match="SENTIMENT_MAX_TRAIN must be a whole number"):
        training_job.training_policy()


def test_a_test_sample_is_a_subset_of_whole_reviews():
    split = EncodedSplit(np.arange(10), np.array([0, 3, 3, 7, 10]), np.array([1, 0, 1, 0]), max_len=5)
    sample = split.subset([3, 0])
    assert sample.labels.tolist() == [0, 1] and sample.offsets.tolist() == [0, 3, 6]
    assert sample.ids.tolist() == [7, 8, 9, 0, 1, 2]


def test_curves_label_whole_epochs_in_order():
    from sentiment.train import EpochRecord
    fields = dict(train_loss=0.5, train_acc=0.7, val_loss=0.6, val_acc=0.65, seconds=1.0, tokens_per_s=1.0,
                  lr=1e-3, best=True, partial=False)
    snapshot = training_job.Snapshot("runs/x", "runs/x", "CPU", 3, records=[EpochRecord(epoch=e, **fields) for e in (1, 2, 3)])
    table = train_tab.curves(snapshot, "loss")
    assert list(table["epoch"]) == ["1", "1", "2", "2", "3", "3"]  # labels: no tick at epoch 1.5
    assert train_tab.EPOCH_ORDER[:3] == ["1", "2", "3"] and len(train_tab.EPOCH_ORDER) == train_tab.RANGES["Epochs"][1]


def test_the_result_says_when_the_best_epoch_was_stopped_part_way():
    from sentiment.train import Done, EpochRecord
    fields = dict(train_loss=0.5, train_acc=0.7, val_loss=0.6, seconds=1.0, tokens_per_s=1.0, lr=1e-3, best=True)
    records = [EpochRecord(epoch=1, val_acc=0.7, partial=False, **fields),
               EpochRecord(epoch=2, val_acc=0.8, partial=True, **fields)]
    snapshot = training_job.Snapshot("runs/x", "runs/x", "CPU", 5, records=records, finished=True,
                                     done=Done("runs/x", 2, 0.8, True, 3.0, []))
    assert "Best epoch **2** (stopped part-way) (validation accuracy 80.0%)" in train_tab.result_text(snapshot)
    snapshot.records[1] = EpochRecord(epoch=2, val_acc=0.8, partial=False, **fields)
    assert "Best epoch **2** (validation accuracy 80.0%)" in train_tab.result_text(snapshot)


def test_the_status_says_which_kind_of_epoch_is_running():
    from sentiment.pretrain import PretrainProgress
    from sentiment.train import Progress
    snapshot = training_job.Snapshot("runs/x", "runs/x", "CPU", 3, progress=PretrainProgress(1, 2, 5, 10, 6.5))
    assert "Next-word epoch 1 of 2, batch 5 of 10" in train_tab.status_text(snapshot)
    snapshot.progress = Progress(2, 5, 10, 0.4)
    assert "Epoch 2 of 3, batch 5 of 10" in train_tab.status_text(snapshot)


def test_the_status_says_whether_the_data_is_tokenized_now_or_read_from_the_cache(tiny_files, tmp_path):
    from sentiment.text import tokenize_corpus
    from sentiment.train import TrainConfig
    from tests.conftest import write_archive
    first = next(name for name in tiny_files if name.endswith(".txt") and "/pos/" in name)
    archive = write_archive(tmp_path / "fresh.tar.gz", {**tiny_files, first: "A review no other test has read."})
    cfg = TrainConfig()
    assert "for the first time" in training_job.reading_message(archive, cfg)
    tokenize_corpus(archive, lowercase=cfg.lowercase, keep_html=cfg.keep_html)
    assert training_job.reading_message(archive, cfg) == f"Reading {archive} (tokenized before)"
    cased = training_job.reading_message(archive, TrainConfig(lowercase=False))  # other settings: another cache
    assert "for the first time" in cased


def test_the_data_line_counts_reviews_apart_from_the_windows_and_pairs_made_of_them(tiny_archive):
    from sentiment.train import TrainConfig, prepare_data
    plain = prepare_data(tiny_archive, TrainConfig(vocab_size=200, min_freq=1))
    assert training_job.data_summary(plain).startswith("72 training reviews, 8 validating")
    extras = prepare_data(tiny_archive, TrainConfig(vocab_size=200, min_freq=1, windows=2), for_training=True)
    assert len(extras.train) > 72 + 72  # the reviews, then two windows of each (and any negation pairs)
    line = training_job.data_summary(extras)
    assert line.startswith(f"72 training reviews (and {len(extras.train) - 72:,} windows and negation pairs")
