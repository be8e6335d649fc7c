"""How often a misspelled word changes a model's answer, with and without reading misspellings as meant.

    python scripts/typos.py checkpoints/default --data imdb-tokens.npz

Of the checkpoint's validation reviews, each one's first sentence that holds a word the training reviews lean on
(in at least 20 of them, log-odds at least 0.5 to one side, five letters or more: "wonderful", "boring") is read
as written, then with that word misspelled by one random edit of the kinds people make (a letter dropped,
doubled, or swapped with the next; ``--draws`` times, the same draws for every checkpoint), once as the model
reads text (``sentiment/spelling.py``) and once with every unknown word left as ``<unk>``. The figures: accuracy
against the review's label, and the share of readings whose side flips from the sentence as written.

``unknown_shift``: in the same sentences, the first word the reviews do not lean on (in at least 20 of them,
log-odds within 0.1, five letters or more: "watched", "character") is replaced by a made-up word of six letters
that the model reads as ``<unk>``, and the mean change in P(positive) is taken, signed and absolute. A model
that reads an unknown word as no evidence moves little, and no more one way than the other.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment.distill import SENTENCE_ENDS, sentence_starts  # noqa: E402
from sentiment.opinions import review_log_odds  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402
from sentiment.text import tokenize_corpus  # noqa: E402
from sentiment.train import split_indices  # noqa: E402


def misspell(word: str, rng: np.random.Generator) -> str:
    """``word`` with one letter dropped, doubled, or swapped with the next (never the first letter)."""
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:] if word[i] != word[i + 1] else word[:i] + word[i + 1:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", help="checkpoint folders, trained on the same validation split")
    p.add_argument("--data", required=True, help="the data set or tokenized corpus they were trained on")
    p.add_argument("--draws", type=int, default=3, help="misspelled copies of each sentence")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    readers = {c: Predictor.load(c) for c in args.checkpoints}
    cfg = readers[args.checkpoints[0]].train_config()
    if any(q.train_config().seed != cfg.seed for q in readers.values()):
        raise SystemExit("the checkpoints were trained with different seeds, so on different validation splits")
    corpus = tokenize_corpus(args.data, cfg.lowercase, keep_html=cfg.keep_html)
    train = corpus.splits["train"]
    train_idx, val_idx = split_indices(len(train), cfg, train.movies)
    fit = train.subset(train_idx)
    reviews, lean = review_log_odds(fit, len(corpus.types))
    types = np.asarray(corpus.types, dtype=object)
    long_alpha = np.array([len(t) >= 5 and t.isalpha() for t in corpus.types])
    leaning = (reviews >= 20) & (np.abs(lean) >= 0.5) & long_alpha  # (n_types,)
    neutral = (reviews >= 20) & (np.abs(lean) < 0.1) & long_alpha
    ends = np.isin(types, SENTENCE_ENDS)
    val = train.subset(val_idx)
    if len(val) == 0:
        raise SystemExit(f"{args.checkpoints[0]} was trained on every training review: it has no validation reviews to read")
    rng, unk_rng = np.random.default_rng(args.seed), np.random.default_rng([args.seed, 1])
    written, misspelled, labels, unknown = [], [], [], []  # unknown: (sentence index, the sentence so changed)
    for i in range(len(val)):
        review = val.token_ids[val.offsets[i]:val.offsets[i + 1]]
        for part in np.split(review, sentence_starts(ends[review])[1:]):
            where = np.flatnonzero(leaning[part])
            if len(where):
                words = list(types[part])
                at = int(where[0])
                written.append(words)
                misspelled.append([words[:at] + [misspell(words[at], rng)] + words[at + 1:] for _ in range(args.draws)])
                labels.append(val.labels[i])
                if len(plain_at := np.flatnonzero(neutral[part])):
                    made_up = "".join(unk_rng.choice(list("bcdfghjklmnpqrstvwxz"), size=6))
                    k = int(plain_at[0])
                    unknown.append((len(written) - 1, words[:k] + [made_up] + words[k + 1:]))
                break
    labels = np.array(labels)
    joined = lambda tokens: " ".join(tokens)  # tokens rejoined: the tokenizer splits them the same way again
    print(json.dumps({"validation_reviews": len(val), "sentences": len(written), "draws": args.draws,
                      "example": [joined(written[0]), joined(misspelled[0][0])]}))
    probs = lambda predictor, sentences: np.array([p.prob_positive for p in predictor.predict(list(map(joined, sentences)))])
    for path, reader in readers.items():
        plain = copy.copy(reader)  # the same model, every unknown word left as <unk>
        plain.speller = None
        p0 = probs(reader, written)  # (n,)
        row = {"checkpoint": path, "accuracy_as_written": round(float(((p0 >= 0.5) == labels).mean()), 4)}
        for name, predictor in (("read_as_meant", reader), ("unk", plain)):
            ps = np.stack([probs(predictor, [m[k] for m in misspelled]) for k in range(args.draws)])  # (draws, n)
            row[f"accuracy_misspelled_{name}"] = round(float(((ps >= 0.5) == labels).mean()), 4)
            row[f"side_flips_{name}"] = round(float(((ps >= 0.5) != (p0 >= 0.5)).mean()), 4)
        shift = probs(plain, [t for _, t in unknown]) - probs(plain, [written[k] for k, _ in unknown])  # (m,)
        row["unknown_shift"] = round(float(shift.mean()), 4)
        row["unknown_abs_shift"] = round(float(np.abs(shift).mean()), 4)
        row["unknown_sentences"] = len(unknown)
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
