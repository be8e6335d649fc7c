"""Keep a long-running app's resident memory flat: glibc's malloc, set up for a server of many threads.

    memory.set_up()   # once, before the server starts its threads

Gradio answers requests on a pool of threads, and glibc gives each thread that allocates at once an arena
of its own (up to 8 per core), each keeping the memory it freed. On a 2-core host that made the app's
resident memory creep under a class of users. Two arenas, and handing freed pages back to the system
every ``TRIM_SECONDS``, keep it near what is in use (``python benchmarks/run.py --only reliability``:
``rss_after_200_mb`` against ``rss_after_1000_mb``). Elsewhere than glibc (macOS, musl) this does nothing.

A host's own ``MALLOC_ARENA_MAX`` is left as it is.

Python's own collector is set up too: the app starts with some 430,000 objects (Gradio, spaCy, plotly,
torch), and a full collection that walks them all holds the interpreter for about 0.4 s on a small CPU,
stalling every request in flight. ``gc.freeze()`` once the app is built moves them out of the collector's
reach (they live as long as the app), so later collections walk only what requests made.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time

ARENAS = 2
TRIM_SECONDS = 10.0
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h

_started = threading.Event()


def _glibc():
    """glibc's malloc functions, or None on another C library."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def trim() -> bool:
    """Hand freed heap back to the system now (glibc); False elsewhere, or when there was none to give."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))


def _trim_forever(libc, every: float) -> None:
    while True:
        time.sleep(every)
        libc.malloc_trim(0)  # returns 1 if it gave memory back


def freeze_startup() -> int:
    """Collect once, then keep the objects alive now out of every later collection; their number."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def set_up(arenas: int = ARENAS, every: float = TRIM_SECONDS, freeze: bool = True) -> bool:
    """Freeze the objects made while the app was built (``freeze_startup``, unless ``freeze`` is False); limit
    malloc to ``arenas`` arenas (unless the host set MALLOC_ARENA_MAX) and trim every ``every`` seconds in a
    daemon thread. Once per process; False where there is no glibc (the collector is set up all the same)."""
    if freeze:
        freeze_startup()
    libc = _glibc()
    if libc is None:
        return False
    if "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(M_ARENA_MAX, arenas)
    if not _started.is_set():
        _started.set()
        threading.Thread(target=_trim_forever, args=(libc, every), name="malloc-trim", daemon=True).start()
    return True
