"""The limits a host can set (sentiment/ui/limits.py), each enforced: runs kept, temp files, rows, loaded
models, the Train tab's memory budget, unit words behind the training switch, stale training locks."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from sentiment.ui import limits

ROOT = Path(__file__).resolve().parents[2]


def test_every_limit_has_a_default_and_a_bad_value_names_its_variable(monkeypatch):
    for name in limits.LIMITS:
        monkeypatch.delenv(name, raising=False)
        assert limits.get(name) >= 1
    monkeypatch.setenv("SENTIMENT_MAX_ROWS", "lots")
    with pytest.raises(ValueError, match="SENTIMENT_MAX_ROWS"):
        limits.check_all()
    monkeypatch.setenv("SENTIMENT_MAX_ROWS", "12")
    assert limits.get("SENTIMENT_MAX_ROWS") == 12


def test_the_readme_lists_every_limit_with_its_default():
    assert limits.readme_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def _run(runs: Path, name: str, mb: float, age: float) -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"\0" * int(mb * 2**20))
    then = time.time() - age
    os.utime(folder, (then, then))
    return folder


def test_old_runs_are_removed_beyond_the_count_or_the_disk_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_KEEP_RUNS", "3")
    monkeypatch.setenv("SENTIMENT_RUNS_MB", "10")
    for age, name in enumerate(["new", "b", "c", "d", "oldest"]):
        _run(tmp_path, name, 1, age * 100)
    locked = _run(tmp_path, "writing", 1, 10_000)
    (locked / ".training.lock").write_text("1")
    assert sorted(limits.prune_runs(tmp_path, keep=tmp_path / "oldest")) == ["c", "d"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "new", "oldest", "writing"]
    monkeypatch.setenv("SENTIMENT_KEEP_RUNS", "20")
    monkeypatch.setenv("SENTIMENT_RUNS_MB", "2")  # two of 1 MB fit; the newest and the kept one stay
    _run(tmp_path, "big", 1.5, -10)
    removed = limits.prune_runs(tmp_path, keep=tmp_path / "new")
    assert "new" not in removed and "writing" not in removed and (tmp_path / "big").exists()


def test_download_files_are_removed_after_their_hours(tmp_path):
    fresh, stale = tmp_path / "fresh", tmp_path / "stale"
    fresh.mkdir(), stale.mkdir()
    (stale / "predictions.csv").write_text("x")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert limits.remove_old_files(tmp_path, hours=1) == 1
    assert fresh.exists() and not stale.exists()


def test_a_batch_is_labelled_in_chunks_and_cut_at_the_row_limit(app_env, tmp_path, monkeypatch):
    from sentiment.ui import predict_tab
    monkeypatch.setenv("SENTIMENT_MAX_ROWS", "600")
    predictor = predict_tab.get_predictor("default")
    sizes = []
    real = predictor.predict
    monkeypatch.setattr(predictor, "predict", lambda texts, **kw: sizes.append(len(texts)) or real(texts, **kw))
    file = tmp_path / "many.txt"
    file.write_text("\n".join(f"review {i}: a great film" for i in range(700)))
    notice, table, csv = predict_tab.batch(str(file), "default")
    assert len(table) == 600 and "first 600 rows" in notice
    assert max(sizes) <= predict_tab.BATCH_CHUNK and sum(sizes) == 600
    assert Path(csv).resolve().is_relative_to(limits.predictions_dir().resolve())


def test_least_recently_used_models_leave_memory(app_env, monkeypatch):
    from sentiment.ui import models
    monkeypatch.setenv("SENTIMENT_MODELS_LOADED", "1")
    models.get_predictor("default")
    models.get_predictor("rnn")
    assert [Path(f).name for f in models.loaded_models()] == ["rnn"]
    monkeypatch.setenv("SENTIMENT_MODELS_LOADED", "4")
    models.get_predictor("default")
    assert [Path(f).name for f in models.loaded_models()] == ["rnn", "default"]


def test_the_train_form_refuses_a_run_over_the_memory_budget(monkeypatch):
    from sentiment.ui import train_tab
    monkeypatch.setenv("SENTIMENT_TRAIN_MEMORY_MB", "2000")
    with pytest.raises(ValueError, match="SENTIMENT_TRAIN_MEMORY_MB"):
        train_tab.run_request("lstm", 4, 512, 512, 5, 2e-3, 512, 2048, 2000, "sample")
    assert train_tab.run_request(*train_tab.CLASSROOM.values())  # the classroom run fits easily


def test_unit_words_are_written_into_runs_only_while_training_is_allowed(app_env, tiny_checkpoint, monkeypatch):
    from sentiment.ui import predict_tab
    run = Path(app_env["SENTIMENT_RUNS"]) / "theirs"
    shutil.copytree(tiny_checkpoint, run, ignore=shutil.ignore_patterns("resume", "units.json"), dirs_exist_ok=True)
    monkeypatch.setenv("SENTIMENT_TRAINING", "off")
    try:
        assert "switched off" in predict_tab.compute_units("runs/theirs", progress=lambda *a, **k: None)
        assert not (run / "units.json").exists()
    finally:
        shutil.rmtree(run)  # the runs folder is shared with the other app tests


def test_a_stale_training_lock_is_cleared_with_a_message(tiny_archive, tmp_path):
    from sentiment.train import Stage, TrainConfig, train
    out = tmp_path / "killed"
    out.mkdir()
    (out / ".training.lock").write_text("999999999")  # a process id that is not running
    events = list(train(tiny_archive, {"cell": "rnn", "embed_dim": 8, "hidden_size": 8},
                        TrainConfig(epochs=1, batch_size=16, vocab_size=100, min_freq=1, max_len=20), out))
    stages = [e.message for e in events if isinstance(e, Stage)]
    assert any("stale lock" in m and "999999999" in m for m in stages)
    assert not (out / ".training.lock").exists()
