"""The app's model work, on one thread.

    from sentiment.ui import compute
    explanation = compute.run(predictor.explain, text)     # from any request's thread

Why one thread: torch computes on CPU with OpenMP, and every thread that calls into torch gets its own
team of OpenMP threads. Gradio answers requests on a pool of threads, so the app used to hold several
teams. Once a process holds more OpenMP threads than it has cores, GNU OpenMP stops spinning at the
end of each parallel step and puts its threads to sleep instead (its "throttled" spin count). An
LSTM reads a review in hundreds of small parallel steps, one per token and layer, so each step then
paid for waking threads up. `python benchmarks/explain_parts.py --threads-compared` measures it: the
same review read on a second thread took 3.3x as long as on the only one (docs/experiments.md).

So every request that reads a review runs its model work here, one at a time, with the host's torch
threads (``OMP_NUM_THREADS``, else one per core); ``one_team()``, called once as the app starts, gives
every other thread one, so that no other thread starts a team (a Train-tab run computes on one thread
too). A function already on this thread runs at once, so nesting is safe.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import torch

T = TypeVar("T")

_threads = torch.get_num_threads()  # as the host set them (OMP_NUM_THREADS), read before any change
_thread: threading.Thread | None = None  # the model thread, once the executor has started it


def threads() -> int:
    """The torch threads the host gave the process: what model work computes with."""
    return _threads


def one_team() -> None:
    """From the app's first thread, before any model work: every thread but the model thread (a Train-tab
    run's included) computes on one torch thread, so the process keeps one OpenMP team."""
    torch.set_num_threads(1)  # threads started from now on inherit it


def _set_up() -> None:
    global _thread
    _thread = threading.current_thread()
    torch.set_num_threads(_threads)


_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model", initializer=_set_up)  # starts at the first run


def on_compute_thread() -> bool:
    return threading.current_thread() is _thread


def run(fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(*args, **kwargs)`` on the model thread; its result, or its exception raised here."""
    if on_compute_thread():
        return fn(*args, **kwargs)
    return _executor.submit(fn, *args, **kwargs).result()
