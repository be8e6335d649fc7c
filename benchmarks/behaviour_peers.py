"""The behaviour suite scored by two peers that are not recurrent networks, for reference:

- TF-IDF of word uni- and bigrams + logistic regression, fitted on the IMDB training reviews (scikit-learn);
- the VADER lexicon and rules (the ``vaderSentiment`` package), P(positive) = (compound + 1) / 2.

    python benchmarks/behaviour_peers.py --data aclImdb_v1.tar.gz --out docs/behaviour_peers.json
    python benchmarks/behaviour_peers.py --table     # README's "How it behaves" table, from the stored results
    python benchmarks/behaviour_peers.py --page      # docs/behaviour.md: every capability, from the same

Each peer's figures: pass rates on both halves of the suite, accuracy and calibration error (ECE, 15
bins) on the 25,000 IMDB test reviews. Neither peer is in the app's requirements (requirements-dev.txt
has them). Settings are fixed here, not tuned: the suite's test half and the test reviews only report.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import numpy as np  # noqa: E402

from sentiment.behaviour import FILE, by_split, expand, load_suite, run, suite_digest  # noqa: E402
from sentiment.calibration import ece  # noqa: E402
from sentiment.data import read_reviews, resolve_data_path  # noqa: E402
from sentiment.predict import CHECKPOINTS, available_checkpoints  # noqa: E402
from sentiment.text import clean_text  # noqa: E402

PEERS_FILE = ROOT / "docs" / "behaviour_peers.json"
PAGE = ROOT / "docs" / "behaviour.md"
SUMMARY_ROWS = [("negated_positive", "MFT"), ("negated_negative", "MFT"), ("contrast", "MFT"),
                ("other_domains", "MFT")]  # the README's rows: what people type most, and where models fail most


def tfidf_peer(train_texts: list[str], train_labels: np.ndarray):
    """texts -> (n,) logits of a TF-IDF uni+bigram logistic regression fitted on the given reviews."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True),
                          LogisticRegression(C=1.0, max_iter=1000))
    model.fit([clean_text(t) for t in train_texts], train_labels)
    return lambda texts: model.decision_function([clean_text(t) for t in texts])


