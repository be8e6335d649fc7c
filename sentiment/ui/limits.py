"""What a host can limit, each from an environment variable with a default (the README's table lists them).

    from sentiment.ui import limits
    limits.get("SENTIMENT_MAX_ROWS")     # 5000, or the variable's value; a bad value raises, naming it

Training's own switches (SENTIMENT_TRAINING, SENTIMENT_MAX_TRAIN) live in ``training_job``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path


def _half_the_memory_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 // 2**20
    except (ValueError, OSError, AttributeError):  # not Linux: a common laptop's half
        return 4096


# name -> (default, what it limits); the defaults suit a 2-vCPU, 16 GB Hugging Face Space
LIMITS: dict[str, tuple] = {
    "SENTIMENT_QUEUE_SIZE": (64, "requests waiting in the queue; more are refused with “too busy”, not kept waiting"),
    "SENTIMENT_CONCURRENCY": (2, "requests of one kind (e.g. Predict) computed at once; the rest wait in the queue"),
    "SENTIMENT_PREDICT_BATCH": (8, "Predict requests waiting together that are answered in one pass of the model"),
    "SENTIMENT_API_BATCH": (20, "the same for the JSON API's `/api/predict`"),
    "SENTIMENT_MAX_UPLOAD_MB": (20, "size of an uploaded file"),
    "SENTIMENT_MAX_ROWS": (5000, "reviews labelled from one file (later rows are left out, with a notice)"),
    "SENTIMENT_KEEP_RUNS": (20, "Train-tab runs kept on disk; the oldest go first"),
    "SENTIMENT_RUNS_MB": (500, "disk used by Train-tab runs; the oldest go first"),
    "SENTIMENT_TEMP_HOURS": (1, "age at which the predictions files made for download are removed"),
    "SENTIMENT_TRAIN_MEMORY_MB": (None, "estimated peak memory of one training run (default: half the machine's)"),
    "SENTIMENT_MODELS_LOADED": (4, "models kept in memory at once; the least recently used leaves first"),
    "SENTIMENT_SESSIONS": (200, "visitors' page states kept in memory (about 1 MB each); the oldest is dropped first"),
}


def get(name: str) -> int:
    """The limit ``name``: its environment variable as a whole number >= 1, else its default."""
    default, _ = LIMITS[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return _half_the_memory_mb() if default is None else default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1; got {raw!r}")
    return int(raw)


def models_loaded() -> int:
    return get("SENTIMENT_MODELS_LOADED")


def predictions_dir() -> Path:
    """Where the Predict tab writes the CSV files it offers for download (removed after SENTIMENT_TEMP_HOURS)."""
    return Path(tempfile.gettempdir()) / "rnn-sentiment-predictions"


def remove_old_files(folder: Path, hours: float | None = None) -> int:
    """Remove the entries of ``folder`` last changed more than ``hours`` ago; how many went."""
    hours = get("SENTIMENT_TEMP_HOURS") if hours is None else hours
    cutoff = time.time() - hours * 3600
    removed = 0
    for entry in folder.glob("*") if folder.is_dir() else []:
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                removed += 1
        except OSError:
            continue  # taken by another request meanwhile
    return removed


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def prune_runs(runs: Path, keep: Path | None = None) -> list[str]:
    """Remove the oldest runs in ``runs`` beyond SENTIMENT_KEEP_RUNS or SENTIMENT_RUNS_MB, never ``keep``
    (the run just trained) nor a run being written (it holds ``.training.lock``); the names removed."""
    if not runs.is_dir():
        return []
    folders = sorted((f for f in runs.iterdir() if f.is_dir()), key=lambda f: f.stat().st_mtime, reverse=True)
    sizes = {f: folder_mb(f) for f in folders}
    most, budget = get("SENTIMENT_KEEP_RUNS"), get("SENTIMENT_RUNS_MB")
    kept, used, removed = 0, 0.0, []
    for folder in folders:  # newest first
        protected = (keep is not None and folder.resolve() == Path(keep).resolve()) or (folder / ".training.lock").exists()
        if protected or (kept < most and used + sizes[folder] <= budget):
            kept += 1
            used += sizes[folder]
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def check_all() -> None:
    """Read every limit once at start-up, so a bad value stops the app saying which."""
    for name in LIMITS:
        get(name)


def readme_table() -> str:
    """The README's table of these limits (a test keeps the README's copy equal to it)."""
    rows = ["| variable | default | what it limits |", "|---|---|---|"]
    for name, (default, what) in LIMITS.items():
        shown = "half the RAM" if default is None else f"{default:,}"
        rows.append(f"| `{name}` | {shown} | {what} |")
    return "\n".join(rows)
