"""Reliability figures: ``python app.py`` under a class of clients (through Gradio's API, then the plain JSON
API), while it trains, over 1,000 requests, and labelling a file of 5,000 reviews
(``python benchmarks/run.py --only reliability``).

The clients run in a process of their own (``benchmarks/load.py``); every request is a review that no
request among the last few hundred asked about, so the app's small cache of recent answers cannot help.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gradio_client import Client, handle_file

from .app_server import ROOT, first_answer, memory_mb, running_app
from .figures import record
from .load import HttpClient, endpoint_defaults
from sentiment.ui.memory import TRIM_SECONDS


@dataclass
class Scale:
    clients: int = 20  # the class: 20 clients asking 10 times each
    requests: int = 10
    alone: int = 20  # requests of the one-client baseline, one after another
    rounds: int = 3  # rounds of the class load pooled into the load figures (one round's p95 varies by ~20%)
    mixed_first: int = 200  # requests across the page's endpoints before the first memory reading
    mixed_then: int = 800  # and before the second
    # the Train tab's run during the load: the classroom model, long enough to outlast a round of the load
    train_run: tuple = ("lstm", 2, 64, 64, 4, 5e-3, 32, 256, 2000, "sample", "maxmean", "classroom")

    def reviews_needed(self) -> int:
        return 1 + 2 * (self.alone + self.rounds * self.clients * self.requests) + self.mixed_first + self.mixed_then + 4 * self.clients * self.requests


def run_load(url: str, reviews: list[str], clients: int, requests: int, mixed: bool = False,
             client: str = "http") -> dict:
    """The load generator in its own process: its JSON result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(reviews, f)
    command = [sys.executable, "-m", "benchmarks.load", "--url", url, "--reviews", f.name,
               "--clients", str(clients), "--requests", str(requests), "--client", client] + (["--mixed"] if mixed else [])
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    Path(f.name).unlink(missing_ok=True)
    return json.loads(out.splitlines()[-1])


def train_once(url: str, runs: Path, train_run: tuple) -> dict:
    """A Train-tab run through /train, to its end: its mean tokens/s over the epochs, and its seconds.

    Asked through Gradio's HTTP API, as the load is: ``gradio_client`` (2.7) now and then ends a long
    streamed answer with ``CancelledError`` while the server is busy, though the run goes on to finish."""
    before = set(runs.iterdir()) if runs.exists() else set()
    start = time.perf_counter()
    HttpClient(url, endpoint_defaults(url, ["/train"])).predict(*train_run, api_name="/train")
    seconds = time.perf_counter() - start
    [run] = [r for r in runs.iterdir() if r not in before]
    return {"tokens_per_s": mean_tokens_per_s(run), "seconds": seconds}


def mean_tokens_per_s(run: Path) -> float:
    """A finished run's tokens/s, the mean over its epochs (its ``metrics.json``)."""
    history = json.loads((run / "metrics.json").read_text())["history"]
    return sum(h["tokens_per_s"] for h in history) / len(history)


def load_while(running, url: str, reviews: list[str], scale: Scale) -> list[dict]:
    """Rounds of the class load, one after another, while ``running()`` says so: every round of it.
    ``reviews`` are asked in turn, from the start again once all were asked (keep them more than the
    app's cache of recent answers)."""
    rounds, k, n = [], 0, scale.clients * scale.requests
    while running():
        rounds.append(run_load(url, [reviews[(k + i) % len(reviews)] for i in range(n)], scale.clients, scale.requests))
        k += n
    return rounds


def load_while_training(url: str, runs: Path, reviews: list[str], scale: Scale) -> tuple[dict, list[dict]]:
    """Start a Train-tab run, and keep the class asking until it ends: (the run, every round of the load)."""
    result, failed = {}, []

    def run():
        try:
            result.update(train_once(url, runs, scale.train_run))
        except Exception as err:  # noqa: BLE001 - raised again below, in the caller's thread
            failed.append(err)

    trainer = threading.Thread(target=run)
    result["started_at"] = time.time()  # wall clock, as the load generator's "starts"
    trainer.start()
    rounds = load_while(trainer.is_alive, url, reviews, scale)
    trainer.join()
    if failed:
        raise RuntimeError(f"the Train-tab run during the load failed: {failed[0]}") from failed[0]
    return result, rounds


def settled_rss(pid: int) -> tuple[float, float]:
    """(VmRSS once the app's periodic malloc trim has run, VmRSS at once) in MiB, after a burst of requests.
    What the app keeps, not what the last requests still held in freed but untrimmed heap."""
    at_once = memory_mb(pid)["VmRSS"]
    time.sleep(TRIM_SECONDS + 1)
    return memory_mb(pid)["VmRSS"], at_once


def pooled(rounds: list[dict], q: float = 95) -> float:
    """The ``q``th percentile of every request of every round of the load."""
    return float(np.percentile([ms for r in rounds for ms in r["ms"]], q))