def vader_peer():
    """texts -> (n,) logits of (compound + 1) / 2, VADER's compound score in [-1, 1] read as P(positive)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def logits(texts):
        p = np.array([(analyzer.polarity_scores(clean_text(t))["compound"] + 1) / 2 for t in texts])
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    return logits


def score_peer(name: str, logits, test_texts: list[str], test_labels: np.ndarray, cases) -> dict:
    start = time.perf_counter()
    test_logits = np.asarray(logits(test_texts), dtype=np.float64)
    probs = 1 / (1 + np.exp(-test_logits))
    results = run(cases, logits)
    return {"peer": name, "imdb_test": {"accuracy": float(np.mean((probs >= 0.5) == (test_labels == 1))),
                                        "ece": ece(probs, test_labels), "n": len(test_labels)},
            "splits": by_split(results), "seconds": time.perf_counter() - start}


def measure(data: Path, max_train: int | None = None) -> dict:
    reviews = read_reviews(data)
    train, test = reviews["train"], reviews["test"]
    if max_train:
        train = [train[i] for i in np.random.default_rng(0).permutation(len(train))[:max_train]]
    cases = expand(load_suite())
    test_texts, test_labels = [r.text for r in test], np.array([r.label for r in test])
    print(f"fitting TF-IDF + logistic regression on {len(train):,} training reviews", file=sys.stderr)
    peers = [score_peer("TF-IDF + logistic regression",
                        tfidf_peer([r.text for r in train], np.array([r.label for r in train])),
                        test_texts, test_labels, cases)]
    print("scoring with VADER", file=sys.stderr)
    peers.append(score_peer("VADER", vader_peer(), test_texts, test_labels, cases))
    return {"suite_sha256": suite_digest(), "n_train": len(train), "peers": peers,
            "command": "python benchmarks/behaviour_peers.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])}


def _rate(half: dict, capability: str | None = None, kind: str | None = None) -> str:
    if capability is None:
        return f"{half['overall']['pass_rate']:.1%}"
    rows = [r for r in half["records"] if r["capability"] == capability and r["type"] == kind]
    return f"{rows[0]['pass_rate']:.1%}" if rows else "—"


def _columns(checkpoints: Path, peers_file: Path) -> dict[str, tuple[dict, float | None]]:
    """Column name -> (pass rates by split, ECE on the IMDB test reviews): every shipped model, then the peers."""
    columns = {}
    for name in available_checkpoints(checkpoints):  # every shipped model, default first
        report = json.loads((checkpoints / name / FILE).read_text(encoding="utf-8"))
        columns[f"`{name}`"] = (report["splits"], report["ece"]["value"])
    peers = json.loads(peers_file.read_text(encoding="utf-8"))
    for peer in peers["peers"]:
        columns[peer["peer"]] = (peer["splits"], peer["imdb_test"]["ece"])
    return columns


def readme_table(checkpoints: Path = CHECKPOINTS, peers_file: Path = PEERS_FILE, rows=None) -> str:
    """The Markdown table of pass rates (dev / test) for the shipped models and both peers, from their
    stored results: each checkpoint's behaviour.json and this script's peers file. ``rows``: the
    (capability, type) rows to show (None: every one, as docs/behaviour.md does)."""
    columns = _columns(checkpoints, peers_file)
    suite = load_suite()
    first = next(iter(columns.values()))[0]["all"]["records"]
    wanted = [r for r in first if rows is None or (r["capability"], r["type"]) in rows]
    lines = ["| capability | type | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for r in wanted:
        cells = [f"{_rate(s['dev'], r['capability'], r['type'])} / {_rate(s['test'], r['capability'], r['type'])}"
                 for s, _ in columns.values()]
        lines.append(f"| {suite['capabilities'][r['capability']]} | {r['type']} | " + " | ".join(cells) + " |")
    lines.append("| **all cases** | | " + " | ".join(f"**{_rate(s['dev'])} / {_rate(s['test'])}**"
                                               for s, _ in columns.values()) + " |")
    lines.append("| short texts answered at P < 0.01 or > 0.99 | | " + " | ".join(
        f"{s['dev']['overall']['sure_short']:.1%} / {s['test']['overall']['sure_short']:.1%}"
        for s, _ in columns.values()) + " |")
    lines.append("| calibration error on the IMDB test reviews (ECE, 15 bins) | | " + " | ".join(
        "—" if e is None else f"{e:.3f}" for _, e in columns.values()) + " |")
    return "\n".join(lines)


def page(checkpoints: Path = CHECKPOINTS, peers_file: Path = PEERS_FILE) -> str:
    """docs/behaviour.md: the pass rates of every capability and type, dev / test."""
    return ("# The behaviour suite, capability by capability\n\n"
            "Pass rates, **dev / test**, of every shipped model and two peers that are not recurrent networks "
            "(see the README's *How it behaves*). Generated by `python benchmarks/behaviour_peers.py --page` from "
            "each checkpoint's `behaviour.json` and `docs/behaviour_peers.json`.\n\n"
            + readme_table(checkpoints, peers_file) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="aclImdb_v1.tar.gz or an aclImdb/ folder (default: $IMDB_DATA, else download)")
    parser.add_argument("--out", help=f"write the results here as JSON (the README's come from {PEERS_FILE.name})")
    parser.add_argument("--max-train", type=int, help="fit the TF-IDF model on only N training reviews (a quick try)")
    parser.add_argument("--table", action="store_true", help="print README's table from the stored results and stop")
    parser.add_argument("--page", action="store_true", help=f"write {PAGE.name}, every capability, and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(readme_table(rows=SUMMARY_ROWS))
        return 0
    if args.page:
        PAGE.write_text(page(), encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
        return 0
    result = measure(resolve_data_path(args.data), args.max_train)
    for peer in result["peers"]:
        print(json.dumps({"peer": peer["peer"], **peer["imdb_test"],
                          **{f"pass_rate_{s}": peer["splits"][s]["overall"]["pass_rate"] for s in ("dev", "test")}}))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
