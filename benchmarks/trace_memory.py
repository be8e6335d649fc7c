"""What the app's Python objects keep over many requests: the app in this process, Python's ``tracemalloc`` on
after a warm-up, and the allocations still held after a run of mixed requests, by file and by call stack.

    python benchmarks/trace_memory.py [--warm 300] [--requests 600] [--sessions 10] [--top 8]   # multiples of 10

Mixed requests (/predict, /unit, /step, /path, /compare) from 10 clients in a process of their own, each a
distinct test review. ``tracemalloc`` sees what Python and C extensions allocate through Python's allocator
(spaCy's vocabulary included), not torch's or glibc's own heaps. The JSON line's ``rss_growth_mb`` holds the
tracer's own growth (``tracer_growth_mb``, its record of every block) too; less both, it is what it cannot see. Tracing slows the app about 5x: 600 requests take ~7 minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.app_server import ROOT, free_port, memory_mb  # noqa: E402
from benchmarks.reliability import run_load  # noqa: E402
from benchmarks.run import default_data  # noqa: E402
from sentiment.ui.memory import TRIM_SECONDS  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--warm", type=int, default=300, help="requests before tracing starts")
    p.add_argument("--requests", type=int, default=600, help="requests traced")
    p.add_argument("--trace-warm", type=int, default=100, help="requests traced but left out of the diff")
    p.add_argument("--sessions", type=int, default=10, help="SENTIMENT_SESSIONS: visitors' page states kept")
    p.add_argument("--top", type=int, default=8, help="call stacks printed")
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"))
    p.add_argument("--data", default=default_data(), help="IMDB archive or folder: its test reviews are asked")
    args = p.parse_args(argv)
    if not args.data:
        p.error("no IMDB data: pass --data (the archive or an extracted aclImdb/ folder)")
    work = Path(tempfile.mkdtemp(prefix="trace-memory-"))
    shutil.copytree(args.checkpoint, work / "checkpoints" / "default", ignore=shutil.ignore_patterns("resume"))
    os.environ.update(SENTIMENT_CHECKPOINTS=str(work / "checkpoints"), SENTIMENT_RUNS=str(work / "runs"),
                      SENTIMENT_SESSIONS=str(args.sessions), GRADIO_ANALYTICS_ENABLED="False")
    import app  # the app as `python app.py` serves it, in this process so that tracemalloc sees it
    port = free_port()
    app.serve(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    from sentiment.data import read_reviews
    need = args.warm + args.trace_warm + args.requests
    reviews = [r.text for r in read_reviews(args.data)["test"]][:need]
    if len(reviews) < need:
        p.error(f"{need} distinct test reviews needed; {args.data} has {len(reviews)}")
    warm, settle, traced = reviews[:args.warm], reviews[args.warm:args.warm + args.trace_warm], reviews[-args.requests:]
    run_load(url, warm, 10, args.warm // 10, mixed=True)
    tracemalloc.start(8)
    run_load(url, settle, 10, args.trace_warm // 10, mixed=True)  # the tracer's own first allocations, outside the diff
    before, rss_before, tracer_before = tracemalloc.take_snapshot(), memory_mb(os.getpid())["VmRSS"], tracemalloc.get_tracemalloc_memory()
    start = time.perf_counter()
    result = run_load(url, traced, 10, args.requests // 10, mixed=True)
    time.sleep(TRIM_SECONDS + 1)  # the app's malloc trim runs before RSS is read
    after, rss_after, tracer_after = tracemalloc.take_snapshot(), memory_mb(os.getpid())["VmRSS"], tracemalloc.get_tracemalloc_memory()
    size = lambda snapshot: sum(s.size for s in snapshot.statistics("filename")) / 2**20
    by_file = [{"file": s.traceback[0].filename.replace(str(ROOT) + "/", ""), "mb": round(s.size_diff / 2**20, 3),
                "blocks": s.count_diff} for s in after.compare_to(before, "filename")[:args.top]]
    print(json.dumps({"requests": result["n"], "errors": result["errors"], "seconds": round(time.perf_counter() - start),
                      "rss_growth_mb": round(rss_after - rss_before, 1), "traced_growth_mb": round(size(after) - size(before), 2),
                      "tracer_growth_mb": round((tracer_after - tracer_before) / 2**20, 1),
                      "by_file": by_file}), flush=True)
    for s in after.compare_to(before, "traceback")[:args.top]:
        print(f"{s.size_diff / 2**20:.3f} MiB in {s.count_diff} blocks:\n  " + "\n  ".join(s.traceback.format()[-10:]))
    os._exit(0)  # the app's server threads would keep the process alive


if __name__ == "__main__":
    sys.exit(main())
