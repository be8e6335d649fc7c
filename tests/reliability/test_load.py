"""Many users at once: a small class through the load generator (its own process), and serving first
while a Train-tab run trains. The heavy figures (20 clients, 1,000 requests, a 5,000-review file) come
from `python benchmarks/run.py --only reliability`."""
from __future__ import annotations

import threading
import time

from benchmarks.reliability import run_load
from sentiment.ui import serving


def test_a_small_class_at_once_gets_every_answer(app_url):
    reviews = [f"Review {i}: the acting was {'great' if i % 2 else 'dull'} and the plot {i} twists." for i in range(24)]
    result = run_load(app_url, reviews, clients=6, requests=4)
    assert result["errors"] == 0, result["first_error"]
    assert result["n"] == 24 and result["p95_ms"] > 0
    mixed = run_load(app_url, reviews[::-1], clients=4, requests=5, mixed=True)  # every endpoint a page uses
    assert mixed["errors"] == 0, mixed["first_error"]


def test_training_gives_way_while_a_request_is_answered():
    started, waited = threading.Event(), []

    def answer():
        with serving.request():
            started.set()
            time.sleep(0.3)

    worker = threading.Thread(target=answer)
    worker.start()
    started.wait()
    start = time.perf_counter()
    serving.give_way(max_wait=5)  # returns when the request is answered, not after 5 s
    waited.append(time.perf_counter() - start)
    worker.join()
    assert 0.1 < waited[0] < 2 and serving.in_flight() == 0
    start = time.perf_counter()
    serving.give_way(max_wait=5)  # nothing in flight: no wait
    assert time.perf_counter() - start < 0.05
    with serving.request():
        start = time.perf_counter()
        serving.give_way(max_wait=0.2)  # a steady load: training still moves on after max_wait
        assert 0.15 < time.perf_counter() - start < 1


def test_load_under_a_host_setting_prints_the_figures_and_the_cpu_per_request(tiny_archive, tiny_checkpoint, capsys):
    import json

    from benchmarks import load_settings
    assert load_settings.main(["--setting", '{"OMP_NUM_THREADS": "1", "SENTIMENT_PREDICT_BATCH": "2"}',
                               "--checkpoint", str(tiny_checkpoint), "--data", str(tiny_archive),
                               "--clients", "3", "--requests", "2", "--alone", "3"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    row = json.loads(line)
    assert load_settings.main(["--setting", '{"CLIENT": "json"}', "--checkpoint", str(tiny_checkpoint), "--data",
                               str(tiny_archive), "--clients", "3", "--requests", "2", "--alone", "3"]) == 0
    api = json.loads(capsys.readouterr().out)  # the plain JSON API (POST /api/predict) under the same load
    assert api["load_errors"] == 0 and api["load_p95_ms"] >= api["load_p50_ms"] > 0
    assert load_settings.main(["--training", "--checkpoint", str(tiny_checkpoint), "--data", str(tiny_archive),
                               "--clients", "2", "--requests", "2", "--alone", "2"]) == 0
    during = json.loads(capsys.readouterr().out)  # the class again while a Train-tab run trains
    assert during["train_load_errors"] == 0 and during["train_load_p95_ms"] > 0 and during["train_load_tokens_per_s"] > 0
    bins, rounds = during["train_load_timeline"], during["train_load_round_starts_s"]
    assert bins and all(n > 0 and max_ms >= p50 > 0 for _, n, p50, max_ms in bins)  # when the slow answers came
    assert sum(n for _, n, _, _ in bins) == 4 * len(rounds) and rounds == sorted(rounds) and rounds[0] >= 0
    assert row["setting"] == {"OMP_NUM_THREADS": "1", "SENTIMENT_PREDICT_BATCH": "2"} and row["load_errors"] == 0
    assert row["load_p95_ms"] >= row["load_p50_ms"] > 0 and row["load_1client_p50_ms"] > 0
    assert row["server_cpu_ms_per_request"] > 0 and row["clients_cpu_ms_per_request"] > 0
