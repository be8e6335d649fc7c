"""scripts/ladder.py: each rung adds its one change; a tiny ladder runs end to end; docs/ladder.md is generated."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import ladder  # noqa: E402


def _differences(a: dict, b: dict) -> set[str]:
    flat = lambda s: {**s["model_options"], **s["train_config"]}
    return {k for k in flat(a) if flat(a)[k] != flat(b)[k]}


def test_each_rung_changes_only_what_it_names():
    s = [ladder.settings(ladder.rung_command(k, "data.tar.gz", "full", None)) for k in range(len(ladder.RUNGS))]
    assert s[0]["model_options"]["hidden_size"] == 5 and s[0]["model_options"]["pooling"] == "last"
    expected = [{"lowercase", "keep_html"}, {"pooling"}, {"hidden_size"}, {"cell"}, {"ema", "adversarial"},
                {"hidden_size"}]
    for k, changed in enumerate(expected, start=1):
        assert _differences(s[k - 1], s[k]) == changed, ladder.RUNGS[k][1]
    assert _differences(s[6], s[7]) >= {"embed_dropout", "lr", "schedule", "batch_size", "epochs"}
    quick = ladder.settings(ladder.rung_command(3, "d", "quick", ladder.QUICK))["train_config"]
    assert (quick["max_train"], quick["epochs"], quick["max_len"]) == (1500, 2, 128)


def test_dry_run_prints_every_command_and_writes_nothing(tmp_path):
    out = subprocess.run([sys.executable, "scripts/ladder.py", "--quick", "--dry-run", "--data", "x.tar.gz",
                          "--json", str(tmp_path / "l.json"), "--markdown", str(tmp_path / "l.md")],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.count("python -m sentiment train") == len(ladder.RUNGS) and "--preset homework" in out
    assert not list(tmp_path.iterdir())


def test_the_ladder_never_trains_into_checkpoints():
    result = subprocess.run([sys.executable, "scripts/ladder.py", "--dry-run", "--runs", "checkpoints/ladder"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "checkpoints" in result.stderr


def test_a_tiny_quick_ladder_runs_end_to_end_and_reuses_a_finished_rung(tiny_archive, tmp_path):
    args = ["--quick", "--data", str(tiny_archive), "--rungs", "0,2", "--max-train", "60", "--epochs", "1",
            "--max-len", "32", "--test-sample", "30", "--runs", str(tmp_path / "runs"),
            "--json", str(tmp_path / "ladder.json"), "--markdown", str(tmp_path / "ladder.md")]
    assert ladder.main(args) == 0
    data = json.loads((tmp_path / "ladder.json").read_text())
    rungs = data["modes"]["quick"]["rungs"]
    assert [r is not None for r in rungs] == [True, False, True, False, False, False, False, False]
    for r in (rungs[0], rungs[2]):
        assert r["status"] == "measured" and r["test_n"] == 30 and 0 <= r["test_acc"] <= 1
        assert 0 <= r["behaviour_test"] <= 1 and r["train_seconds"] > 0 and r["command"].startswith("python -m")
    assert rungs[0]["parameters"] < rungs[2]["parameters"] or rungs[0]["parameters"] > 0
    md = (tmp_path / "ladder.md").read_text()
    assert "not run yet" in md and "| 0 | the homework |" in md and "Quick runs" in md
    weights = sorted((tmp_path / "runs" / "quick" / "0-homework").glob("*.safetensors"))
    before = [w.stat().st_mtime_ns for w in weights]
    assert ladder.main(args) == 0  # the same settings again: measured, not trained again
    assert [w.stat().st_mtime_ns for w in weights] == before


def test_the_committed_ladder_page_is_generated_from_its_json():
    data = json.loads((ROOT / "docs" / "ladder.json").read_text())
    assert (ROOT / "docs" / "ladder.md").read_text() == ladder.markdown(data)
    quick = data["modes"]["quick"]
    assert all(r and r["status"] == "measured" for r in quick["rungs"])  # every rung ran in the quick ladder
    assert quick["seconds"] < 30 * 60
