"""The behaviour suite: what a model does with what people type (CheckList style; Ribeiro et al., 2020).

    suite = load_suite()                            # templates and word lists (behaviour_suite.json)
    cases = expand(suite)                           # every case, labelled by construction, in a fixed order
    results = run(cases, predictor.logits)          # any function texts -> (n,) logits of "positive"
    records, overall = summarize(results, "test")   # pass rates per capability and type

Three kinds of test: MFT (this text gets this label), INV (this edit keeps the label and moves
P(positive) by at most ``max_delta``) and DIR (this edit moves the logit up, or down; measured on the
logit so that a saturated P(positive) of 1.000 still shows which way it moved). Templates are split
into a dev half, which may guide model choices, and a test half, which is only reported.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import string
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .checkpoint import atomic_write, weights_digest

SUITE_FILE = Path(__file__).with_name("behaviour_suite.json")
SPLITS = ("dev", "test")
TYPES = ("MFT", "INV", "DIR")
EXPECTS = ("positive", "negative", "not_negative")
SHORT_WORDS = 20  # a case of at most this many words counts as short (for the overconfidence figure)
SURE = 0.01  # answers at P < SURE or P > 1 - SURE count as "sure"
_SLOT = re.compile(r"\{([a-z_]+?)(\d*)\}")  # {pos_adj}, {pos_adj2}: a second, different word of pos_adj
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")


class SuiteError(ValueError):
    """The suite file is malformed."""


@dataclass(frozen=True)
class Case:
    test: str  # the template's id
    capability: str
    type: str  # MFT, INV or DIR
    split: str  # dev or test
    text: str
    edited: str | None = None  # INV and DIR: the text after the edit
    expect: str | None = None  # MFT: positive, negative or not_negative
    direction: str | None = None  # DIR: up or down
    max_delta: float | None = None  # INV: the most P(positive) may move


@dataclass
class Result:
    case: Case
    prob: float  # P(positive) of case.text
    prob_edited: float | None  # P(positive) of case.edited
    passed: bool
    severity: float  # how badly it failed (0 when passed): failing cases are listed worst first

    def to_dict(self) -> dict:
        return {**asdict(self.case), "prob": round(self.prob, 6),
                "prob_edited": None if self.prob_edited is None else round(self.prob_edited, 6),
                "passed": self.passed, "severity": round(self.severity, 6)}


def load_suite(path: Path | str = SUITE_FILE) -> dict:
    suite = json.loads(Path(path).read_text(encoding="utf-8"))
    _validate(suite)
    return suite


def suite_digest(path: Path | str = SUITE_FILE) -> str:
    """sha256 of the suite file: results computed with another version of it are stale."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _validate(suite: dict) -> None:
    ids = set()
    for test in suite["tests"]:
        where = f"test {test.get('id')!r}"
        if test["id"] in ids:
            raise SuiteError(f"{where}: the id is used twice")
        ids.add(test["id"])
        if test["capability"] not in suite["capabilities"]:
            raise SuiteError(f"{where}: unknown capability {test['capability']!r}")
        if test["type"] not in TYPES or test["split"] not in SPLITS:
            raise SuiteError(f"{where}: type must be one of {TYPES} and split one of {SPLITS}")
        if test["type"] == "MFT" and test.get("expect") not in EXPECTS:
            raise SuiteError(f"{where}: an MFT needs expect, one of {EXPECTS}")
        if test["type"] == "DIR" and (test.get("direction") not in ("up", "down") or "edit" not in test):
            raise SuiteError(f"{where}: a DIR needs an edit and a direction, up or down")
        if test["type"] == "INV" and ("edit" in test) == (test.get("transform") in TRANSFORMS):
            raise SuiteError(f"{where}: an INV needs either an edit or a transform, one of {tuple(TRANSFORMS)}")
        for template in (test["template"], test.get("edit", "")):
            for lexicon, _ in _SLOT.findall(template):
                if lexicon not in suite["lexicons"]:
                    raise SuiteError(f"{where}: no word list named {lexicon!r}")


# --- the edits an INV test may apply to its text; each is deterministic -------------------------

