"""The benchmark's figures are well formed, and every fast path answers as the plain path does."""
import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import figures
from benchmarks.app_server import AppError, app_figures, running_app
from sentiment.data import read_reviews
from sentiment.predict import Predictor
from sentiment.train import TrainConfig, evaluate, prepare_data

ROOT = Path(__file__).resolve().parent.parent
SMALL_MODEL = {"embed_dim": 16, "hidden_size": 12}


def assert_well_formed(records, names, unit=None):
    assert [r["name"] for r in records] == names
    for r in records:
        assert set(r) >= {"name", "value", "unit"} and json.loads(json.dumps(r)) == r
        assert isinstance(r["value"], (int, float)) and r["value"] > 0, r
        if unit:
            assert r["unit"] == unit


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint):
    return Predictor.load(tiny_checkpoint)


@pytest.fixture(scope="module")
def test_reviews(tiny_archive):
    test = read_reviews(tiny_archive)["test"]
    return [r.text for r in test], np.array([r.label for r in test])


@pytest.fixture(scope="module")
def prepared(tiny_archive):
    return prepare_data(tiny_archive, TrainConfig(vocab_size=200, min_freq=1, max_len=40))


def test_percentiles_are_of_milliseconds():
    records = figures.latency_records("x", [i / 1000 for i in range(1, 101)], tokens=3)
    assert [(r["name"], r["value"], r["unit"], r["n"]) for r in records] == [
        ("x_p50_ms", 50.5, "ms", 100), ("x_p95_ms", 95.05, "ms", 100)]


def test_pick_review_takes_the_closest_length():
    texts = ["one two", "one two three four five", "one two three"]
    assert figures.pick_review(texts, target_tokens=3) == "one two three"
    assert figures.pick_reviews(texts + ["one two three"], 2, target_tokens=3) == ["one two three", "one two"]


def test_predict_figures(predictor, test_reviews, tiny_checkpoint):
    reviews = test_reviews[0][:7]
    asked = []
    explain = predictor.explain
    predictor.explain = lambda text: asked.append(text) or explain(text)
    try:
        records = figures.predict_model(predictor, reviews, repeats=5, threads=1)
    finally:
        del predictor.explain
    assert asked[:7] == reviews  # every timed call a review of its own
    assert_well_formed(records, ["predict_model_p50_ms", "predict_model_p95_ms"], "ms")
    assert records[0]["value"] <= records[1]["value"] and records[0]["reviews"] == "distinct"
    assert records[0]["threads"] == 1
    assert records[0]["tokens"] == int(np.median([len(predictor.explain(t).tokens) for t in reviews[2:]]))
    with pytest.raises(ValueError, match="needs 7 distinct reviews"):
        figures.predict_model(predictor, reviews[:6], repeats=5)
    review = reviews[0]
    assert_well_formed(figures.first_call(tiny_checkpoint, review),
                       ["load_checkpoint_ms", "predict_model_first_call_ms", "predict_model_second_call_ms"], "ms")


def test_batch_and_tokenize_figures(predictor, test_reviews):
    texts, labels = test_reviews
    [batch] = figures.batch_scoring(predictor, texts, labels, batch_size=16)
    assert_well_formed([batch], ["batch_reviews_per_s"], "reviews/s")
    expected = np.mean([p.label == "positive" for p in predictor.predict(texts)] == labels.astype(bool))
    assert batch["n"] == len(texts) and batch["accuracy"] == pytest.approx(expected, abs=1e-4)
    assert_well_formed(figures.tokenization(texts),
                       ["tokenize_batched_reviews_per_s", "tokenize_one_by_one_reviews_per_s"], "reviews/s")


def test_train_figures(prepared):
    cfg = TrainConfig(batch_size=8, max_len=40)
    records = figures.train_throughput(prepared.train, len(prepared.vocab), batches=2, model_options=SMALL_MODEL,
                                       cfg=cfg)
    assert_well_formed(records, ["train_tokens_per_s_rnn", "train_tokens_per_s_gru", "train_tokens_per_s_lstm"])
    assert len({r["tokens"] for r in records}) == 1  # every cell read the same reviews
    ways = figures.bucketed_vs_padded(prepared.train, len(prepared.vocab), batches=3, model_options=SMALL_MODEL,
                                      cfg=cfg)
    assert_well_formed(ways, ["train_tokens_per_s_lstm_bucketed", "train_tokens_per_s_lstm_padded",
                              "train_bucketed_vs_padded_ratio"])
    bucketed, padded, ratio = ways
    assert bucketed["tokens"] == padded["tokens"]  # the same reviews both ways
    assert bucketed["padded_tokens"] < padded["padded_tokens"]  # bucketing computes less padding
    assert ratio["value"] == pytest.approx(bucketed["value"] / padded["value"], rel=1e-3)


