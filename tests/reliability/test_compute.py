"""All of the app's model work runs on one thread (sentiment/ui/compute.py), so the process keeps one OpenMP
team; `python benchmarks/explain_parts.py --threads-compared` measures why."""
from __future__ import annotations

import threading

import pytest
import torch

from sentiment.ui import compute, serving
from sentiment.ui.models import get_predictor


def where() -> str:
    return threading.current_thread().name


def test_work_runs_on_the_model_thread_with_the_hosts_torch_threads():
    name, threads = compute.run(lambda: (where(), torch.get_num_threads()))
    assert name.startswith("model") and name != where()
    assert threads == compute.threads()
    assert compute.run(lambda: compute.run(where)) == name  # nested: runs at once, no deadlock
    with pytest.raises(ZeroDivisionError):  # raised where it was asked
        compute.run(lambda: 1 / 0)
    assert compute.run(where) == name  # and the thread lives on


def test_request_handlers_run_there_unless_they_send_their_own_work():
    seen = []
    handler = serving.tracked(lambda text: seen.append((where(), serving.in_flight(), text)) or text.upper())
    assert handler("not bad") == "NOT BAD"
    assert seen[0][0].startswith("model") and seen[0][1] == 1 and seen[0][2] == "not bad"
    assert serving.tracked(lambda: where(), on_model_thread=False)() == where()  # e.g. a file labelled chunk by chunk


def test_a_model_is_loaded_on_the_model_thread_from_any_thread(tiny_checkpoint, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CHECKPOINTS", str(tiny_checkpoint.parent))
    name = tiny_checkpoint.name
    loaded = {}

    def from_a_request_thread():
        loaded["here"] = get_predictor(name)

    worker = threading.Thread(target=from_a_request_thread)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    # the same Predictor from the model thread itself (the LRU's lock is only ever held there: no deadlock)
    assert compute.run(get_predictor, name) is loaded["here"]
    assert compute.run(lambda: get_predictor(name).explain("Not bad at all.").n_tokens) == 5


def test_the_predict_views_read_on_the_model_thread_and_draw_on_the_requests(tiny_checkpoint, monkeypatch):
    from sentiment.ui import predict_tab
    monkeypatch.setenv("SENTIMENT_CHECKPOINTS", str(tiny_checkpoint.parent))
    predictor = get_predictor(tiny_checkpoint.name)
    read, drawn = [], []
    for name in ("explain", "explain_many"):
        real = getattr(predictor, name)
        monkeypatch.setattr(predictor, name, lambda *a, _real=real, **k: read.append(where()) or _real(*a, **k))
    real_heatmap = predict_tab.plots.hidden_heatmap
    monkeypatch.setattr(predict_tab.plots, "hidden_heatmap", lambda *a: drawn.append(where()) or real_heatmap(*a))
    handler = serving.tracked(predict_tab.predict_batch, on_model_thread=False)  # as the app wires /predict
    views = handler(["a wonderful film , moving", "dull and boring"], [tiny_checkpoint.name] * 2, [1, 1], [0, 0],
                    [False, False])
    assert len(views[0]) == 2 and all(views[4])  # two answers, each with its heatmap
    assert read and all(name.startswith("model") for name in read)
    assert drawn == [where()] * 2
