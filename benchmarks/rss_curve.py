"""How the app's resident memory moves over many requests: `python app.py` is asked chunk after chunk of
mixed requests (/predict, /unit, /step, /path, /compare; 10 new clients a chunk, each keeping one session
as a browser page does), and its RSS is read after each chunk, at once and once the malloc trim has run.

    python benchmarks/rss_curve.py [--chunks 8] [--per 200] [--sessions N] [--checkpoint checkpoints/default]

One JSON line per chunk. ``--sessions`` sets SENTIMENT_SESSIONS (visitors' page states kept), to tell memory
that each visitor's page state holds from memory that grows with requests.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import ROOT, first_answer, memory_mb, running_app  # noqa: E402
from benchmarks.figures import pick_reviews  # noqa: E402
from benchmarks.reliability import run_load, settled_rss  # noqa: E402
from benchmarks.run import default_data  # noqa: E402
from sentiment.data import read_reviews  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chunks", type=int, default=8)
    p.add_argument("--per", type=int, default=200, help="requests a chunk (10 clients)")
    p.add_argument("--sessions", type=int, default=None, help="SENTIMENT_SESSIONS for the app (default: its own)")
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"))
    p.add_argument("--data", default=None, help="the IMDB data (default: as benchmarks/run.py finds it)")
    args = p.parse_args()
    texts = [r.text for r in read_reviews(args.data or default_data())["test"]]
    reviews = pick_reviews(texts, args.chunks * args.per + 1, candidates=max(2000, 2 * args.chunks * args.per))
    env = {"SENTIMENT_SESSIONS": str(args.sessions)} if args.sessions else {}
    with running_app(Path(args.checkpoint), env=env) as app:
        first_answer(app, reviews[0])
        print(json.dumps({"after": 0, "rss_mb": round(memory_mb(app.process.pid)["VmRSS"], 1)}), flush=True)
        for c in range(args.chunks):
            start = time.time()
            load = run_load(app.url, reviews[1 + c * args.per:1 + (c + 1) * args.per], 10, args.per // 10, mixed=True)
            settled, at_once = settled_rss(app.process.pid)
            print(json.dumps({"after": (c + 1) * args.per, "rss_mb": round(settled, 1), "at_once_mb": round(at_once, 1),
                              "errors": load["errors"], "seconds": round(time.time() - start, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
