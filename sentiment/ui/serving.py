"""Serving first: a Train-tab run gives way while the app answers requests.

Training and answering share the CPU (2 cores on a small host). Every request handler that reads a
review runs inside ``request()``; the training loop calls ``give_way()`` between batches, which waits
while requests are being answered (at most ``MAX_WAIT`` seconds a batch, so training still moves on
under a steady load). Measured by ``python benchmarks/run.py --only reliability``.
"""
from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager

from . import compute

# seconds a training batch waits for the requests being answered. With the 2 x 256 default under a class of
# 20, 0.5 let training take a quarter of its alone speed and raised predict p95 1.58x; 1.0 raised it 1.19x
# (one run each of runs like `--only reliability`'s; training still moves on, about 5x slower)
MAX_WAIT = 1.0

_in_flight = 0
_changed = threading.Condition()


@contextmanager
def request():
    global _in_flight
    with _changed:
        _in_flight += 1
    try:
        yield
    finally:
        with _changed:
            _in_flight -= 1
            _changed.notify_all()


def tracked(fn, on_model_thread: bool = True):
    """``fn`` run inside ``request()``: the training loop gives way while it runs. ``on_model_thread``: run
    it on the app's model thread (``compute``); False for a handler that sends its model work there itself."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with request():
            return compute.run(fn, *args, **kwargs) if on_model_thread else fn(*args, **kwargs)
    return wrapper


def in_flight() -> int:
    return _in_flight


def give_way(max_wait: float = MAX_WAIT) -> None:
    """Wait until no request is being answered, or ``max_wait`` seconds. ``SENTIMENT_SERVING_FIRST=off``
    turns this off (the benchmark measures both ways)."""
    if os.environ.get("SENTIMENT_SERVING_FIRST", "on").strip().lower() == "off":
        return
    with _changed:
        _changed.wait_for(lambda: _in_flight == 0, timeout=max_wait)
