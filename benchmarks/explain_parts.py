"""Where one review's explanation spends its time, for two models in one run: the tokenizer, each recurrent
layer, the rest (the running prediction, the app's Explanation). Answers why the explain ratio of a
2 x 256 to a 2 x 512 LSTM is what it is on this CPU.

    python benchmarks/explain_parts.py [--checkpoint checkpoints/default] [--compare checkpoints/large] [--tokens 250]

One JSON line per model: p50 milliseconds of each part over the same test-like review, microseconds per
token of one layer, and the bytes of one layer's recurrent weights (which every token reads again).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import ROOT  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402

SAMPLE = ("This movie was a pleasant surprise. The story takes its time, but the actors carry it, and the "
          "ending is not what I expected at all. ")


def p50_ms(fn, repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@torch.inference_mode()
def parts(predictor: Predictor, text: str, repeats: int) -> dict:
    tokens, _, _ = predictor._tokens(text)
    ids = torch.tensor(predictor.vocab.encode(tokens))  # (T,)
    x = predictor.model.embedding(ids[None])  # (1, T, E)
    layers = predictor.model.layers
    layer_ms, inputs = [], x
    for layer in layers:
        layer_ms.append(p50_ms(lambda: layer(inputs), repeats))
        inputs = layer(inputs)[0]  # (1, T, H)
    explain = p50_ms(lambda: predictor.explain(text), repeats)
    tokenize = p50_ms(lambda: predictor._tokens(text), repeats)
    weights = layers[-1].weight_hh_l0
    return {"checkpoint": predictor.name, "tokens": len(tokens), "threads": torch.get_num_threads(),
            "explain_p50_ms": round(explain, 2), "tokenize_p50_ms": round(tokenize, 2),
            "layers_p50_ms": [round(t, 2) for t in layer_ms],
            "rest_p50_ms": round(explain - tokenize - sum(layer_ms), 2),
            "top_layer_us_per_token": round(layer_ms[-1] * 1000 / len(tokens), 1),
            "recurrent_weight_bytes_per_layer": weights.numel() * weights.element_size()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"))
    p.add_argument("--compare", default=str(ROOT / "checkpoints" / "large"))
    p.add_argument("--tokens", type=int, default=250, help="length of the review read")
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args(argv)
    text = SAMPLE * (args.tokens // 20 + 2)
    results = []
    for folder in (args.checkpoint, args.compare):
        predictor = Predictor.load(folder)
        tokens, _, _ = predictor._tokens(text)
        cut = text
        while len(tokens) > args.tokens:  # the same review for both: cut by words to the length asked
            cut = cut.rsplit(" ", 1)[0]
            tokens, _, _ = predictor._tokens(cut)
        results.append(parts(predictor, cut, args.repeats))
        print(json.dumps(results[-1]), flush=True)
    a, b = results
    print(json.dumps({"explain_ratio": round(a["explain_p50_ms"] / b["explain_p50_ms"], 3),
                      "layers_ratio": round(sum(a["layers_p50_ms"]) / sum(b["layers_p50_ms"]), 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
