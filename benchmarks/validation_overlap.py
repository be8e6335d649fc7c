"""How many validation reviews are of a movie that the training part also has reviews of, per split kind.

    python benchmarks/validation_overlap.py --data aclImdb_v1.tar.gz

The archive's train/urls_{pos,neg}.txt give, line by line, the IMDB page of the movie of review
<id>_<rating>.txt; the test reviews are of other movies. Prints one JSON line per validation split.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentiment.data import resolve_data_path  # noqa: E402
from sentiment.text import tokenize_corpus  # noqa: E402
from sentiment.train import TrainConfig, split_indices  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="aclImdb_v1.tar.gz (default: $IMDB_DATA)")
    args = parser.parse_args()
    archive = resolve_data_path(args.data)
    corpus = tokenize_corpus(archive)
    train_movies = corpus.splits["train"].movies
    test_movies = set(corpus.splits["test"].movies)
    for kind in ("random", "movie"):
        train_idx, val_idx = split_indices(len(train_movies), TrainConfig(val_split=kind), train_movies)
        in_train = {train_movies[i] for i in train_idx}
        shared = sum(train_movies[i] in in_train for i in val_idx) / len(val_idx)
        print(json.dumps({"name": f"val_reviews_of_a_training_movie_{kind}", "value": round(shared, 4),
                          "unit": "fraction", "n_val": len(val_idx), "train_movies": len(set(train_movies)),
                          "test_movies": len(test_movies),
                          "movies_in_both_train_and_test": len(set(train_movies) & test_movies)}))


if __name__ == "__main__":
    main()
