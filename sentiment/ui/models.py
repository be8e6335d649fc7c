"""Which models the app can serve: the shipped checkpoints and the runs trained in the app.

    SENTIMENT_CHECKPOINTS  folder of shipped checkpoints (default: the repository's checkpoints/)
    SENTIMENT_RUNS         folder where the train tab saves runs (default: ./runs)

At most ``limits.models_loaded()`` models stay in memory, the least recently used leaving first.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from ..predict import CHECKPOINTS, Predictor, available_checkpoints
from . import compute
from .limits import models_loaded


def checkpoints_dir() -> Path:
    return Path(os.environ.get("SENTIMENT_CHECKPOINTS") or CHECKPOINTS)


def runs_dir() -> Path:
    return Path(os.environ.get("SENTIMENT_RUNS") or "runs")


def model_choices() -> dict[str, Path]:
    """Display name -> checkpoint folder: shipped ones first ("default" leads), then runs as "runs/NAME"."""
    shipped = available_checkpoints(checkpoints_dir())
    runs = {f"runs/{name}": path for name, path in available_checkpoints(runs_dir()).items()}
    return {**shipped, **runs}


def default_model() -> str | None:
    """The model a request that names none gets: the first available ("default" when it is shipped)."""
    return next(iter(model_choices()), None)


_lock = threading.Lock()
_loaded: OrderedDict[tuple[str, float], Predictor] = OrderedDict()  # least recently used first


def get_predictor(name: str) -> Predictor:
    """The Predictor for a model name, loaded once (reloaded when it is saved again); an LRU of
    ``models_loaded()`` models, so a server that meets many runs does not keep them all. Loaded on the
    model thread (``compute``), as all model work is."""
    if not compute.on_compute_thread():
        return compute.run(get_predictor, name)
    choices = model_choices()
    if name not in choices:
        raise KeyError(f"No model named {name!r}; available: {', '.join(choices) or 'none'}")
    path = choices[name]
    key = (str(path), (path / "config.json").stat().st_mtime)  # rewritten by every save
    with _lock:
        if key in _loaded:
            _loaded.move_to_end(key)
        else:
            for old in [k for k in _loaded if k[0] == key[0]]:  # an older save of the same folder
                del _loaded[old]
            _loaded[key] = Predictor.load(path)
            while len(_loaded) > models_loaded():
                _loaded.popitem(last=False)
        return _loaded[key]


def loaded_models() -> list[str]:
    """The folders of the models in memory now, least recently used first."""
    with _lock:
        return [folder for folder, _ in _loaded]
