"""Which models the app can serve: the shipped checkpoints and the runs trained in the app.

    SENTIMENT_CHECKPOINTS  folder of shipped checkpoints (default: the repository's checkpoints/)
    SENTIMENT_RUNS         folder where the train tab saves runs (default: ./runs)
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from ..predict import CHECKPOINTS, Predictor, available_checkpoints


def checkpoints_dir() -> Path:
    return Path(os.environ.get("SENTIMENT_CHECKPOINTS") or CHECKPOINTS)


def runs_dir() -> Path:
    return Path(os.environ.get("SENTIMENT_RUNS") or "runs")


def model_choices() -> dict[str, Path]:
    """Display name -> checkpoint folder: shipped ones first ("default" leads), then runs as "runs/NAME"."""
    shipped = available_checkpoints(checkpoints_dir())
    runs = {f"runs/{name}": path for name, path in available_checkpoints(runs_dir()).items()}
    return {**shipped, **runs}


_lock = threading.Lock()
_loaded: dict[tuple[str, float], Predictor] = {}


def get_predictor(name: str) -> Predictor:
    """The Predictor for a model name, loaded once (reloaded when it is saved again)."""
    choices = model_choices()
    if name not in choices:
        raise KeyError(f"No model named {name!r}; available: {', '.join(choices) or 'none'}")
    path = choices[name]
    key = (str(path), (path / "config.json").stat().st_mtime)  # rewritten by every save
    with _lock:
        if key not in _loaded:
            _loaded[key] = Predictor.load(path)
        return _loaded[key]
