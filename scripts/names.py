"""How far a model's prediction moves when the names in a review are changed for other names (or, with
``--opinions``, its opinion words for others of the same side and strength).

    python scripts/names.py runs/mv-wd05 runs/mv-names --data imdb-tokens.npz
    python scripts/names.py runs/mv-names-mean runs/mv-opinions --data imdb-tokens.npz --opinions --sentences

Names are found as training finds them (``sentiment/names.py``: words written capitalized mid-sentence) and drawn
as often as the training reviews write them. Of the first checkpoint's validation reviews that name anyone,
each is read as written and with its names swapped ``--draws`` times (the same draws for every checkpoint); the
figures are the mean |change in P(positive)| and the share of readings whose side flips. A reader expects
neither to depend on who is in a film. ``--sentences`` reads each review's first sentence that names anyone,
alone, instead (a short text, as people type, where a name weighs more). All checkpoints must have the same
validation split.

``--opinions`` swaps as ``--swap-opinions`` does in training (``sentiment/opinions.py``: the words the training
reviews confirm, each replaced by a word of the list of the same side and strength that the first checkpoint's
vocabulary holds), in the reviews (or first sentences) that hold any. A reader who knows the words reads the
swapped text on the same side: the figure to watch is the accuracy swapped against as written.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment.batching import EncodedSplit  # noqa: E402
from sentiment.distill import SENTENCE_ENDS, sentence_starts  # noqa: E402
from sentiment.names import name_counts, swap_names, swap_words  # noqa: E402
from sentiment.opinions import opinion_swaps  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402
from sentiment.text import pack, tokenize_corpus  # noqa: E402
from sentiment.train import split_indices  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", help="checkpoint folders, trained on the same validation split")
    p.add_argument("--data", required=True, help="the data set or tokenized corpus they were trained on")
    p.add_argument("--draws", type=int, default=3, help="swapped copies of each review")
    p.add_argument("--sentences", action="store_true", help="read one sentence that names anyone of each review")
    p.add_argument("--in-vocabulary", action="store_true",
                   help="draw only names the first checkpoint's vocabulary holds (none read as <unk>)")
    p.add_argument("--opinions", action="store_true", help="swap opinion words instead of names")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    predictors = [Predictor.load(c) for c in args.checkpoints]
    cfg = predictors[0].train_config()
    if any(q.train_config().seed != cfg.seed for q in predictors):
        raise SystemExit("the checkpoints were trained with different seeds, so on different validation splits")
    corpus = tokenize_corpus(args.data, cfg.lowercase, keep_html=cfg.keep_html)
    if corpus.case is None:
        raise SystemExit(f"{args.data} does not record which words are names: tokenize the data again")
    train = corpus.splits["train"]
    train_idx, val_idx = split_indices(len(train), cfg, train.movies)
    names, weights = name_counts(corpus.types, corpus.case, train.subset(train_idx).token_ids)  # (N,) type ids
    if args.in_vocabulary:
        known = np.array([corpus.types[i] in predictors[0].vocab.stoi for i in names], dtype=bool)
        names, weights = names[known], weights[known]
    if args.opinions:  # the groups over the corpus' types, for the words the first vocabulary holds
        lookup = predictors[0].vocab.lookup_table(corpus.types)
        group_of_id, pools_of_id = opinion_swaps(corpus.types, train.subset(train_idx), lookup)
        type_of_id = {int(v): t for t, v in enumerate(lookup)}
        group_of = group_of_id[lookup]  # (n_types,) -1 for words never replaced, <unk> among them
        pools = [(np.array([type_of_id[int(v)] for v in ids], dtype=np.int64), w) for ids, w in pools_of_id]
        names = np.flatnonzero(group_of >= 0)  # the words whose presence selects a text
    val = train.subset(val_idx)
    pieces, labels = [], []  # each review (or its first sentence) that names anyone, as type ids
    ends = np.isin(np.asarray(corpus.types, dtype=object), SENTENCE_ENDS)  # (n_types,) bool
    for i in range(len(val)):
        review = val.token_ids[val.offsets[i]:val.offsets[i + 1]]
        parts = np.split(review, sentence_starts(ends[review])[1:]) if args.sentences else [review]
        named_part = next((part for part in parts if np.isin(part, names).any()), None)
        if named_part is not None:
            pieces.append(named_part)
            labels.append(val.labels[i])
    as_written = EncodedSplit(*pack(pieces, np.int64), np.array(labels), max_len=10**9)
    rng = np.random.default_rng(args.seed)
    swap = ((lambda split: swap_words(split, group_of, pools, 1.0, rng)) if args.opinions
            else (lambda split: swap_names(split, names, weights, 1.0, rng)))
    copies = [swap(as_written) for _ in range(args.draws)]
    texts = lambda split: [[corpus.types[t] for t in split.ids[split.offsets[i]:split.offsets[i + 1]]]
                           for i in range(len(split))]
    written, swapped = texts(as_written), [texts(c) for c in copies]
    print(json.dumps({"validation_reviews": len(val), "read": "a sentence of each" if args.sentences else "whole",
                      "swapped": "opinion words" if args.opinions else "names", "holding_any": len(as_written),
                      "draws": args.draws, "words_known": len(names)}))
    for path, predictor in zip(args.checkpoints, predictors):
        p0 = torch.sigmoid(predictor.token_logits(written)).numpy()  # (n,)
        ps = np.stack([torch.sigmoid(predictor.token_logits(s)).numpy() for s in swapped])  # (draws, n)
        print(json.dumps({"checkpoint": path, "accuracy_as_written": round(float(((p0 >= 0.5) == as_written.labels).mean()), 4),
                          "mean_abs_change": round(float(np.abs(ps - p0).mean()), 4),
                          "side_flips": round(float(((ps >= 0.5) != (p0 >= 0.5)).mean()), 4),
                          "accuracy_swapped": round(float(((ps >= 0.5) == as_written.labels).mean()), 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
