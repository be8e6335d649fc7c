"""Two checkouts of this project on the same distinct reviews, in one run: how fast each explains a review
and searches its edits, and whether their answers agree. For a change that must keep every answer.

    python benchmarks/compare_code.py --before <checkout of the code before> [--checkpoint checkpoints/default]
    python benchmarks/compare_code.py --before <checkout> --parts --whitespace-splits 3000

Each checkout runs in a process of its own (each imports its own ``sentiment``), the two taking turns
``--rounds`` times, with the same model and reviews. One JSON line per checkout and round, p50s over
distinct reviews (each asked once, after two warm-ups): ``Predictor.explain``; with ``--compare``, the same
for a second model and the ratio of the two; ``explain_many`` per review, in passes of ``--pass-size`` (20,
as the JSON API's); ``suggest_edits``, and its ratio to ``explain``. Then one line on the answers: the
largest difference in running P(positive) from ``explain`` and ``explain_many``, and in the suggestions' P,
and whether both suggested the same edited texts. ``--parts`` adds where this checkout's edit search spends
its time (milliseconds per search in each function it calls, cumulative); ``--whitespace-splits N`` checks,
on N test reviews, that spaCy's tokens of a text are those of its two halves split at a whitespace
character (what ``edits.tokens_after`` relies on).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("read_states", "lstm_cell_states", "continuation_logits", "nearest_neighbours", "spacy_tokens",
         "edits_at", "tokens_after")


def worker(code: Path, checkpoint: str, reviews: list[str], searches: int, parts: bool, pass_size: int,
           compare: str | None) -> dict:
    """In a fresh process: time and answer with the ``sentiment`` package of checkout ``code``."""
    sys.path[:0] = [str(code), str(ROOT)]  # the checkout's own `sentiment` (and `benchmarks`, where it has one)
    import sentiment.edits as edits
    from benchmarks.explain_parts import p50_ms
    from sentiment.predict import Predictor
    predictor = Predictor.load(checkpoint)
    for text in reviews[:2]:  # warm-ups
        predictor.explain(text)
        edits.suggest_edits(predictor, text)
    asked = reviews[2:]
    passes = [asked[i:i + pass_size] for i in range(0, len(asked) - pass_size + 1, pass_size)]
    start = time.perf_counter()
    for chunk in passes:
        predictor.explain_many(chunk)
    many = (time.perf_counter() - start) * 1000 / max(1, sum(map(len, passes)))
    explain = p50_ms(predictor.explain, asked)
    other = None
    if compare:  # the same reviews explained by a second model, for the explain ratio of the README
        other = Predictor.load(compare)
        for text in reviews[:2]:
            other.explain(text)
        other = p50_ms(other.explain, asked)
    search = p50_ms(lambda text: edits.suggest_edits(predictor, text), asked[:searches])
    answers = {"running": [[float(p) for p in predictor.explain(t).running_probs] for t in asked],
               "running_many": [[float(p) for p in e.running_probs] for e in predictor.explain_many(asked)],
               "suggestions": [[(s.text, s.prob) for s in edits.suggest_edits(predictor, t).suggestions]
                               for t in asked[:searches]]}
    spent: dict[str, float] = {}
    if parts:  # the same searches again, each function timed (after the timed run: the wrappers cost a little)
        for name in PARTS:
            if hasattr(edits, name):
                setattr(edits, name, _timed(getattr(edits, name), name, spent))
        for text in asked[:searches]:
            edits.suggest_edits(predictor, text)
    return {"code": str(code), "explain_p50_ms": round(explain, 2),
            "compare_explain_p50_ms": round(other, 2) if other else None,
            "explain_ratio": round(explain / other, 3) if other else None, "explain_many_ms_per_review": round(many, 2),
            "suggest_edits_p50_ms": round(search, 2), "suggest_over_explain": round(search / explain, 2),
            "parts_ms_per_search": {k: round(v / searches, 2) for k, v in spent.items()} if parts else None,
            "answers": answers}


def _timed(fn, name: str, spent: dict):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        spent[name] = spent.get(name, 0.0) + (time.perf_counter() - start) * 1000
        return out
    return timed


def agreement(before: dict, after: dict) -> dict:
    """How far two checkouts' answers are apart."""
    gap = lambda xs, ys: max((abs(x - y) for a, b in zip(xs, ys) for x, y in zip(a, b)), default=0.0)
    texts = lambda answers: [[text for text, _ in s] for s in answers["suggestions"]]
    probs = lambda answers: [[p for _, p in s] for s in answers["suggestions"]]
    a, b = before["answers"], after["answers"]
    return {"answers": "compared", "reviews": len(a["running"]), "searches": len(a["suggestions"]),
            "running_max_diff": gap(a["running"], b["running"]),
            "running_many_max_diff": gap(a["running_many"], b["running_many"]),
            "same_suggested_texts": texts(a) == texts(b),
            "suggestion_prob_max_diff": gap(probs(a), probs(b)) if texts(a) == texts(b) else None}


