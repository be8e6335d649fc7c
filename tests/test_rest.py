"""The plain JSON API (POST /api/predict, GET /api/models): answers equal to the Predictor's, every bad
request a JSON error with a status that says which, and requests answered together each get their own."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sentiment.predict import Predictor
from sentiment.ui import rest


@pytest.fixture(scope="module")
def api(app_env):
    with TestClient(Starlette(routes=rest.ROUTES)) as client:
        yield client


def test_a_review_gets_its_label_tokens_and_running_prediction(api, app_env):
    answer = api.post("/api/predict", json={"text": "The acting was great, the plot was not dull."})
    assert answer.status_code == 200
    body = answer.json()
    e = Predictor.load(f"{app_env['SENTIMENT_CHECKPOINTS']}/default").explain("The acting was great, the plot was not dull.")
    assert body["model"] == "default" and body["label"] == e.label and body["tokens"] == e.tokens
    assert body["prob_positive"] == pytest.approx(e.prob_positive, abs=1e-4)
    assert np.allclose(body["running_prob_positive"], e.running_probs, atol=1e-4)
    assert body["running_prob_positive"][-1] == body["prob_positive"]
    assert body["n_tokens"] == len(e.tokens) and body["truncated"] is False and "hidden_states" not in body


def test_states_on_request_and_another_model(api, app_env):
    body = api.post("/api/predict", json={"text": "Not bad at all.", "model": "rnn", "states": True}).json()
    rnn = Predictor.load(f"{app_env['SENTIMENT_CHECKPOINTS']}/rnn")
    states = np.asarray(body["hidden_states"])  # (layers, tokens, units)
    assert body["model"] == "rnn"
    assert states.shape == (rnn.model_config.num_layers, len(body["tokens"]), rnn.model_config.hidden_size)
    assert np.allclose(states, rnn.explain("Not bad at all.").hidden_states, atol=2e-3)


def test_models_lists_the_shipped_ones(api):
    assert api.get("/api/models").json()["models"][:2] == ["default", "rnn"]


@pytest.mark.parametrize("body, status, words", [
    (b'{"text": ""}', 422, "empty"),
    (b'{"text": "  \\u0000\\u0007 "}', 422, "empty"),  # control bytes only: nothing left once cleaned
    (b'{"text": "<br /><br />"}', 422, "no words"),  # tags only: nothing the model reads
    (b"not json", 400, "JSON"),
    (b"\xff\xfe{bad bytes", 400, "UTF-8"),
    (b'["a list"]', 400, '"text"'),
    (b'{"text": 5}', 400, '"text"'),
    (b'{"text": "fine", "model": 3}', 400, "/api/models"),
    (b'{"text": "fine", "model": "../default"}', 404, "No model named"),
])
def test_a_bad_request_gets_a_json_error_saying_what_is_wrong(api, body, status, words):
    answer = api.post("/api/predict", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]


def test_odd_characters_are_read_not_refused(api):
    body = json.dumps({"text": "Great film \ud83c\udfac, lone \ud800 surrogate, caf\u00e9."})
    answer = api.post("/api/predict", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and "café" in answer.json()["tokens"]


def test_a_huge_body_is_refused_before_it_is_read(api):
    answer = api.post("/api/predict", content=b'{"text": "' + b"a " * rest.MAX_BODY + b'"}')
    assert answer.status_code == 413 and "at most" in answer.json()["error"]
    long = "A good film. " * 20_000  # 260,000 characters: under the body limit, cut to what the model reads
    assert api.post("/api/predict", json={"text": long}).json()["truncated"] is True


def test_requests_answered_together_each_get_their_own_answer(api):
    texts = [f"Review {i}: {'a wonderful, moving film' if i % 2 else 'dull and far too long'}." * (1 + i % 4)
             for i in range(12)]
    alone = {t: api.post("/api/predict", json={"text": t}).json() for t in texts}
    together, start = {}, threading.Barrier(len(texts))

    def ask(text):
        start.wait()
        together[text] = api.post("/api/predict", json={"text": text}).json()

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for text in texts:
        assert together[text]["tokens"] == alone[text]["tokens"]
        assert together[text]["prob_positive"] == pytest.approx(alone[text]["prob_positive"], abs=2e-4)


def test_too_many_waiting_is_refused_with_503():
    with pytest.raises(rest.ApiError) as refused:
        rest.Batcher(max_batch=4, max_waiting=0).submit("default", "text", False)
    assert refused.value.status == 503 and "Too busy" in refused.value.message


def test_an_unreadable_model_is_a_500_with_a_reason_and_the_worker_goes_on(api, monkeypatch):
    from sentiment.checkpoint import CheckpointError

    def broken(name):
        raise CheckpointError("model.safetensors does not match its sha256 in config.json")

    with monkeypatch.context() as patch:
        patch.setattr(rest, "get_predictor", broken)
        answer = api.post("/api/predict", json={"text": "A fine film."})
    assert answer.status_code == 500 and "cannot be read" in answer.json()["error"] and "sha256" in answer.json()["error"]
    assert api.post("/api/predict", json={"text": "A fine film."}).status_code == 200  # the next request is answered
