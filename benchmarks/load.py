"""A class of clients asking the app at once, from a process of its own (so its own work does not count
as the server's, and the server's threads do not slow the clients).

    python -m benchmarks.load --url http://127.0.0.1:7860/ --clients 20 --requests 10 --reviews reviews.json

``reviews.json`` is a list of texts, at least clients x requests of them: every request is a review no
one asked before. Prints one JSON object: n, errors, p50_ms, p95_ms, requests_per_s, wall_s.
``--mixed`` cycles through /predict, /unit, /step, /path and /compare instead of /predict alone.
``--client json`` asks the app's plain JSON API (``POST /api/predict``) instead of Gradio's.

Each client speaks Gradio's HTTP API (POST the inputs, then read the answer's event stream: what
``curl`` or a thin client does). ``--client gradio`` uses ``gradio_client`` instead, which on a small
machine costs the clients more CPU than the server spends answering (see the README's Reliability).
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
import uuid

import numpy as np
from gradio_client import Client

ENDPOINTS = {  # what a user's page asks, with the arguments it sends
    "/predict": lambda text: (text,),
    "/unit": lambda text: (text, "default", 2, -1),
    "/step": lambda text: (text, "default", 3),
    "/path": lambda text: (text, "default", ""),
    "/compare": lambda text: (text, "default", "default"),
}


def run_all(threads: list) -> float:
    """Start every thread, wait for all: the wall-clock seconds they took together."""
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


class HttpClient:
    """One user of the app through Gradio's HTTP API: the endpoint's declared defaults fill the inputs not given.

    A user keeps one session for all their requests, as a browser page does (a request without one would
    make the server keep a new session's state each time, up to ``SENTIMENT_SESSIONS`` of them)."""

    def __init__(self, url: str, defaults: dict[str, list]):
        self.url, self.defaults, self.session = url.rstrip("/"), defaults, uuid.uuid4().hex

    def predict(self, *args, api_name: str):
        data = list(args) + self.defaults[api_name][len(args):]
        body = {"data": data, "session_hash": self.session}
        request = urllib.request.Request(f"{self.url}/gradio_api/call{api_name}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{self.url}/gradio_api/call{api_name}/{event_id}", timeout=300) as response:
            body = response.read()
        if b"event: complete" not in body:
            raise RuntimeError(f"{api_name} did not complete: {body[:200]!r}")
        return body


class JsonClient:
    """One user of the app's plain JSON API (``POST /api/predict``): one request, one answer."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def predict(self, text: str, *_, api_name: str = "/predict"):
        request = urllib.request.Request(f"{self.url}/api/predict", data=json.dumps({"text": text}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())


def endpoint_defaults(url: str, names=tuple(ENDPOINTS)) -> dict[str, list]:
    """Each endpoint's declared input defaults, read once from the app."""
    api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
    return {name: [p.get("parameter_default") for p in api[name]["parameters"]] for name in names}


def load(url: str, reviews: list[str], clients: int, requests: int, mixed: bool = False, client: str = "http") -> dict:
    if len(reviews) < clients * requests:
        raise SystemExit(f"{clients} x {requests} requests need that many distinct reviews; got {len(reviews)}")
    if client == "gradio":
        connections = [Client(url, verbose=False) for _ in range(clients)]
    elif client == "json":
        if mixed:
            raise SystemExit("--mixed asks the page's endpoints; the JSON API has /api/predict alone")
        connections = [JsonClient(url) for _ in range(clients)]
    else:
        defaults = endpoint_defaults(url)
        connections = [HttpClient(url, defaults) for _ in range(clients)]
    seconds, starts, errors, lock = [], [], [], threading.Lock()
    names = list(ENDPOINTS) if mixed else ["/predict"]

    def user(k: int) -> None:
        for i in range(requests):
            text = reviews[k * requests + i]
            name = names[(k + i) % len(names)]
            start, began = time.perf_counter(), time.time()
            try:
                connections[k].predict(*ENDPOINTS[name](text), api_name=name)
            except Exception as err:  # noqa: BLE001 - any failure is what this counts
                with lock:
                    errors.append(f"{name}: {type(err).__name__}: {err}"[:200])
                continue
            with lock:
                seconds.append(time.perf_counter() - start)
                starts.append(round(began, 3))

    threads = [threading.Thread(target=user, args=(k,)) for k in range(clients)]
    wall = run_all(threads)
    ms = np.asarray(seconds) * 1000 if seconds else np.asarray([np.nan])
    return {"n": len(seconds), "errors": len(errors), "first_error": errors[0] if errors else None,
            "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "requests_per_s": len(seconds) / wall, "wall_s": wall, "clients": clients, "requests_each": requests,
            "client": client, "starts": starts, "ms": [round(float(x), 1) for x in np.asarray(seconds) * 1000]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--reviews", required=True, help="a JSON file: a list of review texts")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=10, help="requests each client makes, one after another")
    p.add_argument("--mixed", action="store_true", help="cycle through the page's endpoints, not /predict alone")
    p.add_argument("--client", choices=("http", "gradio", "json"), default="http",
                   help="Gradio's HTTP API (default), gradio_client, or the app's plain JSON API (/api/predict)")
    args = p.parse_args(argv)
    with open(args.reviews, encoding="utf-8") as f:
        reviews = json.load(f)
    print(json.dumps(load(args.url, reviews, args.clients, args.requests, args.mixed, args.client)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
