"""What spaCy's tokenizer keeps as it reads distinct reviews, and what renewing it gives back.

    python benchmarks/tokenizer_memory.py [--data aclImdb_v1.tar.gz] [--reviews 50000] [--every 10000]

spaCy adds every new word it meets to its vocabulary and keeps it while the tokenizer lives, so a server
that reads one distinct review after another grows. This reads the IMDB reviews (test, then train) with one
tokenizer, never renewed, and prints one JSON line every ``--every`` reviews: the words it holds and this
process's RSS once the collector and malloc's trim have run. A last line: the same after a fresh tokenizer.
``sentiment.text`` renews its tokenizer past ``MAX_WORDS`` words.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import memory_mb  # noqa: E402
from benchmarks.run import default_data  # noqa: E402
from sentiment import text  # noqa: E402
from sentiment.ui import memory  # noqa: E402


def settled_rss_mb() -> float:
    gc.collect()
    memory.trim()  # freed heap back to the system, as the app does every few seconds
    return round(memory_mb(os.getpid())["VmRSS"], 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=default_data(), help="IMDB archive or folder")
    p.add_argument("--reviews", type=int, default=50_000)
    p.add_argument("--every", type=int, default=10_000)
    args = p.parse_args(argv)
    if not args.data:
        p.error("no IMDB data: pass --data (the archive or an extracted aclImdb/ folder)")
    from sentiment.data import read_reviews
    splits = read_reviews(args.data)
    texts = [r.text for r in splits["test"]] + [r.text for r in splits["train"]]
    del splits
    texts = texts[:args.reviews]
    limit, text.MAX_WORDS = text.MAX_WORDS, 10**12  # one tokenizer for the whole run: what spaCy alone keeps
    try:
        text.tokenize("warm up")
        print(json.dumps({"reviews": 0, "words": len(text._spacy_tokenizer().vocab), "rss_mb": settled_rss_mb()}), flush=True)
        for start in range(0, len(texts), args.every):
            for review in texts[start:start + args.every]:
                text.tokenize(review)
            print(json.dumps({"reviews": min(start + args.every, len(texts)), "words": len(text._spacy_tokenizer().vocab),
                              "rss_mb": settled_rss_mb()}), flush=True)
        text._new_spacy_tokenizer.cache_clear()
        text.tokenize("a fresh tokenizer")
        print(json.dumps({"fresh_tokenizer": True, "words": len(text._spacy_tokenizer().vocab), "rss_mb": settled_rss_mb()}))
    finally:
        text.MAX_WORDS = limit
    return 0


if __name__ == "__main__":
    sys.exit(main())