def _typo(text: str) -> str:
    """Swap two neighbouring letters inside the longest word (the first, if several are as long)."""
    words = text.split(" ")
    i = max(range(len(words)), key=lambda k: len(words[k].strip(string.punctuation)))
    w = words[i]
    core = w.strip(string.punctuation)
    if len(core) < 4:
        return text
    start = w.index(core) + len(core) // 2 - 1
    words[i] = w[:start] + w[start + 1] + w[start] + w[start + 2:]
    return " ".join(words)


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "strip_punctuation": lambda t: re.sub(r"\s+", " ", t.translate(str.maketrans("", "", ",.;:!?"))).strip(),
    "typo": _typo,
    "repeat": lambda t: f"{t} {t}",
}


# --- expansion ---------------------------------------------------------------------------------

def _fill(template: str, binding: dict[str, str]) -> str:
    text = _SLOT.sub(lambda m: binding[m.group(1) + m.group(2)], template)
    text = _ARTICLE.sub(lambda m: m.group(1) + "n ", text)  # "a excellent" -> "an excellent"
    return text[:1].upper() + text[1:]


def _bindings(test: dict, lexicons: dict, max_cases: int) -> list[dict[str, str]]:
    """Word choices for every slot of the test's templates: all of them, or ``max_cases`` drawn with a
    generator seeded by the test's id, so the expansion is the same on every machine and every run."""
    slots = sorted({lex + n for tpl in (test["template"], test.get("edit", "")) for lex, n in _SLOT.findall(tpl)})
    lexicon_of = {slot: slot.rstrip(string.digits) for slot in slots}
    choices = [lexicons[lexicon_of[slot]] for slot in slots]
    combos = [binding for binding in (dict(zip(slots, words)) for words in itertools.product(*choices))
              if _distinct_per_lexicon(binding, lexicon_of)]
    if len(combos) > max_cases:
        rng = random.Random(int.from_bytes(hashlib.sha256(test["id"].encode()).digest()[:8], "big"))
        combos = [combos[i] for i in sorted(rng.sample(range(len(combos)), max_cases))]
    return combos


def _distinct_per_lexicon(binding: dict[str, str], lexicon_of: dict[str, str]) -> bool:
    """{name} and {name2} must be two different names; words from different lists may repeat."""
    seen: dict[str, set] = {}
    for slot, word in binding.items():
        if word in seen.setdefault(lexicon_of[slot], set()):
            return False
        seen[lexicon_of[slot]].add(word)
    return True


def expand(suite: dict, split: str = "all") -> list[Case]:
    """Every case of the suite (or of one half), in file order; the same list on every run."""
    defaults = suite.get("defaults", {})
    cases = []
    for test in suite["tests"]:
        if split != "all" and test["split"] != split:
            continue
        for binding in _bindings(test, suite["lexicons"], test.get("max_cases", defaults.get("max_cases", 16))):
            text = _fill(test["template"], binding)
            if test["type"] == "MFT":
                edited = None
            elif "edit" in test:
                edited = _fill(test["edit"], binding)
            else:
                edited = TRANSFORMS[test["transform"]](text)
            cases.append(Case(
                test["id"], test["capability"], test["type"], test["split"], text, edited,
                expect=test.get("expect"), direction=test.get("direction"),
                max_delta=test.get("max_delta", defaults.get("max_delta", 0.1)) if test["type"] == "INV" else None))
    return cases


# --- scoring -----------------------------------------------------------------------------------

def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def judge(case: Case, logit: float, logit_edited: float | None) -> Result:
    """Whether the model passes ``case``, given its logits of "positive" for the text and the edit."""
    p = float(_sigmoid(np.float64(logit)))
    p_edit = None if logit_edited is None else float(_sigmoid(np.float64(logit_edited)))
    if case.type == "MFT":
        wrong_side = {"positive": 0.5 - p, "not_negative": 0.5 - p, "negative": p - 0.5}[case.expect]
        passed = wrong_side < 0 if case.expect == "negative" else wrong_side <= 0
        return Result(case, p, None, bool(passed), float(max(wrong_side, 0.0)))
    if case.type == "INV":
        moved = abs(p_edit - p)
        passed = (p >= 0.5) == (p_edit >= 0.5) and moved <= case.max_delta
        return Result(case, p, p_edit, bool(passed), 0.0 if passed else moved + ((p >= 0.5) != (p_edit >= 0.5)))
    step = (logit_edited - logit) * (1 if case.direction == "up" else -1)  # > 0: moved the right way
    return Result(case, p, p_edit, bool(step > 0), 0.0 if step > 0 else abs(p_edit - p))


