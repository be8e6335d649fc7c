"""Peak memory and speed of labelling many reviews, by reviews per forward pass: how the Predict tab's
file labelling (``predict_tab.BATCH_REVIEWS``) was chosen.

    python benchmarks/batch_memory.py --data aclImdb_v1.tar.gz [--checkpoint DIR] [--reviews 768] [--sizes 16,32,128]

Each size runs in a fresh process (peak RSS does not go down within one); prints one JSON line per size.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(data: str, checkpoint: str | None, n: int, batch_size: int) -> dict:
    import numpy as np

    from benchmarks.app_server import memory_mb
    from sentiment.data import read_reviews
    from sentiment.predict import Predictor
    texts = [r.text for r in read_reviews(data)["test"]]
    texts = [texts[i] for i in np.random.default_rng(1).permutation(len(texts))[:n]]  # whole, distinct reviews
    predictor = Predictor.load(checkpoint)
    predictor.predict(texts[:4])
    idle = memory_mb(os.getpid())["VmRSS"]
    peak, done = [idle], threading.Event()

    def sample():
        while not done.is_set():
            peak.append(memory_mb(os.getpid())["VmRSS"])
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    for k in range(0, len(texts), 256):  # in chunks of 256, as the Predict tab labels a file
        predictor.predict(texts[k:k + 256], batch_size=batch_size)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return {"name": f"label_peak_above_idle_mb_batch{batch_size}", "value": round(max(peak) - idle, 1), "unit": "MiB",
            "reviews_per_s": round(n / seconds, 1), "reviews": n, "batch_size": batch_size}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--reviews", type=int, default=768)
    p.add_argument("--sizes", default="16,32,128")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, in this process
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.data, args.checkpoint, args.reviews, args.one)), flush=True)
        return 0
    for size in args.sizes.split(","):
        command = [sys.executable, __file__, "--data", args.data, "--reviews", str(args.reviews), "--one", size]
        if args.checkpoint:
            command += ["--checkpoint", args.checkpoint]
        subprocess.run(command, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
