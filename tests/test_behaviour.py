"""The behaviour suite: its cases, how each kind of test is judged, the check command and behaviour.json."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment.behaviour import (SPLITS, SUITE_FILE, TYPES, Case, SuiteError, _typo, by_split, checkpoint_report,
                                 expand, failures, judge, load_suite, run, save_report, stored_report)
from sentiment.cli import main
from sentiment.predict import Predictor

ROOT = Path(__file__).resolve().parent.parent


def test_the_suite_has_every_capability_and_type_in_both_halves():
    suite = load_suite()
    cases = expand(suite)
    assert 300 <= len(cases) <= 2000  # a few hundred: enough to measure, fast enough for every checkpoint
    assert len(suite["capabilities"]) >= 8
    for split in SPLITS:
        half = [c for c in cases if c.split == split]
        assert {c.capability for c in half} == set(suite["capabilities"])
        assert {c.type for c in half} == set(TYPES)
    assert len({c.text for c in cases if c.type == "MFT"}) == sum(c.type == "MFT" for c in cases)  # no repeats


def test_expansion_is_the_same_in_every_process():
    """Hash seeds change set order between processes; the cases must not change with them."""
    code = ("import hashlib, json; from sentiment.behaviour import expand, load_suite; "
            "print(hashlib.sha256(json.dumps([c.__dict__ for c in expand(load_suite())]).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    here = hashlib.sha256(json.dumps([c.__dict__ for c in expand(load_suite())]).encode()).hexdigest()
    assert digests == {here + "\n"}


def test_dev_and_test_halves_share_no_template():
    tests = load_suite()["tests"]
    templates = {split: {t[k] for t in tests if t["split"] == split for k in ("template", "edit") if k in t}
                 for split in SPLITS}
    assert templates["dev"] and templates["test"] and not templates["dev"] & templates["test"]
    cases = expand(load_suite())
    texts = {split: {t for c in cases if c.split == split for t in (c.text, c.edited) if t} for split in SPLITS}
    assert not texts["dev"] & texts["test"]


def test_slots_of_one_word_list_take_different_words_and_articles_agree():
    cases = [c for c in expand(load_suite()) if c.test == "inv-name-pos"]
    assert cases and all(c.text.split(" is ")[0] != c.edited.split(" is ")[0] for c in cases)
    texts = [c.text for c in expand(load_suite())]
    assert not any(" a excellent" in t or t.startswith("A excellent") for t in texts)
    assert any(t.startswith("An excellent") for t in texts)


def test_inv_fails_when_the_label_flips_even_by_a_small_move():
    case = Case("t", "invariance", "INV", "dev", "x", "y", max_delta=0.1)
    assert judge(case, 0.1, -0.1).passed is False  # P 0.525 -> 0.475: moved 0.05, but the label changed
    assert judge(case, 2.0, 1.9).passed is True  # P 0.881 -> 0.870: same label, small move
    far = judge(case, 3.0, 0.5)  # P 0.953 -> 0.622: same label, moved 0.33
    assert far.passed is False and far.severity == pytest.approx(0.953 - 0.622, abs=1e-3)


def test_mft_and_dir_are_judged_by_label_and_by_the_logits_direction():
    mft = lambda expect: Case("t", "short", "MFT", "dev", "x", expect=expect)
    assert judge(mft("positive"), 0.3, None).passed and not judge(mft("negative"), 0.3, None).passed
    assert judge(mft("not_negative"), 0.0, None).passed  # P = 0.5 is not negative
    assert not judge(mft("not_negative"), -0.2, None).passed
    up = Case("t", "intensity", "DIR", "dev", "x", "y", direction="up")
    assert judge(up, 30.0, 31.0).passed  # P 1.000 -> 1.000 on screen, but the logit went up
    assert not judge(up, 1.0, 1.0).passed and not judge(up, 1.0, 0.5).passed
    down = Case("t", "intensity", "DIR", "dev", "x", "y", direction="down")
    assert judge(down, 1.0, 0.5).passed


def test_run_scores_each_distinct_text_once_and_failures_come_worst_first():
    cases = [Case("a", "short", "MFT", "dev", "good", expect="positive"),
             Case("b", "short", "MFT", "dev", "bad", expect="positive"),
             Case("c", "short", "MFT", "dev", "awful", expect="positive"),
             Case("d", "invariance", "INV", "dev", "good", "good good", max_delta=0.1)]
    asked = []
    scores = {"good": 2.0, "bad": -1.0, "awful": -3.0, "good good": 2.1}

    def logits(texts):
        asked.append(list(texts))
        return [scores[t] for t in texts]
    results = run(cases, logits)
    assert asked == [["good", "bad", "awful", "good good"]]
    assert [r.passed for r in results] == [True, False, False, True]
    assert [r.case.test for r in failures(results)] == ["c", "b"]


def test_typo_swaps_two_letters_of_the_longest_word():
    assert _typo("The acting is wonderful.") == "The acting is wonedrful."  # the middle letters of the longest word
    assert _typo("Bad.") == "Bad."  # too short to misspell


def test_a_malformed_suite_is_refused(tmp_path):
    suite = json.loads(SUITE_FILE.read_text())
    suite["tests"][0]["template"] = "A {no_such_list} film."
    (tmp_path / "suite.json").write_text(json.dumps(suite))
    with pytest.raises(SuiteError, match="no_such_list"):
        load_suite(tmp_path / "suite.json")


def test_check_json_records_add_up(tiny_checkpoint, capsys):
    assert main(["check", "--checkpoint", str(tiny_checkpoint), "--split", "test", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    records, overall = lines[:-1], lines[-1]["overall"]
    assert {r["capability"] for r in records} == set(load_suite()["capabilities"])
    assert {r["type"] for r in records} == set(TYPES) and {r["split"] for r in records} == {"test"}
    assert sum(r["n"] for r in records) == overall["n"] == sum(c.split == "test" for c in expand(load_suite()))
    assert sum(r["passed"] for r in records) == overall["passed"]
    assert overall["pass_rate"] == pytest.approx(overall["passed"] / overall["n"])
    for r in records:
        assert set(r) == {"capability", "type", "split", "n", "passed", "pass_rate"}
        assert r["pass_rate"] == pytest.approx(r["passed"] / r["n"])
    assert 0 <= overall["sure_short"] <= 1 and set(overall["by_type"]) == set(TYPES)


def test_check_prints_rates_and_the_worst_failures(tiny_checkpoint, capsys):
    assert main(["check", "--checkpoint", str(tiny_checkpoint), "--failures", "3"]) == 0
    out = capsys.readouterr().out
    assert "Negated negative reads not negative" in out and "by type: MFT" in out
    assert "Failing cases, worst first (3 of" in out
    assert "not measured for this checkpoint yet" in out  # the tiny checkpoint's test set was never scored


def test_check_of_a_missing_checkpoint_says_so(tmp_path, capsys):
    assert main(["check", "--checkpoint", str(tmp_path / "nope")]) == 1
    assert "No checkpoint at" in capsys.readouterr().err


def test_stored_results_are_used_only_for_the_same_suite_and_weights(tiny_checkpoint, tmp_path, capsys):
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, folder, ignore=shutil.ignore_patterns("resume"))
    assert stored_report(folder) is None
    assert main(["check", "--checkpoint", str(folder), "--save", "--json"]) == 0
    report = stored_report(folder)
    assert report is not None and report["command"].startswith("python -m sentiment check")
    fresh = checkpoint_report(Predictor.load(folder), folder)
    assert report["splits"] == json.loads(json.dumps(fresh["splits"]))  # what check --save stored is what runs give
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b" ")  # other weights: the stored results are stale
    assert stored_report(folder) is None


def test_report_halves_partition_the_cases(tiny_checkpoint):
    results = run(expand(load_suite()), Predictor.load(tiny_checkpoint).logits)
    halves = by_split(results)
    assert halves["dev"]["overall"]["n"] + halves["test"]["overall"]["n"] == halves["all"]["overall"]["n"]
    assert halves["dev"]["overall"]["passed"] + halves["test"]["overall"]["passed"] == halves["all"]["overall"]["passed"]


def test_save_report_writes_atomically_readable_json(tiny_checkpoint, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, folder, ignore=shutil.ignore_patterns("resume"))
    path = save_report(folder, checkpoint_report(Predictor.load(folder), folder))
    assert json.loads(path.read_text())["suite"]["version"] == load_suite()["version"]
    assert not list(folder.glob(".behaviour.json.*"))  # no temporary file left behind


def test_peers_score_the_suite_and_the_test_reviews(tiny_archive):
    from benchmarks.behaviour_peers import measure
    result = measure(tiny_archive)
    assert [p["peer"] for p in result["peers"]] == ["TF-IDF + logistic regression", "VADER"]
    n_cases = len(expand(load_suite()))
    for peer in result["peers"]:
        assert peer["imdb_test"]["n"] == 80 and 0 <= peer["imdb_test"]["ece"] <= 1
        assert peer["splits"]["all"]["overall"]["n"] == n_cases
    tfidf = result["peers"][0]
    assert tfidf["imdb_test"]["accuracy"] > 0.8  # the tiny reviews' cue words are easy for a bag of words


def test_readme_behaviour_table_is_the_stored_results():
    from benchmarks.behaviour_peers import PAGE, PEERS_FILE, SUMMARY_ROWS, page, readme_table
    from sentiment.behaviour import suite_digest
    assert json.loads(PEERS_FILE.read_text())["suite_sha256"] == suite_digest()  # rerun the peers if the suite changed
    summary = readme_table(rows=SUMMARY_ROWS)
    assert summary in (ROOT / "README.md").read_text(encoding="utf-8")  # `behaviour_peers.py --table`
    assert len(summary.splitlines()) == 2 + len(SUMMARY_ROWS) + 3
    assert PAGE.read_text(encoding="utf-8") == page()  # `behaviour_peers.py --page`


def test_expected_calibration_error_of_known_answers():
    import numpy as np
    from sentiment.calibration import ece
    assert ece(np.array([0.75] * 4), np.array([1, 1, 1, 0])) == pytest.approx(0.0)  # 75% sure, 75% right
    assert ece(np.array([0.99, 0.99]), np.array([1, 0])) == pytest.approx(0.49)  # 99% sure, half right
    # confidence is of the label given: 0.1 is 90% sure of "negative"; bins of 0.9 (2 of 3 right) and 0.6 (right)
    assert ece(np.array([0.9, 0.9, 0.1, 0.6]), np.array([1, 0, 0, 1])) == pytest.approx((3 * (0.9 - 2 / 3) + 0.4) / 4)