def test_int8_figures(predictor, prepared, test_reviews):
    val = prepare_data(prepared.data_path, TrainConfig(vocab_size=200, min_freq=1, max_len=40),
                       vocab=predictor.vocab).val
    records = figures.int8_experiment(predictor, val, test_reviews[0][:5], repeats=3)
    names = [r["name"] for r in records]
    assert names[:4] == ["fp32_val_accuracy", "fp32_val_reviews_per_s", "fp32_predict_model_p50_ms",
                         "fp32_predict_model_p95_ms"]
    assert names[-2:] == ["int8_max_prob_diff", "int8_label_agreement"]
    assert 0 <= records[-1]["value"] <= 1 and records[-1]["n"] == len(val)
    accuracy = {r["name"]: r["value"] for r in records if r["name"].endswith("val_accuracy")}
    assert accuracy.keys() == {"fp32_val_accuracy", "int8_val_accuracy"}
    assert accuracy["fp32_val_accuracy"] == pytest.approx(evaluate(predictor.model, val)["accuracy"], abs=1e-4)
    assert isinstance(predictor.model.layers[0], torch.nn.LSTM)  # the experiment quantizes a copy only


# --- fast paths agree with the plain path ------------------------------------------------------------

def explain_arrays(predictor, text):
    e = predictor.explain(text)
    return e.hidden_states, e.running_probs, e.unit_contributions


def test_onednn_lstm_agrees_with_the_plain_kernel(predictor, test_reviews):
    text = test_reviews[0][1]
    fast = explain_arrays(predictor, text)
    with figures.onednn(False):
        plain = explain_arrays(predictor, text)
    for a, b in zip(fast, plain):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="this torch build has no oneDNN")
def test_lstm_on_unpacked_input_takes_the_onednn_kernel(predictor):
    ids = torch.tensor([[2, 3, 4, 5]])
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof, torch.inference_mode():
        predictor.model(ids, torch.tensor([4]))
    assert any("mkldnn_rnn" in e.key for e in prof.key_averages())


def test_onednn_training_gradients_agree(prepared):
    model = figures.fresh_model(len(prepared.vocab), "lstm", torch.device("cpu"), **SMALL_MODEL).eval()
    ids, lengths, labels = prepared.train.batch(np.arange(8))

    def gradients():
        model.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(ids, lengths), labels.float()).backward()
        return [p.grad.clone() for p in model.parameters()]

    fast = gradients()
    with figures.onednn(False):
        plain = gradients()
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_thread_count_does_not_change_an_answer(predictor, test_reviews):
    text = test_reviews[0][2]
    with figures.torch_threads(1):
        one = explain_arrays(predictor, text)
    with figures.torch_threads(2):
        two = explain_arrays(predictor, text)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_batched_scoring_agrees_with_one_review_at_a_time(predictor, test_reviews):
    texts = test_reviews[0][:40]
    batched = [p.prob_positive for p in predictor.predict(texts, batch_size=16)]
    single = [predictor.explain(t).prob_positive for t in texts]
    np.testing.assert_allclose(batched, single, rtol=0, atol=1e-6)


# --- the app in its own process, and the command line ------------------------------------------------

STUB_APP = textwrap.dedent("""
    import os

    import gradio as gr

    def predict(text, model="default"):
        with open(os.environ["ASKED_LOG"], "a") as log:
            log.write(text + "\\n")
        return {"tokens": len(text.split()), "model": model}

    with gr.Blocks() as demo:
        text, out = gr.Textbox(), gr.JSON()
        gr.Button().click(predict, text, out, api_name="predict")

    if __name__ == "__main__":
        demo.queue(default_concurrency_limit=4).launch()
""")


