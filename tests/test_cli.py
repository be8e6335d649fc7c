"""The command line, run as users run it: ``python -m sentiment ...`` in a subprocess."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment.card import model_card
from sentiment.cli import main

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "sentiment", *map(str, args)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def run_main(capsys, *args):
    """The same entry point in this process (fast), for the cases that need no fresh interpreter."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: python -m sentiment " + command in capsys.readouterr().out


def test_train_evaluate_predict(tiny_archive, tmp_path):
    out = tmp_path / "run"
    trained = cli("train", "--data", tiny_archive, "--out", out, "--epochs", 2, "--max-train", 40,
                  "--hidden-size", 8, "--embed-dim", 8, "--vocab-size", 100, "--min-freq", 1, "--batch-size", 8)
    epochs = [json.loads(line) for line in trained.stdout.splitlines() if line.startswith("{")]
    assert [e["epoch"] for e in epochs] == [1, 2] and {"train_loss", "val_acc", "tokens_per_s"} <= set(epochs[0])
    assert "Best epoch" in trained.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["command"].startswith("python -m sentiment train --data") and metrics["n_train"] == 40

    evaluated = cli("evaluate", "--checkpoint", out, "--data", tiny_archive, "--split", "test", "--json", "--record")
    result = json.loads(evaluated.stdout.splitlines()[-1])
    assert result["n"] == 80 and 0 <= result["accuracy"] <= 1 and result["loss"] > 0
    assert sum(map(sum, result["confusion"])) == 80
    assert json.loads((out / "metrics.json").read_text())["test"]["accuracy"] == result["accuracy"]
    card = model_card(out)
    assert f"**{result['accuracy']:.4f}**" in card and "2 × LSTM (8 units" in card
    assert "python -m sentiment train --data" in card and "python -m sentiment evaluate" in card

    reviews = tmp_path / "reviews.txt"
    reviews.write_text("A superb, moving film.\n\nAwful and boring.\n", encoding="utf-8")
    predicted = cli("predict", "--checkpoint", out, "--json", "--file", reviews, "Great fun.")
    rows = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert len(rows) == 3  # the blank line is skipped
    assert all(r["label"] in ("positive", "negative") and 0 <= r["prob_positive"] <= 1 for r in rows)
    assert rows[2]["label"] == ("positive" if rows[2]["prob_positive"] >= 0.5 else "negative")


def test_missing_data_is_a_message_not_a_traceback(tmp_path):
    missing = cli("train", "--data", tmp_path / "nope.tar.gz", "--out", tmp_path / "x", check=False)
    assert missing.returncode == 1 and "error: IMDB data not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_clear_errors(tmp_path, capsys):
    code, _, err = run_main(capsys, "predict", "--checkpoint", tmp_path, "hello")
    assert code == 1 and "config.json is missing" in err
    code, _, err = run_main(capsys, "predict", "  ")
    assert code == 2 and "non-empty review" in err
    code, _, err = run_main(capsys, "train", "--data", tmp_path, "--out", tmp_path / "x", "--epochs", 0)
    assert code == 1 and "epochs must be a positive integer" in err


def test_units_table(tiny_checkpoint, tiny_archive, capsys):
    code, out, err = run_main(capsys, "units", "--checkpoint", tiny_checkpoint, "--data", tiny_archive,
                              "--reviews", 50)
    assert code == 0, err
    from sentiment.units import load_unit_words
    table = load_unit_words(tiny_checkpoint)
    assert len(table["layers"]) == 2 and len(table["layers"][0]) == 12  # 2 layers x 12 units
    unit = table["layers"][1][0]
    assert len(unit["excite"]) == 12 and unit["excite"][0][1] >= unit["excite"][-1][1]
    assert unit["excite"][0][1] >= unit["inhibit"][0][1]
    assert {w for w, _ in unit["excite"]} <= set(load_vocab(tiny_checkpoint))


def load_vocab(directory):
    return json.loads((Path(directory) / "vocab.json").read_text())["itos"][2:]