def batch_peak(app, url: str, texts: list[str]) -> tuple[float, float, float]:
    """(idle RSS, peak RSS while /batch labels ``texts`` from a .txt upload, seconds), sampled every 20 ms.
    Idle is read once the malloc trim has run: freed heap that earlier work (a training run, the load) left
    untrimmed would otherwise be reused by the file unseen (one run read 0.1 MiB above an idle of 1,100)."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "reviews.txt"
        file.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf-8")
        idle, _ = settled_rss(app.process.pid)
        peak, done = [idle], threading.Event()

        def sample():
            while not done.is_set():
                peak.append(memory_mb(app.process.pid)["VmRSS"])
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        notice, *_ = Client(url, verbose=False).predict(handle_file(str(file)), "default", api_name="/batch")
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    if "labelled" not in notice:
        raise RuntimeError(f"/batch did not label the file: {notice}")
    return idle, max(peak), seconds


def class_load(out: list, url: str, take, scale: Scale, prefix: str, endpoint: str, client: str) -> float:
    """One client alone, then ``scale.rounds`` rounds of the class, through ``client``: their records, named
    ``prefix``_..., appended to ``out``; returns the class's pooled p95."""
    CLIENTS, REQUESTS = scale.clients, scale.requests
    alone = run_load(url, take(scale.alone), 1, scale.alone, client=client)
    out.append(record(f"{prefix}_1client_p50_ms", alone["p50_ms"], "ms", n=alone["n"], reviews="distinct",
                      note=f"one client, {scale.alone} requests of {endpoint}, one after another"))
    crowd = [run_load(url, take(CLIENTS * REQUESTS), CLIENTS, REQUESTS, client=client) for _ in range(scale.rounds)]
    p95 = pooled(crowd)
    extra = dict(clients=CLIENTS, requests_each=REQUESTS, rounds=scale.rounds, reviews="distinct")
    out += [record(f"{prefix}_p50_ms", pooled(crowd, 50), "ms", **extra),
            record(f"{prefix}_p95_ms", p95, "ms", **extra, ratio_to_1client_p50=round(p95 / alone["p50_ms"], 2),
                   rounds_p95_ms=[round(r["p95_ms"]) for r in crowd]),
            record(f"{prefix}_requests_per_s", sum(r["n"] for r in crowd) / sum(r["wall_s"] for r in crowd),
                   "requests/s", **extra),
            record(f"{prefix}_errors", sum(r["errors"] for r in crowd), "errors", n=sum(r["n"] for r in crowd),
                   first=next((r["first_error"] for r in crowd if r["first_error"]), None), **extra)]
    return p95


def reliability_figures(checkpoint: Path, data, reviews: list[str], long_texts: list[str],
                        env: dict | None = None, scale: Scale = Scale(),
                        compare_serving_first: bool = True) -> list[dict]:
    """Every figure of the reliability group. ``reviews``: distinct ~250-token reviews, at least
    ``scale.reviews_needed()`` of them; ``long_texts``: the reviews of the file labelled at once."""
    out = []
    CLIENTS, REQUESTS = scale.clients, scale.requests
    runs = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    with running_app(checkpoint, data, env={"SENTIMENT_RUNS": str(runs), **(env or {})}) as app:
        first_answer(app, reviews[0])
        pool = iter(reviews[1:])
        take = lambda n: [next(pool) for _ in range(n)]
        load_p95 = class_load(out, app.url, take, scale, "load", "/predict", "http")
        # the same class through the plain JSON API (POST /api/predict): one request, one answer, no page views
        class_load(out, app.url, take, scale, "api_load", "POST /api/predict", "json")
        mixed = run_load(app.url, take(scale.mixed_first), 10, scale.mixed_first // 10, mixed=True)
        settled, at_once = settled_rss(app.process.pid)
        out.append(record("rss_after_200_mb", settled, "MiB", errors=mixed["errors"], at_once_mb=at_once,
                          requests=scale.mixed_first, note="after requests across /predict, /unit, /step, /path, "
                          f"/compare, read once the malloc trim has run ({TRIM_SECONDS:.0f} s)"))
        mixed = run_load(app.url, take(scale.mixed_then), 10, scale.mixed_then // 10, mixed=True)
        settled, at_once = settled_rss(app.process.pid)
        out.append(record("rss_after_1000_mb", settled, "MiB", errors=mixed["errors"], at_once_mb=at_once,
                          requests=scale.mixed_first + scale.mixed_then))
        trained = train_once(app.url, runs, scale.train_run)
        out.append(record("train_alone_tokens_per_s", trained["tokens_per_s"], "tokens/s", seconds=trained["seconds"],
                          run="the Train tab's classroom model, 2,000 reviews, 4 epochs, no other requests"))
        during, rounds = load_while_training(app.url, runs, take(2 * CLIENTS * REQUESTS), scale)
        p95 = pooled(rounds)
        out += [record("train_load_predict_p95_ms", p95, "ms", rounds=len(rounds),
                       errors=sum(r["errors"] for r in rounds), ratio_to_load_p95=round(p95 / load_p95, 2),
                       note="p95 of every request of the same class load, asked again and again while the run trains"),
                record("train_load_tokens_per_s", during["tokens_per_s"], "tokens/s", seconds=during["seconds"],
                       ratio_to_alone=round(during["tokens_per_s"] / trained["tokens_per_s"], 2))]
        idle, peak, seconds = batch_peak(app, app.url, long_texts)
        out.append(record("batch_5000_peak_rss_mb", peak - idle, "MiB", idle_mb=idle, peak_mb=peak,
                          reviews=len(long_texts), seconds=seconds, note="peak above idle while /batch labels the file"))
    if compare_serving_first:  # the same training under the same load, the training loop not giving way
        with running_app(checkpoint, data, env={"SENTIMENT_RUNS": str(runs), "SENTIMENT_SERVING_FIRST": "off",
                                                **(env or {})}) as app:
            first_answer(app, reviews[0])
            during, rounds = load_while_training(app.url, runs, take(2 * CLIENTS * REQUESTS), scale)
            p95 = pooled(rounds)
            out += [record("train_load_predict_p95_ms_not_serving_first", p95, "ms", rounds=len(rounds),
                           errors=sum(r["errors"] for r in rounds),
                           note="SENTIMENT_SERVING_FIRST=off: training does not give way to requests"),
                    record("train_load_tokens_per_s_not_serving_first", during["tokens_per_s"], "tokens/s")]
    return out
