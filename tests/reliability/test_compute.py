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