def case_texts(cases: list[Case]) -> list[str]:
    """Every distinct text the cases read, edits included, in order."""
    return list(dict.fromkeys(t for c in cases for t in (c.text, c.edited) if t is not None))


def run(cases: list[Case], logits: Callable[[list[str]], np.ndarray]) -> list[Result]:
    """Score every case with one call of ``logits`` (texts -> (n,) logits of "positive") over all texts."""
    texts = case_texts(cases)
    scored = dict(zip(texts, np.asarray(logits(texts), dtype=np.float64)))
    return [judge(c, scored[c.text], None if c.edited is None else scored[c.edited]) for c in cases]


def summarize(results: list[Result], split: str = "all") -> tuple[list[dict], dict]:
    """One record per (capability, type) in the suite's order, and the overall figures.

    Overall pass rate counts cases (a capability with more cases weighs more); ``by_type`` and
    ``by_capability`` give the same per type and per capability. ``sure_short`` is the share of
    short texts (<= 20 words) answered at P < 0.01 or P > 0.99.
    """
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.case.capability, r.case.type), []).append(r)
    records = [{"capability": cap, "type": typ, "split": split, "n": len(rs), "passed": int(sum(r.passed for r in rs)),
                "pass_rate": _rate(rs)} for (cap, typ), rs in groups.items()]
    probs = [p for r in results for t, p in ((r.case.text, r.prob), (r.case.edited, r.prob_edited))
             if t is not None and len(t.split()) <= SHORT_WORDS]
    by = lambda key: {k: _rate([r for r in results if getattr(r.case, key) == k])
                      for k in dict.fromkeys(getattr(r.case, key) for r in results)}
    overall = {"split": split, "n": len(results), "passed": int(sum(r.passed for r in results)),
               "pass_rate": _rate(results), "by_type": by("type"), "by_capability": by("capability"),
               "sure_short": float(np.mean([p < SURE or p > 1 - SURE for p in probs])) if probs else None,
               "n_short": len(probs)}
    return records, overall


def by_split(results: list[Result]) -> dict[str, dict]:
    """{"dev" | "test" | "all": {"records": [...], "overall": {...}}}, from ``summarize``."""
    halves = {}
    for split in (*SPLITS, "all"):
        records, overall = summarize([r for r in results if split in ("all", r.case.split)], split)
        halves[split] = {"records": records, "overall": overall}
    return halves


def _rate(results: list[Result]) -> float | None:
    return float(sum(r.passed for r in results) / len(results)) if results else None


def failures(results: list[Result], capability: str | None = None) -> list[Result]:
    """The failing cases (of one capability, or all), worst first."""
    return sorted((r for r in results if not r.passed and capability in (None, r.case.capability)),
                  key=lambda r: -r.severity)


# --- a checkpoint's results, stored beside it as behaviour.json --------------------------------

FILE = "behaviour.json"


def checkpoint_report(predictor, directory, command: str | None = None) -> dict:
    """The whole suite run on a checkpoint: records and overall figures for each half and for both,
    every case's result, the suite and weights it was computed with, and the checkpoint's recorded
    test-set calibration error (``evaluate --record`` measures it)."""
    suite = load_suite()
    results = run(expand(suite), predictor.logits)
    test = predictor.metrics.get("test") or {}
    return {"suite": {"name": suite["name"], "version": suite["version"], "sha256": suite_digest()},
            "checkpoint": predictor.name, "weights_sha256": weights_digest(directory), "command": command,
            "ece": {"value": test.get("ece"), "n": test.get("n"), "command": test.get("command")},
            "capabilities": suite["capabilities"], "splits": by_split(results), "cases": [r.to_dict() for r in results]}


def stored_report(directory) -> dict | None:
    """The checkpoint's behaviour.json if it was computed with this suite and these weights, else None."""
    path = Path(directory) / FILE
    if not path.exists():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        fresh = report["suite"]["sha256"] == suite_digest() and report["weights_sha256"] == weights_digest(directory)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return report if fresh else None


def save_report(directory, report: dict) -> Path:
    atomic_write(Path(directory) / FILE, json.dumps(report, indent=1))
    return Path(directory) / FILE


def results_from_report(report: dict) -> list[Result]:
    """The Result of every case stored in a report."""
    fields_of_case = Case.__dataclass_fields__
    return [Result(Case(**{k: v for k, v in row.items() if k in fields_of_case}), row["prob"], row["prob_edited"],
                   row["passed"], row["severity"]) for row in report["cases"]]
