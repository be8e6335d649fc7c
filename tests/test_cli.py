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
    reviews.write_text("A superb, moving film.\n\nAwful\x85 and\u2028 boring.\n", encoding="utf-8")
    predicted = cli("predict", "--checkpoint", out, "--json", "--file", reviews, "Great fun.")
    rows = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert len(rows) == 4  # the argument, then one row per line of the file: U+0085 and U+2028 split nothing
    assert [r.get("line") for r in rows] == [None, 1, 2, 3]
    assert rows[2]["label"] is None and rows[2]["prob_positive"] is None  # the empty line, unlabelled
    labelled = [rows[i] for i in (0, 1, 3)]
    assert all(r["label"] in ("positive", "negative") and 0 <= r["prob_positive"] <= 1 for r in labelled)
    assert rows[3]["label"] == ("positive" if rows[3]["prob_positive"] >= 0.5 else "negative")
    assert rows[3]["text"].startswith("Awful")


def test_missing_data_is_a_message_not_a_traceback(tmp_path):
    missing = cli("train", "--data", tmp_path / "nope.tar.gz", "--out", tmp_path / "x", check=False)
    assert missing.returncode == 1 and "error: IMDB data not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_reader_that_leaves_early_is_no_traceback(tiny_checkpoint):
    """``python -m sentiment check | head -1``: the reader has gone before the table is printed."""
    import os
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails, as after `head` has quit
    try:
        result = subprocess.run([sys.executable, "-m", "sentiment", "check", "--checkpoint", str(tiny_checkpoint)],
                                cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_clear_errors(tmp_path, capsys):
    code, _, err = run_main(capsys, "predict", "--checkpoint", tmp_path, "hello")
    assert code == 1 and "config.json is missing" in err
    code, _, err = run_main(capsys, "predict", "  ")
    assert code == 2 and "non-empty review" in err
    code, _, err = run_main(capsys, "train", "--data", tmp_path, "--out", tmp_path / "x", "--epochs", 0)
    assert code == 1 and "epochs must be a positive integer" in err


def test_units_table(tiny_checkpoint, tiny_archive, capsys, tmp_path):
    import shutil
    tiny_checkpoint = shutil.copytree(tiny_checkpoint, tmp_path / "ckpt")  # the shared one stays without units.json
    code, out, err = run_main(capsys, "units", "--checkpoint", tiny_checkpoint, "--data", tiny_archive,
                              "--reviews", 50)
    assert code == 0, err
    from sentiment.units import load_unit_words
    table = load_unit_words(tiny_checkpoint)
    assert len(table["layers"]) == 2 and len(table["layers"][0]) == 12  # 2 layers x 12 units
    unit = table["layers"][1][0]
    assert len(unit["excite"]) <= 12 and len(unit["inhibit"]) <= 12 and unit["excite"] + unit["inhibit"]
    excite, inhibit = [v for _, v in unit["excite"]], [v for _, v in unit["inhibit"]]
    assert excite == sorted(excite, reverse=True) and inhibit == sorted(inhibit)  # strongest first
    assert all(v > 0 for v in excite) and all(v < 0 for v in inhibit)
    assert {w for w, _ in unit["excite"] + unit["inhibit"]} <= set(load_vocab(tiny_checkpoint))


def load_vocab(directory):
    return json.loads((Path(directory) / "vocab.json").read_text())["itos"][2:]


def test_a_tokenized_corpus_file_trains_where_spacy_is_missing(tiny_archive, tmp_path):
    """`tokenize` writes the corpus once; `train --data FILE.npz` then needs no spaCy (a rented GPU has none)."""
    tokens = tmp_path / "tokens.npz"
    made = cli("tokenize", "--data", tiny_archive, "--out", tokens)
    assert tokens.is_file() and "Train with --data" in made.stdout
    out = tmp_path / "run"
    blocked = ("import runpy, sys; sys.modules['spacy'] = None; sys.argv = ['sentiment', *sys.argv[1:]]; "
               "runpy.run_module('sentiment', run_name='__main__')")
    args = ["train", "--data", tokens, "--out", out, "--epochs", 1, "--max-train", 40, "--hidden-size", 8,
            "--embed-dim", 8, "--vocab-size", 100, "--min-freq", 1, "--batch-size", 8]
    trained = subprocess.run([sys.executable, "-c", blocked, *map(str, args)], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert trained.returncode == 0, trained.stderr

    # the same tokens, split and vocabulary as training on the archive itself
    from sentiment.text import load_corpus_file, tokenize_corpus
    from sentiment.vocab import Vocab
    loaded, direct = load_corpus_file(tokens), tokenize_corpus(tiny_archive)
    assert loaded.types == direct.types
    for split in ("train", "test"):
        a, b = loaded.splits[split], direct.splits[split]
        assert (a.token_ids == b.token_ids).all() and (a.labels == b.labels).all() and a.names == b.names
    from_archive = [*args]
    from_archive[2], from_archive[4] = tiny_archive, tmp_path / "run2"
    cli(*from_archive)
    assert Vocab.from_json((out / "vocab.json").read_text()).itos == \
        Vocab.from_json((tmp_path / "run2" / "vocab.json").read_text()).itos


def test_a_corpus_file_of_other_settings_or_bytes_is_refused(tiny_archive, tmp_path, capsys):
    cased = tmp_path / "cased.npz"
    code, _, _ = run_main(capsys, "tokenize", "--data", tiny_archive, "--out", cased, "--cased")
    assert code == 0
    code, _, err = run_main(capsys, "train", "--data", cased, "--out", tmp_path / "x", "--epochs", 1)
    assert code == 1 and "tokenized with other settings" in err and "lowercase" in err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a corpus")
    code, _, err = run_main(capsys, "train", "--data", junk, "--out", tmp_path / "y", "--epochs", 1)
    assert code == 1 and "is not a tokenized corpus" in err
    code, _, err = run_main(capsys, "tokenize", "--data", tiny_archive, "--out", tmp_path / "tokens.txt")
    assert code == 1 and "--out must name a .npz file" in err
