"""Faults a public app meets: the server killed (kill -9) in the middle of a Train-tab run."""
from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

from gradio_client import Client

from benchmarks.app_server import first_answer, running_app


def test_kill_9_during_a_train_tab_run_leaves_every_model_loadable(tiny_checkpoint, tiny_archive, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    shutil.copytree(tiny_checkpoint, runs / "earlier", ignore=shutil.ignore_patterns("resume"))
    with running_app(tiny_checkpoint, data=tiny_archive, env={"SENTIMENT_RUNS": str(runs)}) as app:
        first_answer(app, "A great film.")
        Client(app.url, verbose=False).submit("lstm", 2, 16, 16, 50, 1e-2, 8, 40, 100, "sample", "maxmean",
                                              "classroom", api_name="/train")
        deadline = time.time() + 120
        while not any((r / "config.json").exists() for r in runs.iterdir() if r.name != "earlier"):
            assert time.time() < deadline and app.process.poll() is None, "the run never saved an epoch"
            time.sleep(0.05)
        app.process.send_signal(signal.SIGKILL)  # mid-run: later epochs were still being trained and saved
        app.process.wait(10)
        checkpoints = Path(app.log).parent / "checkpoints"

        monkeypatch.setenv("SENTIMENT_CHECKPOINTS", str(checkpoints))
        monkeypatch.setenv("SENTIMENT_RUNS", str(runs))
        from sentiment.ui import models, predict_tab
        [killed] = [r for r in runs.iterdir() if r.name != "earlier"]
        assert (killed / ".training.lock").exists()  # its lock names a process that is gone
        names = models.model_choices()
        assert {"default", "runs/earlier", f"runs/{killed.name}"} <= set(names)
        for name in names:  # each is served, or listed with a sentence; never an error
            predictor, problem = predict_tab._load(name)
            assert predictor is not None or (problem and "Traceback" not in problem)
            if predictor is not None:
                assert predictor.predict(["A great film."])[0].label in ("positive", "negative")
        assert predict_tab._load("runs/earlier")[0] is not None and predict_tab._load("default")[0] is not None
