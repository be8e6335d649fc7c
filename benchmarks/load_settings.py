"""The class load under several host settings, one app after another in one run (compare within a run).

    python benchmarks/load_settings.py --setting '{}' --setting '{"OMP_NUM_THREADS": "1"}' \
        --setting '{"SENTIMENT_CONCURRENCY": "1", "SENTIMENT_PREDICT_BATCH": "20"}'

Each setting is a JSON object of environment variables for ``python app.py`` (the limits of the README's
hosting table, or torch's ``OMP_NUM_THREADS``); ``"APP"`` names another checkout's ``app.py`` to compare
code as well; ``"CLIENT": "json"`` asks the plain JSON API (``POST /api/predict``) instead of Gradio's.
For each, one JSON line: the one-client p50, the class's p50 / p95 / requests per second, their ratio,
and the CPU the server and the clients spent per request (from ``/proc``, Linux only), which says whether
the cores or the order of the work set the pace. ``--training`` then keeps the class asking while a
Train-tab run trains (the reliability benchmark's run): the p95 during it, its ratio to the p95 without,
the run's tokens/s under the load, and a timeline of the class's answers during the run (per 10 s, and
when each round of the load generator began), which says when the slow ones came.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import ROOT, first_answer, running_app  # noqa: E402
from benchmarks.figures import pick_reviews  # noqa: E402
from benchmarks.reliability import Scale, load_while_training, pooled, run_load  # noqa: E402
from benchmarks.run import default_data  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(setting: dict, checkpoint: Path, reviews: list[str], clients: int, requests: int, alone: int,
            training_data=None) -> dict:
    """One app under ``setting``: a one-client baseline, then the class; ``reviews`` are all asked once.
    With ``training_data``, the class again (reviews reused) while a Train-tab run trains on it."""
    env = dict(setting)
    app_file = Path(env.pop("APP", ROOT / "app.py"))
    kind = env.pop("CLIENT", "http")
    runs = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    with running_app(checkpoint, training_data, env={"SENTIMENT_RUNS": str(runs), **env}, app=app_file) as app:
        first_answer(app, reviews[0])
        one = run_load(app.url, reviews[1:1 + alone], 1, alone, client=kind)
        server, client = cpu_seconds(app.process.pid), children_cpu()
        load = run_load(app.url, reviews[1 + alone:], clients, requests, client=kind)
        server, client = cpu_seconds(app.process.pid) - server, children_cpu() - client
        if training_data:
            run, rounds = load_while_training(app.url, runs, reviews[1 + alone:], Scale(clients, requests))
    n = max(load["n"], 1)
    return {"setting": setting, "load_1client_p50_ms": round(one["p50_ms"], 1), "load_p50_ms": round(load["p50_ms"], 1),
            "load_p95_ms": round(load["p95_ms"], 1), "p95_over_1client_p50": round(load["p95_ms"] / one["p50_ms"], 1),
            "load_requests_per_s": round(load["requests_per_s"], 1), "load_errors": load["errors"],
            "server_cpu_ms_per_request": round(server / n * 1000, 1),
            "clients_cpu_ms_per_request": round(client / n * 1000, 1)} | ({
        "train_load_p95_ms": round(pooled(rounds), 1), "train_load_over_load_p95": round(pooled(rounds) / load["p95_ms"], 2),
        "train_load_errors": sum(r["errors"] for r in rounds), "train_load_tokens_per_s": round(run["tokens_per_s"]),
        "train_seconds": round(run["seconds"], 1), **timeline(rounds, run["started_at"])}
        if training_data else {})


def timeline(rounds: list[dict], started_at: float, every: float = 10.0) -> dict:
    """When the class's slow answers came during the run: per ``every`` seconds from its start, by when each
    request was sent, [from_s, requests, p50_ms, max_ms]; and when each round of the load generator began
    (a new process whose 20 clients start at once)."""
    starts = np.array([t for r in rounds for t in r["starts"]]) - started_at  # (n,) seconds into the run
    ms = np.array([m for r in rounds for m in r["ms"]])  # (n,) in the same order
    bins = []
    for a in np.arange(0.0, starts.max() + every, every) if len(starts) else []:
        chosen = ms[(starts >= a) & (starts < a + every)]
        if len(chosen):
            bins.append([round(float(a)), len(chosen), round(float(np.median(chosen))), round(float(chosen.max()))])
    return {"train_load_timeline": bins,
            "train_load_round_starts_s": [round(min(r["starts"]) - started_at, 1) for r in rounds if r["starts"]]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--setting", action="append", type=json.loads, default=None,
                   help='a JSON object of environment variables for the app (repeat; default: one run, {})')
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"))
    p.add_argument("--data", default=default_data(), help="IMDB archive or folder: its test reviews are asked")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=20, help="requests each client makes")
    p.add_argument("--alone", type=int, default=20, help="requests of the one-client baseline")
    p.add_argument("--training", action="store_true", help="then the class again while a Train-tab run trains")
    args = p.parse_args(argv)
    if not args.data:
        p.error("no IMDB data: pass --data (the archive or an extracted aclImdb/ folder)")
    from sentiment.data import read_reviews
    settings = args.setting or [{}]
    per_app = 1 + args.alone + args.clients * args.requests
    texts = [r.text for r in read_reviews(args.data)["test"]]
    reviews = pick_reviews(texts, per_app * len(settings), candidates=max(2000, 2 * per_app * len(settings)))
    for k, setting in enumerate(settings):
        print(json.dumps(measure(setting, Path(args.checkpoint), reviews[k * per_app:(k + 1) * per_app],
                                 args.clients, args.requests, args.alone, args.data if args.training else None)),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
