"""A plain JSON API beside Gradio's: one HTTP request, one JSON answer.

    curl -s localhost:7860/api/predict -H 'Content-Type: application/json' -d '{"text": "Not bad at all."}'
    curl -s localhost:7860/api/models

``POST /api/predict`` takes ``{"text": ..., "model": "default", "states": false}`` and answers the label,
P(positive), the tokens read and P(positive) after each of them (what the Predict tab draws), and which tokens
were read as the word they misspell (``misspelled``: position and the token as written); with
``"states": true`` also every layer's hidden state at every token, (layers, tokens, units). Gradio's own
API (``/gradio_api/call/predict``) takes two requests (join the queue, then read an event stream) and
answers the page's views; this path answers the numbers alone, for scripts and notebooks, and costs the
server far less per request (``python benchmarks/run.py --only reliability`` measures both).

Requests waiting together are answered by one worker thread in one padded forward pass
(``Predictor.explain_many``): under a class's load a pass reads up to ``SENTIMENT_API_BATCH`` reviews.
Errors are JSON too: ``{"error": "..."}`` with 400 (not JSON, no text), 404 (no such model), 413 (body over
``MAX_BODY`` bytes), 422 (no words to read), 503 (``SENTIMENT_QUEUE_SIZE`` requests already waiting).
"""
from __future__ import annotations

import asyncio
import json
import queue
import threading
from concurrent.futures import Future

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..checkpoint import CheckpointError
from ..predict import MAX_CHARS, Explanation
from . import compute, limits, serving
from .models import default_model, get_predictor, model_choices
from .predict_tab import clean_input  # the Predict tab's cleaning: odd bytes out, cut to what is read

MAX_BODY = 4 * MAX_CHARS + 1024  # bytes: the longest review the model reads, 4 bytes a character, and the rest


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def answer(e: Explanation, model: str, states: bool) -> dict:
    """What ``/api/predict`` returns for one explanation (probabilities to 4 decimals, states to 3)."""
    out = {"model": model, "label": e.label, "prob_positive": round(e.prob_positive, 4),
           "tokens": e.tokens, "running_prob_positive": [round(float(p), 4) for p in e.running_probs],
           "n_tokens": e.n_tokens, "truncated": e.truncated,
           "misspelled": [{"position": i, "written": w} for i, w in e.misspelled]}  # read as tokens[position]
    if states:
        out["hidden_states"] = e.hidden_states.round(3).tolist()  # (layers, tokens read, units)
    return out


class Batcher:
    """One worker thread; requests that wait together are read in one pass per model."""

    def __init__(self, max_batch: int, max_waiting: int):
        self.max_batch, self.max_waiting = max_batch, max_waiting
        self._waiting: queue.Queue[tuple[str, str, bool, Future]] = queue.Queue()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, model: str, text: str, states: bool) -> Future:
        if self._waiting.qsize() >= self.max_waiting:
            raise ApiError(503, f"Too busy: {self.max_waiting} requests are waiting. Try again in a moment.")
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="api-predict", daemon=True)
                self._thread.start()
        done: Future = Future()
        self._waiting.put((model, text, states, done))
        return done

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]  # wait for one, then take those already waiting
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            with serving.request():  # a Train-tab run gives way meanwhile
                compute.run(self._answer, batch)  # on the app's model thread

    @staticmethod
    def _answer(batch: list[tuple[str, str, bool, Future]]) -> None:
        by_model: dict[str, list[tuple[str, bool, Future]]] = {}
        for model, text, states, done in batch:
            by_model.setdefault(model, []).append((text, states, done))
        for model, asked in by_model.items():
            try:
                predictor = get_predictor(model)
                explanations = predictor.explain_many([text for text, _, _ in asked])
            except KeyError as err:
                explanations = [ApiError(404, str(err.args[0]))] * len(asked)
            except CheckpointError as err:
                explanations = [ApiError(500, f"The model {model!r} cannot be read: {err}")] * len(asked)
            except Exception as err:  # noqa: BLE001 - one bad pass must not stop the worker
                explanations = [ApiError(500, f"Prediction failed: {type(err).__name__}: {err}")] * len(asked)
            for (_, states, done), e in zip(asked, explanations):
                if isinstance(e, ApiError):
                    done.set_exception(e)
                elif isinstance(e, ValueError):
                    done.set_exception(ApiError(422, str(e)))
                else:
                    done.set_result(answer(e, model, states))


_batcher: Batcher | None = None


def batcher() -> Batcher:
    global _batcher
    if _batcher is None:
        _batcher = Batcher(limits.get("SENTIMENT_API_BATCH"), limits.get("SENTIMENT_QUEUE_SIZE"))
    return _batcher


def parse(body: bytes) -> tuple[str, str, bool]:
    """(text, model, states) from a request body, or an ApiError saying what is wrong with it."""
    if len(body) > MAX_BODY:
        raise ApiError(413, f"The request is {len(body):,} bytes; at most {MAX_BODY:,} are read.")
    try:
        asked = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, 'The body must be JSON in UTF-8, e.g. {"text": "Not bad at all."}') from None
    if not isinstance(asked, dict) or not isinstance(asked.get("text"), str):
        raise ApiError(400, 'The body must be a JSON object with a "text" string, e.g. {"text": "Not bad at all."}')
    model = asked.get("model") or default_model()
    if not isinstance(model, str):
        raise ApiError(404 if model is None else 400, "No model to read with." if model is None
                       else '"model" must be a name from /api/models.')
    text = clean_input(asked["text"])
    if not text.strip():
        raise ApiError(422, "The review is empty: send some text to read.")
    return text, model, bool(asked.get("states", False))


def _error(err: ApiError) -> JSONResponse:
    return JSONResponse({"error": err.message}, status_code=err.status)


async def predict(request: Request) -> JSONResponse:
    try:
        size = int(request.headers.get("content-length") or 0)
        if size > MAX_BODY:  # refused before reading it
            raise ApiError(413, f"The request is {size:,} bytes; at most {MAX_BODY:,} are read.")
        text, model, states = parse(await request.body())
        return JSONResponse(await asyncio.wrap_future(batcher().submit(model, text, states)))
    except ApiError as err:
        return _error(err)


async def models(request: Request) -> JSONResponse:
    return JSONResponse({"models": list(model_choices())})


ROUTES = [Route("/api/predict", predict, methods=["POST"]), Route("/api/models", models, methods=["GET"])]