def test_app_figures_from_a_running_app(tmp_path, tiny_checkpoint):
    app = tmp_path / "stub_app.py"
    app.write_text(STUB_APP)
    asked = tmp_path / "asked.txt"
    reviews = [f"review number {i}" for i in range(10)]
    with running_app(tiny_checkpoint, app=app, env={"ASKED_LOG": str(asked)}) as running:
        records = app_figures(running, reviews, repeats=3, clients=2, requests_each=2)
    names = [r["name"] for r in records]
    assert names[:5] == ["startup_s", "predict_e2e_p50_ms", "predict_e2e_p95_ms", "predict_e2e_repeat_p50_ms",
                         "predict_e2e_repeat_p95_ms"]
    assert names[5:8] == ["classroom_p50_ms", "classroom_p95_ms", "classroom_requests_per_s"]
    assert records[7]["n"] == 4 and records[1]["reviews"] == records[5]["reviews"] == "distinct"
    assert_well_formed(records, names)
    lines = asked.read_text().splitlines()
    assert lines[:6] == reviews[:6]  # first answer, 2 warm-ups, 3 timed: each a new review
    assert lines[6:11] == [reviews[0]] * 5 and sorted(lines[11:]) == reviews[6:]  # the repeat figure, a classroom
    assert running.process.poll() is not None  # stopped on leaving the block


def test_an_app_without_the_endpoint_is_a_clear_error(tmp_path, tiny_checkpoint):
    app = tmp_path / "no_endpoint.py"
    app.write_text(STUB_APP.replace('api_name="predict"', 'api_name="other"'))
    with running_app(tiny_checkpoint, app=app) as running, pytest.raises(AppError, match="/predict endpoint"):
        app_figures(running, [f"review {i}" for i in range(4)], repeats=1)


def test_predict_pair_reads_each_review_with_both_models_in_turn(tiny_checkpoint, test_reviews):
    reviews = test_reviews[0][:7]
    models, asked = [Predictor.load(tiny_checkpoint) for _ in range(2)], []
    for k, model in enumerate(models):
        explain = model.explain
        model.explain = lambda text, k=k, explain=explain: asked.append((k, text)) or explain(text)
    first, second = figures.predict_model_pair(models[0], models[1], reviews, repeats=5, checkpoint="other")
    # every review read by both before the next; the one going first alternates
    assert asked[:14] == [pair for i, t in enumerate(reviews) for pair in ([(0, t), (1, t)] if i % 2 == 0
                                                                        else [(1, t), (0, t)])]
    assert_well_formed(first, ["predict_model_p50_ms", "predict_model_p95_ms"], "ms")
    assert_well_formed(second, ["predict_model_compare_p50_ms", "predict_model_compare_p95_ms"], "ms")
    assert first[0]["n"] == second[0]["n"] == 5 and second[0]["checkpoint"] == "other"
    assert first[0]["order"] == "interleaved" and first[0]["tokens"] == second[0]["tokens"]
    with pytest.raises(ValueError, match="needs 7 distinct reviews"):
        figures.predict_model_pair(models[0], models[1], reviews[:6], repeats=5)


def test_command_line_prints_json_lines(tiny_archive, tiny_checkpoint):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "predict",
                             "--data", str(tiny_archive), "--checkpoint", str(tiny_checkpoint)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    names = [r["name"] for r in records]
    assert names[0] == "cpu_count" and names[-1] == "benchmark_wall_s"
    assert {"predict_model_p50_ms", "predict_model_p95_ms", "predict_model_1thread_p50_ms", "suggest_edits_p50_ms",
            "predict_model_no_onednn_p50_ms", "inspect_inference_mode_p50_ms"} <= set(names)
    assert all({"name", "value", "unit"} <= set(r) for r in records)


