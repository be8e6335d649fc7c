"""Where two checkpoints trained on one validation split disagree, and whether those reviews end on the other side.

    python scripts/endings.py runs/mv-last runs/mv-turns-q --data imdb-tokens.npz

Turn pairs teach a model to let a text's last window decide. This asks what that costs on whole reviews: of the
validation reviews that the second checkpoint reads wrong and the first right (and the other way round), how many
end on the other side of their label, as the first checkpoint reads their last ``--sentences`` sentences alone.
Both checkpoints must have the same validation split (the same seed, split and data); it is taken from the first.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment.distill import sentence_starts  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402
from sentiment.text import tokenize_corpus  # noqa: E402
from sentiment.train import split_indices  # noqa: E402

SENTENCE_ENDS = [".", "!", "?"]  # training's windows also end at "...": the figures in docs/experiments.md do not


def ending(tokens: list[str], sentences: int) -> list[str]:
    """The last ``sentences`` sentences of a tokenized review (all of it if it has no more)."""
    starts = sentence_starts(np.isin(np.asarray(tokens, dtype=object), SENTENCE_ENDS))  # (S,)
    return tokens[starts[max(len(starts) - sentences, 0)]:]


def probs(predictor: Predictor, token_lists: list[list[str]]) -> np.ndarray:
    """(n,) P(positive) of each tokenized text, at the checkpoint's temperature."""
    return torch.sigmoid(predictor.token_logits(token_lists)).numpy()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", help="checkpoint folder (its reading of the endings is used)")
    p.add_argument("second", help="checkpoint folder, trained on the same split")
    p.add_argument("--data", required=True, help="the data set or tokenized corpus both were trained on")
    p.add_argument("--sentences", type=int, default=2, help="sentences that make a review's ending")
    args = p.parse_args()
    first, second = Predictor.load(args.first), Predictor.load(args.second)
    cfg = first.train_config()
    if second.train_config().seed != cfg.seed:
        raise SystemExit("the two checkpoints were trained with different seeds, so on different validation splits")
    corpus = tokenize_corpus(args.data, cfg.lowercase, keep_html=cfg.keep_html)
    train = corpus.splits["train"]
    _, val = split_indices(len(train), cfg, train.movies)
    reviews = [corpus.tokens("train", int(i)) for i in val]
    labels = train.labels[val] == 1  # (n,) positive
    right_a, right_b = (probs(first, reviews) >= 0.5) == labels, (probs(second, reviews) >= 0.5) == labels
    ends_other_side = (probs(first, [ending(r, args.sentences) for r in reviews]) >= 0.5) != labels
    groups = {"all": np.ones_like(labels), "first right, second wrong": right_a & ~right_b,
              "first wrong, second right": ~right_a & right_b, "both wrong": ~right_a & ~right_b}
    print(json.dumps({"validation_reviews": len(val), "accuracy": [float(right_a.mean()), float(right_b.mean())],
                      "ending_sentences": args.sentences}))
    for name, mask in groups.items():
        print(json.dumps({"reviews": name, "n": int(mask.sum()),
                          "ending_on_the_other_side": round(float(ends_other_side[mask].mean()), 3) if mask.any() else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
