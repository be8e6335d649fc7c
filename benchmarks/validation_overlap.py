"""How many validation reviews are of a movie that the training split also has reviews of.

    python benchmarks/validation_overlap.py --data aclImdb_v1.tar.gz

The archive's train/urls_{pos,neg}.txt give, line by line, the IMDB page of the movie of review
<id>_<rating>.txt; the test reviews are of other movies. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentiment.data import read_reviews, resolve_data_path  # noqa: E402
from sentiment.train import TrainConfig, split_indices  # noqa: E402


def movie_pages(archive: Path) -> dict[tuple[str, str], list[str]]:
    """(split, "pos"/"neg") -> the movie id of each review id (line number = review id)."""
    pages = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            match = re.search(r"aclImdb/(train|test)/urls_(pos|neg)\.txt$", member.name)
            if match:
                lines = tar.extractfile(member).read().decode().split()
                pages[match.groups()] = [re.search(r"title/(tt\d+)", url).group(1) for url in lines]
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="aclImdb_v1.tar.gz (default: $IMDB_DATA)")
    args = parser.parse_args()
    archive = resolve_data_path(args.data)
    pages = movie_pages(archive)
    reviews = read_reviews(archive)

    def movie(split, review):
        _, sentiment, name = review.name.split("/")
        return pages[(split, sentiment)][int(name.split("_")[0])]

    train_movies = [movie("train", r) for r in reviews["train"]]
    test_movies = {movie("test", r) for r in reviews["test"]}
    train_idx, val_idx = split_indices(len(train_movies), TrainConfig())
    in_train = {train_movies[i] for i in train_idx}
    shared = sum(train_movies[i] in in_train for i in val_idx) / len(val_idx)
    print(json.dumps({"name": "val_reviews_of_a_training_movie", "value": round(shared, 4), "unit": "fraction",
                      "train_movies": len(set(train_movies)), "test_movies": len(test_movies),
                      "movies_in_both_train_and_test": len(set(train_movies) & test_movies)}))


if __name__ == "__main__":
    main()
