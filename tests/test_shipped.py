"""The checkpoints the app serves: complete, small enough for Spaces, fast to load, and sane."""
import json
import time

import pytest

from sentiment.card import model_card
from sentiment.predict import CHECKPOINTS, DEFAULT_CHECKPOINT, Predictor, available_checkpoints
from sentiment.presets import PRESETS

SHIPPED = list(available_checkpoints(CHECKPOINTS))  # every folder in checkpoints/, default first


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_is_complete_and_small(name):
    folder = CHECKPOINTS / name
    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    weights = json.loads((folder / "config.json").read_text()).get("weights", {}).get("files", ["model.safetensors"])
    assert {*weights, "config.json", "vocab.json", "metrics.json", "units.json"} <= set(files)
    assert max(files.values()) < 10_000_000  # Hugging Face refuses larger files without LFS
    assert not (folder / "resume").exists()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["command"].startswith("python -m sentiment train ")
    assert metrics["test"]["n"] == 25_000 and metrics["test"]["command"].startswith("python -m sentiment evaluate")
    assert metrics["hardware"]["device"] in ("cpu", "cuda") and metrics["wall_seconds"] > 0


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_loads_fast_and_reads_reviews(name):
    start = time.perf_counter()
    predictor = Predictor.load(CHECKPOINTS / name)
    seconds = time.perf_counter() - start
    assert seconds < 10  # generous for a loaded CI machine; benchmarks/run.py measures the real figure
    assert predictor.model.config.num_layers == 2
    assert predictor.model.config.cell in (("rnn",) if name == "rnn" else ("gru", "lstm"))
    good, bad = predictor.predict(["A wonderful, moving film. I loved every minute of it.",
                                   "Awful, boring and far too long. A waste of time."])
    assert good.label == "positive" and bad.label == "negative"
    card = model_card(CHECKPOINTS / name)
    assert f"**{json.loads((CHECKPOINTS / name / 'metrics.json').read_text())['test']['accuracy']:.4f}**" in card


def test_predict_without_checkpoint_uses_the_default(capsys):
    from sentiment.cli import main
    assert main(["predict", "--json", "Not bad at all."]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["label"] in ("positive", "negative")
    expected = Predictor.load(DEFAULT_CHECKPOINT).predict(["Not bad at all."])[0].prob_positive
    assert row["prob_positive"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("name", SHIPPED)
def test_readme_model_card_is_the_checkpoints_own(name):
    readme = (CHECKPOINTS.parent / "README.md").read_text(encoding="utf-8")
    assert model_card(CHECKPOINTS / name) in readme  # regenerate with `python -m sentiment card`


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_behaviour_results_are_fresh(name):
    """behaviour.json must come from this suite and these weights (`python -m sentiment check --save`)."""
    from sentiment.behaviour import stored_report
    report = stored_report(CHECKPOINTS / name)
    assert report is not None, f"rerun: python -m sentiment check --checkpoint checkpoints/{name} --save"
    assert report["command"] == f"python -m sentiment check --checkpoint checkpoints/{name} --save"
    metrics = json.loads((CHECKPOINTS / name / "metrics.json").read_text())
    assert report["ece"]["value"] == metrics["test"]["ece"]


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_students_teacher_is_the_shipped_checkpoint_it_names(name):
    """A model that learnt from a teacher names it, and the named folder holds those very weights."""
    from sentiment.checkpoint import weights_digest
    metrics = json.loads((CHECKPOINTS / name / "metrics.json").read_text())
    teacher = metrics.get("teacher")
    if teacher is None:
        assert not metrics.get("train_config", {}).get("teacher")
        return
    assert teacher["path"] == metrics["train_config"]["teacher"]
    # the command that trained it names the teacher, itself or through its preset
    command = metrics["command"].split()
    named = command[command.index("--preset") + 1] if "--preset" in command else None
    assert teacher["path"] in command or PRESETS[named]["train"].get("teacher") == teacher["path"]
    assert teacher["path"].startswith("checkpoints/") and teacher["path"] != f"checkpoints/{name}"
    assert weights_digest(CHECKPOINTS.parent / teacher["path"]) == teacher["weights_sha256"]
