"""Full collections of Python's collector inside the app during the class load, with or without the app's
freeze of the objects it was built with (``sentiment/ui/memory.py``).

    python benchmarks/gc_pauses.py on     # the app as served: built objects frozen
    python benchmarks/gc_pauses.py off    # without the freeze

The app runs in this process, as ``app.serve()`` sets it up (so ``gc.callbacks`` can time each full
collection), on a free port; the clients run in their own process (``benchmarks/load.py``). Prints one JSON line: the number of full
collections, each one's milliseconds, and the load's p95 and requests per second.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `app` and `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("on", "off"):
        raise SystemExit("usage: python benchmarks/gc_pauses.py on|off [clients] [requests]")
    clients = int(args[1]) if len(args) > 1 else 20
    requests = int(args[2]) if len(args) > 2 else 30
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import app
    from benchmarks.app_server import free_port
    from benchmarks.figures import pick_reviews
    from benchmarks.reliability import run_load
    from benchmarks.run import default_data
    from sentiment.data import read_reviews
    if default_data() is None:
        raise SystemExit("no IMDB data: set IMDB_DATA to the archive or an extracted aclImdb/ folder")
    pauses, started = [], {}

    def timed(phase, info):
        if info["generation"] == 2:
            if phase == "start":
                started["t"] = time.perf_counter()
            else:
                pauses.append((time.perf_counter() - started["t"]) * 1000)

    gc.callbacks.append(timed)
    port = free_port()
    app.serve(freeze=args[0] == "on", prevent_thread_lock=True, server_port=port, server_name="127.0.0.1")
    reviews = pick_reviews([r.text for r in read_reviews(default_data())["test"]], clients * requests)
    pauses.clear()  # only the load's
    result = run_load(f"http://127.0.0.1:{port}/", reviews, clients, requests)
    print(json.dumps({"freeze": args[0], "full_collections": len(pauses), "ms": [round(p) for p in pauses],
                      "load_p95_ms": round(result["p95_ms"]), "load_requests_per_s": round(result["requests_per_s"], 1),
                      "load_errors": result["errors"]}), flush=True)
    os._exit(0)  # the server's threads would keep the process alive


if __name__ == "__main__":
    sys.exit(main())
