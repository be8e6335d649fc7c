"""What reading misspellings as meant costs ``Predictor.explain``: p50 with and without, in one run, on distinct test
reviews of about 220 tokens (each read by both, in alternating order, so neither meets a review the other has not;
the speller's cache only knows the words of reviews before), for ``default`` (200 reviews) and ``large`` (60).

    python benchmarks/spelling_cost.py aclImdb_v1.tar.gz
"""
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.figures import pick_reviews  # noqa: E402
from sentiment.data import read_reviews  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(data: str) -> None:
    texts = [r.text for r in read_reviews(data)["test"]]
    texts = pick_reviews([texts[i] for i in np.random.default_rng(7).permutation(len(texts))[:3000]], 220)
    for name, n in (("default", 200), ("large", 60)):
        on = Predictor.load(ROOT / "checkpoints" / name)
        off = copy.copy(on)  # the same model, every unknown word left as <unk>
        off.speller = None
        on.explain(texts[0]), on.read(["wonderfull"]), off.explain(texts[1])  # warm-up: kernels, word list
        ms = {"read_as_meant": [], "unk": []}
        for i, text in enumerate(texts[2:2 + n]):
            for key, predictor in sorted((("read_as_meant", on), ("unk", off)), reverse=i % 2 == 1):
                start = time.perf_counter()
                predictor.explain(text)
                ms[key].append((time.perf_counter() - start) * 1000)
        misspelled = np.mean([len(on.explain(t).misspelled) for t in texts[2:2 + n]])
        print(json.dumps({"checkpoint": name, "reviews": n, "misspelled_per_review": round(float(misspelled), 2)}
                         | {f"explain_p50_ms_{k}": round(float(np.median(v)), 2) for k, v in ms.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