def test_command_line_refuses_a_missing_checkpoint(tiny_archive, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--only", "predict",
                             "--data", str(tiny_archive), "--checkpoint", str(tmp_path / "nothing")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Pass --checkpoint DIR" in result.stderr


def test_int8_reviews_are_held_out_even_for_a_checkpoint_trained_on_every_review(prepared):
    """A checkpoint trained with --val-fraction 0 has no validation split: the experiment uses test reviews."""
    split, name = figures.held_out_reviews(prepared, n=10)
    assert name == "val" and len(split) == min(10, len(prepared.val))
    no_val = dataclasses.replace(prepared, val=prepared.val.subset([]))
    split, name = figures.held_out_reviews(no_val, n=10)
    assert name == "test" and len(split) == 10
    again, _ = figures.held_out_reviews(no_val, n=10)
    assert (again.ids == split.ids).all()  # a seeded sample
    whole, _ = figures.held_out_reviews(no_val, n=None)
    assert whole is prepared.test


def test_suggest_edits_figures_use_distinct_reviews_and_compare_with_the_model(predictor, test_reviews):
    records = figures.suggest_edits_figures(predictor, test_reviews[0][:5], repeats=3, model_p50_ms=2.0)
    assert [r["name"] for r in records] == ["suggest_edits_p50_ms", "suggest_edits_p95_ms",
                                            "suggest_edits_vs_predict_model"]
    assert records[0]["reviews"] == "distinct" and records[2]["value"] == pytest.approx(records[0]["value"] / 2.0, rel=1e-3)


def test_payload_is_the_answer_as_sent_over_http(tiny_checkpoint):
    from benchmarks.app_server import first_answer, payload_bytes
    with running_app(tiny_checkpoint) as app:
        first_answer(app, "A fine film.")
        short, long = payload_bytes(app.url, "A fine film."), payload_bytes(app.url, "A fine film. " * 30)
    assert 1_000 < short < long  # every view of the review, growing with its length


def test_explain_parts_add_up_and_compare_two_models(tiny_checkpoint, tiny_archive, capsys):
    from benchmarks import explain_parts
    assert explain_parts.main(["--checkpoint", str(tiny_checkpoint), "--compare", str(tiny_checkpoint),
                               "--tokens", "30", "--repeats", "4", "--data", str(tiny_archive)]) == 0
    *models, ratio = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(models) == 2 and models[0]["tokens_p50"] == models[1]["tokens_p50"] and models[0]["reviews"] == 4
    for m in models:
        assert len(m["layers_p50_ms"]) == 2 and m["explain_p50_ms"] > 0 and m["tokenize_p50_ms"] > 0
        assert m["recurrent_weight_bytes_per_layer"] > 0
    assert ratio["explain_ratio"] > 0 and ratio["layers_ratio"] > 0


def test_explain_parts_in_passes_of_several_reviews(tiny_checkpoint, tiny_archive, capsys):
    from benchmarks import explain_parts
    assert explain_parts.main(["--checkpoint", str(tiny_checkpoint), "--compare", "", "--tokens", "30",
                               "--repeats", "3", "--batch", "3", "--passes", "2", "--data", str(tiny_archive)]) == 0
    alone, shares = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # one model: no ratio line
    assert shares["batch"] == 3 and shares["reviews"] == 6 and shares["explain_many_ms_per_review"] > 0
    assert shares["layers_ms_per_review"] > 0 and shares["tokenize_ms_per_review"] > 0
    assert shares["alone_over_in_pass"] == round(alone["explain_p50_ms"] / shares["explain_many_ms_per_review"], 2)


def test_explain_parts_compares_the_thread_that_reads(tiny_checkpoint, tiny_archive, capsys):
    from benchmarks import explain_parts
    assert explain_parts.main(["--checkpoint", str(tiny_checkpoint), "--tokens", "30", "--repeats", "3",
                               "--data", str(tiny_archive), "--threads-compared"]) == 0
    *cases, ratios = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c["thread_case"] for c in cases] == ["only", "second", "app"]  # each in a fresh process
    assert all(c["explain_p50_ms"] > 0 and c["reviews"] == 3 and c["checkpoint"] == tiny_checkpoint.name for c in cases)
    assert ratios["only_over_only"] == 1.0
    assert ratios["second_over_only"] == round(cases[1]["explain_p50_ms"] / cases[0]["explain_p50_ms"], 2)


def test_compare_code_times_two_checkouts_and_compares_their_answers(tiny_checkpoint, tiny_archive, capsys):
    from benchmarks import compare_code
    root = str(Path(compare_code.__file__).resolve().parents[1])
    assert compare_code.main(["--before", root, "--checkpoint", str(tiny_checkpoint), "--data", str(tiny_archive),
                              "--reviews", "8", "--searches", "2", "--rounds", "1", "--pass-size", "3", "--parts",
                              "--whitespace-splits", "10"]) == 0
    before, after, answers, splits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (before["side"], after["side"]) == ("before", "after")
    for side in (before, after):
        assert side["explain_p50_ms"] > 0 and side["explain_many_ms_per_review"] > 0 and side["suggest_edits_p50_ms"] > 0
    assert before["parts_ms_per_search"] is None and after["parts_ms_per_search"]["continuation_logits"] > 0
    assert answers["reviews"] == 6 and answers["searches"] == 2 and answers["same_suggested_texts"]
    assert answers["running_max_diff"] == 0 and answers["suggestion_prob_max_diff"] == 0  # the same code twice
    assert splits == {"whitespace_splits": 10, "differ": 0}
