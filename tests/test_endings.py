"""scripts/endings.py: a review's ending, and the comparison of two checkpoints on their validation split."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import endings  # noqa: E402


def test_the_ending_is_the_last_sentences():
    tokens = "dull start . weak middle ! but a great end .".split()
    assert endings.ending(tokens, 1) == "but a great end .".split()
    assert endings.ending(tokens, 2) == "weak middle ! but a great end .".split()
    assert endings.ending(tokens, 3) == tokens  # fewer sentences than asked: the whole review
    assert endings.ending(["no", "end"], 1) == ["no", "end"]


def test_a_checkpoint_against_itself_disagrees_on_nothing(tiny_checkpoint, tiny_archive):
    out = subprocess.run([sys.executable, "scripts/endings.py", str(tiny_checkpoint), str(tiny_checkpoint),
                          "--data", str(tiny_archive)], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    head, *groups = [json.loads(line) for line in out.splitlines()]
    assert head["accuracy"][0] == head["accuracy"][1] and head["validation_reviews"] > 0
    counts = {g["reviews"]: g["n"] for g in groups}
    assert counts["all"] == head["validation_reviews"]
    assert counts["first right, second wrong"] == counts["first wrong, second right"] == 0