def whitespace_splits(texts: list[str], n: int) -> dict:
    """Split each of ``n`` cleaned texts at a random whitespace character: are its tokens its halves' tokens?"""
    from sentiment.text import clean_text, spacy_tokens
    rng, tried, differ = random.Random(0), 0, 0
    words = lambda s: [t.text for t in spacy_tokens(s)]
    for text in texts[:n]:
        text = clean_text(text)
        spaces = [m.start() for m in re.finditer(r"\s", text)]
        if spaces:
            at = rng.choice(spaces)
            tried += 1
            differ += words(text) != words(text[:at]) + words(text[at:])
    return {"whitespace_splits": tried, "differ": differ}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="a checkout of the code to compare with (required)")
    parser.add_argument("--after", default=str(ROOT), help="the other checkout (default: this one)")
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"))
    parser.add_argument("--compare", default=None, help="a second checkpoint (e.g. checkpoints/large) whose explain "
                        "time each checkout measures too, for the ratio")
    parser.add_argument("--data", default=None, help="IMDB archive or folder: its test reviews are read")
    parser.add_argument("--reviews", type=int, default=42, help="distinct reviews of about 250 tokens (2 warm up)")
    parser.add_argument("--searches", type=int, default=20, help="of them, how many get an edit search")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pass-size", type=int, default=20, help="reviews in a pass of explain_many")
    parser.add_argument("--parts", action="store_true", help="where the --after checkout's edit search spends its time")
    parser.add_argument("--whitespace-splits", type=int, default=0)
    parser.add_argument("--worker", nargs=2, metavar=("CODE", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        job = json.loads(Path(args.worker[1]).read_text())
        print(json.dumps(worker(Path(args.worker[0]), **job)))
        return 0

    if not args.before:
        parser.error("--before DIR is required: a checkout of the code to compare with")
    sys.path.insert(0, str(ROOT))
    from benchmarks.figures import pick_reviews
    from benchmarks.run import default_data
    from sentiment.data import read_reviews
    texts = [r.text for r in read_reviews(args.data or default_data())["test"]]
    reviews = pick_reviews(texts, args.reviews)
    results: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for side in ("before", "after"):
                job = Path(tmp) / f"{side}.json"
                job.write_text(json.dumps({"checkpoint": str(Path(args.checkpoint).resolve()), "reviews": reviews, "searches": args.searches,
                                           "parts": args.parts and side == "after",
                                           "pass_size": args.pass_size,
                                           "compare": str(Path(args.compare).resolve()) if args.compare else None}))
                code = Path(getattr(args, side)).resolve()
                done = subprocess.run([sys.executable, __file__, "--worker", str(code), str(job)],
                                      capture_output=True, text=True, cwd=tmp)
                if done.returncode:
                    sys.exit(f"the {side} checkout ({code}) failed:\n{done.stderr[-2000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results[side].append(result)
                print(json.dumps({"side": side, "round": rnd + 1} | {k: v for k, v in result.items() if k != "answers"}),
                      flush=True)
    print(json.dumps(agreement(results["before"][0], results["after"][0])))
    if args.whitespace_splits:
        print(json.dumps(whitespace_splits(texts, args.whitespace_splits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
