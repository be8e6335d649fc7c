"""scripts/contrast_probe.py: contrasts joined in forms training uses and forms it never saw."""
from __future__ import annotations

import json

import numpy as np
import pytest
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import contrast_probe  # noqa: E402

A, B = "the cast was fine .".split(), "the plot was dull .".split()  # B is the verdict


def test_each_form_puts_the_verdict_where_its_connective_says():
    joined = {form: " ".join(join(A, B)) for form, (_, join) in contrast_probe.FORMS.items()}
    assert joined["but"] == "the cast was fine , but the plot was dull ."
    assert joined["however"] == "the cast was fine . however , the plot was dull ."
    assert joined["although"] == "although the cast was fine , the plot was dull ."
    assert joined["that said"] == "the cast was fine . that said , the plot was dull ."
    assert joined["though"] == "the plot was dull , though the cast was fine ."
    assert joined["despite the fact that"] == "the plot was dull , despite the fact that the cast was fine ."
    groups = {group for group, _ in contrast_probe.FORMS.values()}
    assert groups == {"as in training", "held out, verdict last", "verdict first"}
    for form, (group, join) in contrast_probe.FORMS.items():  # every form holds both clauses' words
        words = join(A, B)
        assert set(contrast_probe.bare(A)) | set(contrast_probe.bare(B)) <= set(words), form
        assert (" ".join(words).startswith("the plot")) == (group == "verdict first"), form


def test_the_training_joins_are_the_forms_said_to_be_as_in_training():
    from sentiment.contrast import JOINS
    assert {f for f, (g, _) in contrast_probe.FORMS.items() if g == "as in training"} == set(JOINS)


def test_pairs_hold_a_positive_and_a_negative_sentence_of_two_reviews():
    import numpy as np
    from sentiment.text import TokenizedSplit, pack
    from tests.conftest import NEGATIVE, POSITIVE
    from tests.test_negation import corpus
    split, types = corpus()
    pairs = contrast_probe.sentence_pairs(split, types, 50, np.random.default_rng(0))
    assert len(pairs) == 50
    for good, bad in pairs:
        assert [w for w in good if w in POSITIVE + NEGATIVE][0] in POSITIVE
        assert [w for w in bad if w in POSITIVE + NEGATIVE][0] in NEGATIVE
    again = contrast_probe.sentence_pairs(split, types, 50, np.random.default_rng(0))
    assert again == pairs  # seeded
    positive_only = TokenizedSplit(*pack([split.token_ids[split.offsets[i]:split.offsets[i + 1]]
                                          for i in range(0, len(split), 2)], split.token_ids.dtype),
                                   split.labels[::2], split.names[::2], split.movies[::2])
    assert contrast_probe.sentence_pairs(positive_only, types, 50, np.random.default_rng(0)) == []  # no crash


def test_a_checkpoint_is_read_in_every_form(tiny_checkpoint, tiny_archive):
    result = subprocess.run([sys.executable, "scripts/contrast_probe.py", str(tiny_checkpoint), "--data",
                             str(tiny_archive), "--pairs", "20"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:  # the tiny reviews may hold no plain opinion sentence of one side
        assert "no plain opinion sentences of both sides" in result.stderr
        return
    head, row = [json.loads(line) for line in result.stdout.splitlines()]
    assert head["texts"] == head["pairs"] * 2 * len(contrast_probe.FORMS)
    assert set(row["by_form"]) == set(contrast_probe.FORMS)
    assert all(0 <= v <= 1 for v in row["by_form"].values())


def test_every_form_is_read_and_scored(tiny_checkpoint, tiny_archive, monkeypatch, capsys):
    good, bad = "the film was great .".split(), "the film was awful .".split()
    monkeypatch.setattr(contrast_probe, "sentence_pairs", lambda *a, **k: [(good, bad)] * 3)
    assert contrast_probe.main([str(tiny_checkpoint), "--data", str(tiny_archive)]) == 0
    head, row = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert head["pairs"] == 3 and head["texts"] == 3 * 2 * len(contrast_probe.FORMS)
    assert head["example"] == ["the film was great , but the film was awful .",
                               "the film was awful , but the film was great ."]
    assert set(row["by_form"]) == set(contrast_probe.FORMS)
    assert all(v in (0.0, 0.5, 1.0) for v in row["by_form"].values())  # three copies of one pair, both ways round
    assert 0 <= row["sentences_alone"] <= 1 and row["as in training"] == pytest.approx(np.mean(
        [row["by_form"][f] for f in ("but", "however", "although")]), abs=1e-3)
