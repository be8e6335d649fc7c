"""The app's malloc set-up (sentiment/ui/memory.py): freed memory between live blocks, left by many
threads, goes back to the system instead of staying in the process."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sentiment.ui import memory

ROOT = Path(__file__).resolve().parents[2]

FRAGMENT = textwrap.dedent("""
    import sys, threading, time
    from sentiment.ui import memory
    def rss():
        return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024
    if sys.argv[1] == "on":
        memory.set_up(every=0.05)
    base, held = rss(), []
    def work():  # 160 MB in 16 KB blocks from each of 4 threads; every other block stays alive
        blocks = [bytearray(16_000) for _ in range(10_000)]
        held.append(blocks[::2])
    threads = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    time.sleep(0.5)
    print(rss() - base)
""")


def grown_mb(setting: str) -> float:
    out = subprocess.run([sys.executable, "-c", FRAGMENT, setting], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None, reason="glibc's malloc only")
def test_freed_memory_between_live_blocks_goes_back_to_the_system():
    live = 4 * 5_000 * 16_000 / 2**20  # MiB still referenced
    without, with_set_up = grown_mb("off"), grown_mb("on")
    assert without > 1.5 * live  # the freed holes stay in the process...
    assert with_set_up - live < (without - live) / 2  # ...unless they are handed back


def test_set_up_is_harmless_to_call_twice():
    assert memory.set_up() == memory.set_up()


FREEZE = textwrap.dedent("""
    import gc, weakref
    from sentiment.ui import memory
    built = [[i] for i in range(100_000)]  # what building the app leaves alive
    frozen = memory.freeze_startup()
    young = len(gc.get_objects())  # what a collection still walks
    class Node: pass
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle a request leaves behind
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    print(frozen, young, gone() is None)
""")


def test_the_objects_of_the_built_app_are_kept_out_of_later_collections():
    out = subprocess.run([sys.executable, "-c", FREEZE], cwd=ROOT, capture_output=True, text=True, check=True)
    frozen, young, collected = out.stdout.split()
    assert int(frozen) > 100_000 > 10 * int(young)  # a full collection no longer walks the app's objects...
    assert collected == "True"  # ...and still frees what requests leave


def test_trace_memory_prints_what_python_keeps_over_the_requests(tiny_checkpoint, tiny_archive):
    import json
    out = subprocess.run([sys.executable, "benchmarks/trace_memory.py", "--warm", "10", "--trace-warm", "10", "--requests", "20", "--top", "3",
                          "--checkpoint", str(tiny_checkpoint), "--data", str(tiny_archive)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    first, *stacks = out.stdout.split("\n", 1)
    row = json.loads(first)
    assert row["requests"] == 20 and row["errors"] == 0 and len(row["by_file"]) <= 3
    assert "rss_growth_mb" in row and "traced_growth_mb" in row and "tracer_growth_mb" in row and "MiB in" in stacks[0]
