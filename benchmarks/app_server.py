"""The app as users meet it: ``python app.py`` in its own process, asked through ``gradio_client``.

    with running_app("checkpoints/default") as app:
        records = app_figures(app, review_text, repeats=50)
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gradio_client import Client
from gradio_client.exceptions import AppError as ClientAppError

from .figures import latency_records, record, time_calls, time_each
from .load import HttpClient, endpoint_defaults, run_all

ROOT = Path(__file__).resolve().parent.parent
API_NAME = "/predict"  # the predict tab's endpoint: review text first, every other input left at its default


class AppError(RuntimeError):
    """The app did not start, or did not answer; the message says what happened and where its log is."""


@dataclass
class RunningApp:
    process: subprocess.Popen
    url: str
    started: float  # time.perf_counter() just before the process was started
    log: Path  # the app's stdout and stderr

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(checkpoint, data=None, app: Path = ROOT / "app.py", env: dict | None = None):
    """Start ``python app.py`` serving a copy of ``checkpoint`` as "default" on a free port; stop it after.

    The app gets its own checkpoints and runs folders, so it serves exactly the model measured
    (a checkpoint still being trained is copied once, not read while it is rewritten). ``env`` adds
    to the app's environment (``{"OMP_NUM_THREADS": "1"}`` gives torch one thread).
    """
    workdir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    shutil.copytree(checkpoint, workdir / "checkpoints" / "default", ignore=shutil.ignore_patterns("resume"))
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1",
           "SENTIMENT_CHECKPOINTS": str(workdir / "checkpoints"), "SENTIMENT_RUNS": str(workdir / "runs"),
           **(env or {})}
    if data:
        env["IMDB_DATA"] = str(data)
    log = workdir / "app.log"
    with open(log, "wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(app)], cwd=app.parent, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    try:
        yield RunningApp(process, f"http://127.0.0.1:{port}/", started, log)
    finally:
        stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C, as a user would; then terminate, then kill, if it does not go."""
    for send, wait in ((lambda: process.send_signal(signal.SIGINT), 10), (process.terminate, 5), (process.kill, 5)):
        if process.poll() is not None:
            return
        send()
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def ask(client: Client, text: str):
    try:
        return client.predict(text, api_name=API_NAME)
    except (ValueError, ClientAppError) as err:  # ValueError: no such endpoint; AppError: the handler failed
        raise AppError(f"the app's {API_NAME} endpoint did not answer: {err}") from None


def payload_bytes(url: str, text: str) -> int:
    """Bytes of the app's answer to one /predict request, as the browser receives it: Gradio's two-step
    HTTP API (POST the inputs, then read the result's event stream). Inputs after the text take the
    defaults the app declares."""
    try:
        return len(HttpClient(url, endpoint_defaults(url, [API_NAME])).predict(text, api_name=API_NAME))
    except RuntimeError as err:
        raise AppError(f"the app's {API_NAME} endpoint did not complete: {err}") from None


CHROMIUM = "/usr/bin/chromium"


def browser_views_ms(url: str, texts: list[str]) -> list[float]:
    """Milliseconds from pressing Predict to every view drawn (the notice names the review's length, the
    line and the heatmap are plotted), seen from headless chromium, for each of ``texts``."""
    from playwright.sync_api import sync_playwright
    seconds = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_label("Update as I type").uncheck()  # only the button runs a prediction
        for text in texts:
            page.locator("#review textarea").fill(text)
            page.wait_for_function("() => document.querySelector('#notice').innerText.includes('press Predict')")
            start = time.perf_counter()
            page.get_by_role("button", name="Predict", exact=True).click()
            page.wait_for_function(
                "() => document.querySelector('#notice').innerText.includes('P(positive) =') && "
                "document.querySelectorAll('.js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm').length > 0",
                timeout=60_000)
            seconds.append(time.perf_counter() - start)
        browser.close()
    return [s * 1000 for s in seconds]


