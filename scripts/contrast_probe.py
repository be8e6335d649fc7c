"""Whether a model reads the clause that decides a contrast, on held-out sentences and with connectives that
training never joins sentences with (a measure of the project's own, apart from the behaviour suite).

    python scripts/contrast_probe.py checkpoints/default runs/mv-contrast --data imdb-tokens.npz

From the first checkpoint's validation reviews, plain opinion sentences are found as the negation and contrast
rules find them in training (``negation.pair_candidates``: one opinion word, no negation, no contrast word; the
words' sides from these reviews' own log-odds). ``--pairs`` pairs of a positive and a negative one, from two
reviews, are joined in each of the forms below, both ways round, so every pair's two texts hold the same words
and only the order and the connective say which clause decides. A model that ignores them scores 50%.

- **joined as in training** (``--contrasts`` builds these): "A , but B", "A . however , B", "although A , B";
- **held-out connectives, verdict last**: "A , yet B", "A . still , B", "A . that said , B", "A . in the end , B";
- **verdict first**: "B , though A", "B , even though A", "B , despite the fact that A".

B is the clause that decides. Prints one JSON line per checkpoint: the share of texts read on B's side, by form
and by group, and, as a reference, the share of the sentences alone read on their own side.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment.checkpoint import CheckpointError  # noqa: E402
from sentiment.distill import SENTENCE_ENDS  # noqa: E402
from sentiment.negation import KINDS, pair_candidates  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402
from sentiment.text import tokenize_corpus  # noqa: E402
from sentiment.train import split_indices  # noqa: E402


def bare(sentence: list[str]) -> list[str]:
    """The sentence without its end mark ("the plot was dull ." -> "the plot was dull")."""
    return sentence[:-1] if len(sentence) > 1 and sentence[-1] in SENTENCE_ENDS else sentence


# form -> (group, how "A" (the other clause) and "B" (the verdict) are joined)
FORMS = {
    "but": ("as in training", lambda a, b: bare(a) + [",", "but"] + b),
    "however": ("as in training", lambda a, b: a + ["however", ","] + b),
    "although": ("as in training", lambda a, b: ["although"] + bare(a) + [","] + b),
    "yet": ("held out, verdict last", lambda a, b: bare(a) + [",", "yet"] + b),
    "still": ("held out, verdict last", lambda a, b: a + ["still", ","] + b),
    "that said": ("held out, verdict last", lambda a, b: a + ["that", "said", ","] + b),
    "in the end": ("held out, verdict last", lambda a, b: a + ["in", "the", "end", ","] + b),
    "though": ("verdict first", lambda a, b: bare(b) + [",", "though"] + a),
    "even though": ("verdict first", lambda a, b: bare(b) + [",", "even", "though"] + a),
    "despite the fact that": ("verdict first", lambda a, b: bare(b) + [",", "despite", "the", "fact", "that"] + a),
}


def sentence_pairs(split, types: list[str], n: int, rng: np.random.Generator, max_tokens: int = 14):
    """Up to ``n`` (positive sentence, negative sentence) pairs of tokens, from two different reviews of ``split``."""
    words = np.asarray(types, dtype=object)
    plain = {+1: [], -1: []}  # (review, tokens) of each plain opinion sentence, by its side
    for candidates, _, side in pair_candidates(split, types, KINDS, max_tokens).values():
        for i, s, e, at in candidates:
            ids = split.token_ids[split.offsets[i] + s:split.offsets[i] + e]
            plain[int(side[ids[at]])].append((i, list(words[ids])))
    pairs = []
    if not (plain[+1] and plain[-1]):
        return pairs
    for _ in range(n * 3):  # draws from one review are skipped, so draw more than asked
        a, b = (plain[k][rng.integers(len(plain[k]))] for k in (+1, -1))
        if a[0] != b[0]:
            pairs.append((a[1], b[1]))
        if len(pairs) == n:
            break
    return pairs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", help="checkpoint folders, trained on the same validation split")
    p.add_argument("--data", required=True, help="the data set or tokenized corpus they were trained on")
    p.add_argument("--pairs", type=int, default=300, help="pairs of a positive and a negative sentence")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        readers = {c: Predictor.load(c) for c in args.checkpoints}
    except CheckpointError as err:
        raise SystemExit(f"error: {err}") from None
    cfg = readers[args.checkpoints[0]].train_config()
    if any(q.train_config().seed != cfg.seed for q in readers.values()):
        raise SystemExit("the checkpoints were trained with different seeds, so on different validation splits")
    corpus = tokenize_corpus(args.data, cfg.lowercase, keep_html=cfg.keep_html)
    train = corpus.splits["train"]
    val = train.subset(split_indices(len(train), cfg, train.movies)[1])
    if len(val) == 0:
        raise SystemExit(f"{args.checkpoints[0]} was trained on every training review: it has no validation reviews")
    pairs = sentence_pairs(val, corpus.types, args.pairs, np.random.default_rng(args.seed))
    if not pairs:
        raise SystemExit("no plain opinion sentences of both sides in the validation reviews")
    texts, sides, forms = [], [], []  # sides: +1 when the verdict B is positive
    for good, bad in pairs:
        for form, (_, join) in FORMS.items():
            for other, verdict, side in ((good, bad, -1), (bad, good, +1)):
                texts.append(" ".join(join(other, verdict)))
                sides.append(side)
                forms.append(form)
    sides, forms = np.array(sides), np.array(forms)
    alone = [" ".join(s) for pair in pairs for s in pair]
    alone_sides = np.tile([+1, -1], len(pairs))
    print(json.dumps({"validation_reviews": len(val), "pairs": len(pairs), "texts": len(texts),
                      "example": texts[:2]}))
    for path, reader in readers.items():
        positive = np.array([q.prob_positive >= 0.5 for q in reader.predict(texts)])  # (n,)
        right = positive == (sides > 0)
        row = {"checkpoint": path,
               "sentences_alone": round(float(np.mean(np.array([q.prob_positive >= 0.5 for q in reader.predict(alone)])
                                                      == (alone_sides > 0))), 4)}
        for group in dict.fromkeys(g for g, _ in FORMS.values()):
            row[group] = round(float(right[np.isin(forms, [f for f, (g, _) in FORMS.items() if g == group])].mean()), 4)
        row["by_form"] = {form: round(float(right[forms == form].mean()), 4) for form in FORMS}
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
