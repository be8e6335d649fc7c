"""Where one review's explanation spends its time, for two models in one run: the tokenizer, each recurrent
layer, the rest (the running prediction, the app's Explanation). Answers why the explain ratio of a
2 x 256 to a 2 x 512 LSTM is what it is on this CPU.

    python benchmarks/explain_parts.py [--checkpoint checkpoints/default] [--compare checkpoints/large] [--tokens 250] [--data DIR]
    python benchmarks/explain_parts.py --batch 20 --compare ''    # also: a review's share of a pass over 20 at once
    python benchmarks/explain_parts.py --threads-compared          # which thread reads it (sentiment/ui/compute.py)

One JSON line per model: p50 milliseconds of each part over distinct test reviews of about that length (the same ones for both), microseconds per
token of one layer, and the bytes of one layer's recurrent weights (which every token reads again). With
``--batch B``, a line more per model: what a review costs in passes over B reviews at once
(``Predictor.explain_many``, as the app answers requests that wait together), by part, against one alone.
``--threads-compared`` reads the same reviews with ``--checkpoint`` in three fresh processes, one line each:
on the only thread that computes; on a second thread once the first has computed (each thread then has
its own OpenMP team, as the app's request threads had); and as the app does now, on its model thread.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import ROOT  # noqa: E402
from benchmarks.figures import pick_reviews  # noqa: E402
from benchmarks.run import default_data  # noqa: E402
from sentiment.predict import Predictor  # noqa: E402

def p50_ms(fn, inputs: list) -> float:
    """Median milliseconds of ``fn`` over ``inputs``, each called once (none twice: nothing a cache could answer)."""
    times = []
    for x in inputs:
        start = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@torch.inference_mode()
def parts(predictor: Predictor, texts: list[str]) -> dict:
    """The parts of ``predictor.explain`` over ``texts`` (the first is a warm-up), p50 of each."""
    predictor.explain(texts[0])
    texts = texts[1:]
    vectors = [predictor.model.embedding(torch.tensor(predictor.vocab.encode(predictor._tokens(t)[0]))[None])
               for t in texts]  # (1, T, E) each
    layer_ms = []
    for layer in predictor.model.layers:
        layer_ms.append(p50_ms(layer, vectors))
        vectors = [layer(x)[0] for x in vectors]  # (1, T, H): the next layer's input
    explain = p50_ms(predictor.explain, texts)
    tokenize = p50_ms(predictor._tokens, texts)
    tokens = statistics.median(x.shape[1] for x in vectors)
    weights = predictor.model.layers[-1].weight_hh_l0
    return {"checkpoint": predictor.name, "reviews": len(texts), "tokens_p50": tokens, "threads": torch.get_num_threads(),
            "explain_p50_ms": round(explain, 2), "tokenize_p50_ms": round(tokenize, 2),
            "layers_p50_ms": [round(t, 2) for t in layer_ms],
            "rest_p50_ms": round(explain - tokenize - sum(layer_ms), 2),
            "top_layer_us_per_token": round(layer_ms[-1] * 1000 / tokens, 1),
            "recurrent_weight_bytes_per_layer": weights.numel() * weights.element_size()}


@torch.inference_mode()
def batched(predictor: Predictor, texts: list[str], batch: int) -> dict:
    """Milliseconds per review of passes over ``batch`` of ``texts`` at once (whole passes only; the first is
    a warm-up, not timed): the whole ``explain_many``, and its tokenizer, recurrent layers and running prediction."""
    warm_up, *passes = [texts[i:i + batch] for i in range(0, len(texts) - batch + 1, batch)]
    predictor.explain_many(warm_up)
    whole = tokenize = layers = running = 0.0
    model = predictor.model
    for chunk in passes:
        start = time.perf_counter()
        predictor.explain_many(chunk)
        whole += time.perf_counter() - start
        start = time.perf_counter()
        read = [predictor._tokens(t)[0] for t in chunk]
        tokenize += time.perf_counter() - start
        ids = torch.zeros(len(read), max(map(len, read)), dtype=torch.long)  # (B, T) right-padded, as explain_many
        lengths = torch.tensor([len(tokens) for tokens in read])  # (B,)
        for row, tokens in enumerate(read):
            ids[row, :len(tokens)] = torch.tensor(predictor.vocab.encode(tokens))
        start = time.perf_counter()
        states = model.encode(ids)  # num_layers x (B, T, H)
        layers += time.perf_counter() - start
        start = time.perf_counter()
        read_out = model.read_outputs(states)  # (B, T, R*H)
        model.running_logits(read_out), model.pool(read_out, lengths)  # (B, T), and (B, F) each whole review's features
        running += time.perf_counter() - start
    n = len(passes) * batch
    per = lambda seconds: round(seconds * 1000 / n, 2)
    return {"checkpoint": predictor.name, "batch": batch, "reviews": n, "threads": torch.get_num_threads(),
            "explain_many_ms_per_review": per(whole), "tokenize_ms_per_review": per(tokenize),
            "layers_ms_per_review": per(layers), "running_ms_per_review": per(running)}


THREAD_CASES = {
    "only": "the only thread that computes (a script, the command line)",
    "second": "a second thread, once the first has computed: two OpenMP teams (the app's request threads before)",
    "app": "the app's model thread (compute.run), every other thread on one torch thread",
}


def thread_case(case: str, folder: str, texts: list[str]) -> dict:
    """p50 of ``explain`` over ``texts`` (the first a warm-up) read as ``case`` says, in this process."""
    from sentiment.ui import compute
    if case == "app":
        compute.one_team()
        predictor = compute.run(Predictor.load, folder)
        explain = lambda text: compute.run(predictor.explain, text)
    else:
        predictor = Predictor.load(folder)
        explain = predictor.explain
    timed: list[float] = []

    def warm_then_time() -> None:
        explain(texts[0])  # a warm-up, not timed
        timed.append(p50_ms(explain, texts[1:]))

    if case == "second":
        explain(texts[0])  # this thread computes first: its team exists from now on
        worker = threading.Thread(target=warm_then_time)
        worker.start()
        worker.join()
    else:
        warm_then_time()
    return {"thread_case": case, "what": THREAD_CASES[case], "checkpoint": predictor.name, "reviews": len(texts) - 1,
            "torch_threads": compute.threads(), "explain_p50_ms": round(timed[0], 2)}


def threads_compared(args) -> int:
    """Each case in a fresh process (an OpenMP team, once started, lasts as long as its thread)."""
    lines = []
    for case in THREAD_CASES:
        out = subprocess.run([sys.executable, __file__, "--thread-case", case, "--checkpoint", args.checkpoint,
                              "--data", args.data, "--tokens", str(args.tokens), "--repeats", str(args.repeats)],
                             check=True, capture_output=True, text=True).stdout
        lines.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(lines[-1]), flush=True)
    only = lines[0]["explain_p50_ms"]
    print(json.dumps({f"{line['thread_case']}_over_only": round(line["explain_p50_ms"] / only, 2) for line in lines}))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"))
    p.add_argument("--compare", default=str(ROOT / "checkpoints" / "large"))
    p.add_argument("--data", default=default_data(), help="IMDB archive or folder: its test reviews are read")
    p.add_argument("--tokens", type=int, default=250, help="length of the reviews read (the closest test reviews)")
    p.add_argument("--repeats", type=int, default=30, help="distinct reviews timed")
    p.add_argument("--batch", type=int, default=0, help="also time passes over this many reviews at once")
    p.add_argument("--passes", type=int, default=5, help="passes timed with --batch")
    p.add_argument("--threads-compared", action="store_true", help="read on the only thread, a second one, the app's")
    p.add_argument("--thread-case", choices=THREAD_CASES, help=argparse.SUPPRESS)  # one case, in this process
    args = p.parse_args(argv)
    if not args.data:
        p.error("no IMDB data: pass --data (the archive or an extracted aclImdb/ folder)")
    if args.threads_compared:
        return threads_compared(args)
    from sentiment.data import read_reviews
    n = max(args.repeats + 1, args.batch * (args.passes + 1))
    texts = pick_reviews([r.text for r in read_reviews(args.data)["test"]], n, target_tokens=args.tokens,
                         candidates=max(2000, 2 * n))
    if args.thread_case:
        print(json.dumps(thread_case(args.thread_case, args.checkpoint, texts[:args.repeats + 1])))
        return 0
    results = []
    for folder in [f for f in (args.checkpoint, args.compare) if f]:  # the same reviews for both, in one run
        predictor = Predictor.load(folder)
        results.append(parts(predictor, texts[:args.repeats + 1]))
        print(json.dumps(results[-1]), flush=True)
        if args.batch:
            shares = batched(predictor, texts[:args.batch * (args.passes + 1)], args.batch)
            shares["alone_over_in_pass"] = round(results[-1]["explain_p50_ms"] / shares["explain_many_ms_per_review"], 2)
            print(json.dumps(shares), flush=True)
    if len(results) < 2:
        return 0
    a, b = results
    print(json.dumps({"explain_ratio": round(a["explain_p50_ms"] / b["explain_p50_ms"], 3),
                      "layers_ratio": round(sum(a["layers_p50_ms"]) / sum(b["layers_p50_ms"]), 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