def first_answer(app: RunningApp, text: str, timeout: float = 120) -> tuple[Client, float]:
    """Wait for the page, then ask once: (client, seconds from starting the process to that answer)."""
    deadline = app.started + timeout
    while True:
        if app.process.poll() is not None:
            raise AppError(f"app.py exited with code {app.process.returncode} before answering. "
                           f"Its last lines ({app.log}):\n{app.log_tail()}")
        if time.perf_counter() > deadline:
            raise AppError(f"app.py did not serve {app.url} within {timeout:.0f} s. Its last lines:\n{app.log_tail()}")
        try:
            with urllib.request.urlopen(app.url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:  # not listening yet
            time.sleep(0.05)
    client = Client(app.url, verbose=False)
    ask(client, text)
    return client, time.perf_counter() - app.started


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process now (VmRSS) and at its peak (VmHWM), from Linux's /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB -> MiB
    return fields


def classroom(url: str, texts: list[str], clients: int, requests_each: int, variant: str = "") -> list[dict]:
    """``clients`` students at once, each asking ``requests_each`` times in a row, every request a review
    no one asked before (``texts`` holds clients * requests_each of them): latency and throughput."""
    if len(texts) < clients * requests_each:
        raise ValueError(f"a classroom of {clients} x {requests_each} needs that many distinct reviews; got {len(texts)}")
    connections = [Client(url, verbose=False) for _ in range(clients)]
    seconds: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def student(client: Client, mine: list[str]):
        try:
            taken = time_each(lambda text: ask(client, text), mine, warmup=0)
        except AppError as err:
            errors.append(err)
            return
        with lock:
            seconds.extend(taken)

    threads = [threading.Thread(target=student, args=(c, texts[i * requests_each:(i + 1) * requests_each]))
               for i, c in enumerate(connections)]
    wall = run_all(threads)
    if errors:
        raise errors[0]
    return latency_records(f"classroom{variant}", seconds, clients=clients, reviews="distinct") + [
        record(f"classroom{variant}_requests_per_s", len(seconds) / wall, "requests/s", clients=clients,
               n=len(seconds), reviews="distinct")]


def app_figures(app: RunningApp, texts: list[str], repeats: int, clients: int = 0, requests_each: int = 3,
                variant: str = "", payload_texts: dict[int, str] | None = None) -> list[dict]:
    """startup_s, predict_e2e p50/p95 on distinct reviews, predict_e2e_repeat (one review asked again and
    again: the app's cache of recent answers, as when a user picks units of the same review), the app's
    memory after warm-up, the size of the answer for each of ``payload_texts`` ({tokens: review}), and
    (with ``clients``) a classroom. ``texts``: distinct reviews, at least repeats + 3 + clients *
    requests_each of them.

    ``variant`` ("_1thread") goes into every figure's name, for an app started with other settings.
    """
    needed = repeats + 3 + clients * requests_each
    if len(texts) < needed:
        raise ValueError(f"app_figures needs {needed} distinct reviews; got {len(texts)}")
    client, startup = first_answer(app, texts[0])
    records = [record(f"startup{variant}_s", startup, "s",
                      note="from starting `python app.py` to the first answered request")]
    records += latency_records(f"predict_e2e{variant}", time_each(lambda text: ask(client, text),
                                                                  texts[1:repeats + 3]),
                               endpoint=API_NAME, reviews="distinct",
                               note="gradio_client round trip, every view included, a new review each time")
    records += latency_records(f"predict_e2e{variant}_repeat", time_calls(lambda: ask(client, texts[0]), repeats),
                               endpoint=API_NAME, reviews="one, repeated",
                               note="the same review again: answered from the app's cache of recent reviews")
    for size, text in (payload_texts or {}).items():
        records.append(record(f"predict_payload{variant}_kb_{size}", payload_bytes(app.url, text) / 1000, "KB",
                              note=f"the /predict answer for a {size}-token review, as sent over HTTP"))
    if payload_texts and Path(CHROMIUM).exists():
        for size, text in payload_texts.items():  # the first is a warm-up of the page's plots
            taken = browser_views_ms(app.url, [text + " Once more.", text])[1:]
            records.append(record(f"browser_views{variant}_ms_{size}", taken[0], "ms",
                                  note=f"Predict pressed to every view drawn, headless chromium, {size}-token review"))
    if clients:
        records += classroom(app.url, texts[repeats + 3:needed], clients, requests_each, variant)
    if Path(f"/proc/{app.process.pid}").exists():
        mem = memory_mb(app.process.pid)
        records += [record(f"app{variant}_rss_mb", mem["VmRSS"], "MiB",
                           note="resident memory of the app process after warm-up"),
                    record(f"app{variant}_peak_rss_mb", mem["VmHWM"], "MiB",
                           note="peak resident memory of the app process")]
    return records
