"""`benchmarks/run.py --only reliability` in miniature: every figure it promises, from a running app."""
from __future__ import annotations

from benchmarks.reliability import Scale, reliability_figures

NAMES = {"load_p50_ms", "load_p95_ms", "load_requests_per_s", "load_errors", "load_1client_p50_ms",
         "train_load_predict_p95_ms", "train_load_tokens_per_s", "train_alone_tokens_per_s", "rss_after_200_mb",
         "rss_after_1000_mb", "batch_5000_peak_rss_mb",
         "api_load_1client_p50_ms", "api_load_p50_ms", "api_load_p95_ms", "api_load_requests_per_s", "api_load_errors"}


def test_the_reliability_figures_from_a_small_run(tiny_checkpoint, tiny_archive):
    scale = Scale(clients=3, requests=2, mixed_first=20, mixed_then=20,
                  train_run=("lstm", 2, 16, 16, 2, 1e-2, 16, 40, 100, "sample", "maxmean", "classroom"))
    reviews = [f"Review {i}: the acting was {'great' if i % 3 else 'dull'}, the plot {i}." for i in range(scale.reviews_needed())]
    records = {r["name"]: r for r in reliability_figures(tiny_checkpoint, tiny_archive, reviews, reviews[:50], scale=scale,
                                                           compare_serving_first=False)}
    assert set(records) == NAMES
    assert records["load_errors"]["value"] == 0
    assert records["load_p95_ms"]["value"] >= records["load_p50_ms"]["value"] > 0
    assert records["api_load_errors"]["value"] == 0 and records["api_load_errors"]["n"] == scale.rounds * 6
    assert records["api_load_p95_ms"]["value"] >= records["api_load_p50_ms"]["value"] > 0
    assert records["train_alone_tokens_per_s"]["value"] > 0 and records["train_load_tokens_per_s"]["value"] > 0
    assert records["rss_after_1000_mb"]["value"] > 100 and records["batch_5000_peak_rss_mb"]["reviews"] == 50
