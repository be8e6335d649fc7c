"""Self-describing checkpoints: a folder that holds everything needed to use a model, and no pickle.

    DIR/model.safetensors   weights (or model-1-of-N.safetensors ... when they pass MAX_FILE_BYTES)
    DIR/config.json         format, model config, labels, tokenizer settings, sha256 of each weights file
    DIR/vocab.json          the vocabulary
    DIR/metrics.json        history, best epoch, test results, command, hardware

Every file is written to a temporary file and renamed into place, so a crash never leaves half a file.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from .data import LABELS
from .model import ModelConfig, SentimentRNN
from .vocab import UNK_ID, Vocab

FORMAT = "rnn-sentiment/1"
FILES = ("model.safetensors", "config.json", "vocab.json", "metrics.json")
MAX_FILE_BYTES = 9_500_000  # Hugging Face refuses files over 10 MB without Git LFS; larger weights are split


class CheckpointError(RuntimeError):
    """A checkpoint folder is missing, incomplete, corrupt or does not fit together."""


def atomic_write(path: Path, data: bytes | str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a checkpoint is meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(directory, model: SentimentRNN, vocab: Vocab, metrics: dict, tokenizer: dict,
                    weights_dtype: str = "float32", calibration: dict | None = None) -> None:
    """Write a checkpoint's files. ``weights_dtype="float16"`` halves the weights. ``calibration`` (with a
    ``temperature``) is recorded in config.json, and ``load_checkpoint`` applies it to the logit."""
    directory = Path(directory)
    dtype = {"float32": torch.float32, "float16": torch.float16}[weights_dtype]
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    shards, parts = split_weights(tensors, MAX_FILE_BYTES)
    names = ["model.safetensors"] if len(shards) == 1 else [
        f"model-{i}-of-{len(shards)}.safetensors" for i in range(1, len(shards) + 1)]
    config = {"format": FORMAT, "model": model.config.to_dict(), "labels": list(LABELS),
              "tokenizer": tokenizer, "weights_dtype": weights_dtype} | (
                  {"calibration": calibration} if calibration else {})
    if len(shards) > 1:
        config["weights"] = {"files": names, "split_rows": parts}
    config["sha256"] = {}  # of each weights file: a file changed on disk is refused at load, not silently used
    for name, shard in zip(names, shards):
        data = save(shard, metadata={"format": FORMAT})
        config["sha256"][name] = hashlib.sha256(data).hexdigest()
        atomic_write(directory / name, data)
    atomic_write(directory / "config.json", json.dumps(config, indent=2))
    for stale in set(weight_files(directory)) - set(names):  # left by an earlier save with another layout
        (directory / stale).unlink(missing_ok=True)
    atomic_write(directory / "vocab.json", vocab.to_json())
    write_metrics(directory, metrics)


def split_weights(tensors: dict[str, torch.Tensor], limit: int
                  ) -> tuple[list[dict[str, torch.Tensor]], dict[str, int]]:
    """Tensors in groups of at most ``limit`` bytes each (plus a small header); a tensor larger than that
    is first cut by rows into NAME.part0, NAME.part1, ... The second value maps NAME -> number of parts."""
    pieces, parts = {}, {}
    for name, tensor in tensors.items():
        size = tensor.numel() * tensor.element_size()
        if size <= limit:
            pieces[name] = tensor
            continue
        n = -(-size // limit)
        for i, chunk in enumerate(torch.tensor_split(tensor, n, dim=0)):
            pieces[f"{name}.part{i}"] = chunk.contiguous()
        parts[name] = n
    shards, used = [{}], 0
    for name, tensor in pieces.items():
        size = tensor.numel() * tensor.element_size()
        if shards[-1] and used + size > limit:
            shards.append({})
            used = 0
        shards[-1][name] = tensor
        used += size
    return shards, parts


def weights_index(config: dict) -> dict:
    """Which files hold a checkpoint's weights and which tensors were cut by rows (one file, none cut, if unsaid)."""
    return config.get("weights") or {"files": ["model.safetensors"], "split_rows": {}}


def weight_files(directory) -> list[str]:
    """Names of the weights files in a checkpoint folder."""
    return sorted(p.name for p in Path(directory).glob("model*.safetensors"))


def weights_digest(directory) -> str:
    """sha256 over a checkpoint's weights files, in order: which weights a stored result was computed with."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for name in weights_index(read_json(directory / "config.json"))["files"]:
        with open(directory / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write_metrics(directory, metrics: dict) -> None:
    atomic_write(Path(directory) / "metrics.json", json.dumps(metrics, indent=2))


def read_json(path: Path):
    if not path.exists():
        raise CheckpointError(f"{path.parent} is not a complete checkpoint: {path.name} is missing.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is corrupt ({err}).") from None


def load_checkpoint(directory, device: str | torch.device = "cpu", calibrated: bool = True,
                    unknown_word: bool = True) -> tuple[SentimentRNN, Vocab, dict, dict]:
    """(model in eval mode, vocab, config, metrics); a clear CheckpointError for anything wrong. ``calibrated``
    folds the recorded temperature into the classifier, and ``unknown_word`` applies the recorded reading of
    ``<unk>`` (``unknown_embedding``); without them, the weights are as trained."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"No checkpoint at {directory}: expected a folder holding {', '.join(FILES)}.")
    config = read_json(directory / "config.json")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{directory / 'config.json'} is not a {FORMAT} checkpoint config.")
    try:
        model_config = ModelConfig.from_dict(config["model"])
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{directory / 'config.json'} has a bad model config: {err}") from None
    try:
        vocab = Vocab.from_json((directory / "vocab.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{directory} is not a complete checkpoint: vocab.json is missing.") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{directory / 'vocab.json'} is corrupt ({err}).") from None
    if len(vocab) != model_config.vocab_size:
        raise CheckpointError(f"{directory}: vocab.json has {len(vocab)} tokens but the model expects "
                              f"{model_config.vocab_size}; the files come from different checkpoints.")
    metrics = read_json(directory / "metrics.json")
    weights = weights_index(config)
    if not (isinstance(weights, dict) and isinstance(weights.get("files"), list) and weights["files"]
            and isinstance(weights.get("split_rows"), dict)):
        raise CheckpointError(f"{directory / 'config.json'} has a bad 'weights' entry.")
    checksums = config.get("sha256") or {}  # checkpoints saved before checksums were recorded have none
    tensors = {}
    for name in weights["files"]:
        weights_file = directory / name
        if not weights_file.exists():
            raise CheckpointError(f"{directory} is not a complete checkpoint: {name} is missing.")
        data = weights_file.read_bytes()
        try:
            tensors |= load(data)
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(f"{weights_file} is truncated or corrupt ({err}). Restore it, or retrain.") from None
        if name in checksums and hashlib.sha256(data).hexdigest() != checksums[name]:
            raise CheckpointError(f"{weights_file} is not the file that was saved: its sha256 differs from the one "
                                  "recorded in config.json (changed or damaged on disk). Restore it, or retrain.")
    source = directory / weights["files"][0] if len(weights["files"]) == 1 else directory
    try:
        for name, n in weights["split_rows"].items():
            tensors[name] = torch.cat([tensors.pop(f"{name}.part{i}") for i in range(n)])
    except KeyError as err:
        raise CheckpointError(f"{directory}: the weights files lack {err}; they come from different saves.") from None
    model = SentimentRNN(model_config)
    expected = model.state_dict()
    if set(tensors) != set(expected):
        missing, extra = set(expected) - set(tensors), set(tensors) - set(expected)
        raise CheckpointError(f"{source} does not match config.json (missing: {sorted(missing)[:3]}, "
                              f"unexpected: {sorted(extra)[:3]}).")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(f"{source}: {name} has shape {tuple(tensor.shape)}, config.json implies "
                                  f"{tuple(expected[name].shape)}.")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    temperature = (config.get("calibration") or {}).get("temperature", 1.0)
    if not (isinstance(temperature, (int, float)) and 0 < temperature < float("inf")):
        raise CheckpointError(f"{directory / 'config.json'} has a bad calibration temperature: {temperature!r}.")
    if calibrated:
        with torch.no_grad():  # logit / T, folded into the classifier: every logit, the running ones too, is calibrated
            model.classifier.weight.div_(temperature)
            model.classifier.bias.div_(temperature)
    reading = unknown_word_reading(config)
    if reading not in UNKNOWN_WORD_READINGS:
        raise CheckpointError(f"{directory / 'config.json'} has a bad unknown_word: {reading!r} (one of "
                              f"{', '.join(UNKNOWN_WORD_READINGS)}).")
    if unknown_word:
        unknown_embedding(model, reading)
    return model.to(device).eval(), vocab, config, metrics


UNKNOWN_WORD_READINGS = ("as_trained", "mean")


def unknown_word_reading(config: dict) -> str:
    """How a checkpoint with this ``config.json`` reads a word its vocabulary lacks (``unknown_embedding``)."""
    return config.get("unknown_word", "as_trained")


@torch.no_grad()
def unknown_embedding(model: SentimentRNN, reading: str) -> None:
    """Set how ``model`` reads a word its vocabulary lacks. "as_trained": the ``<unk>`` row training shaped, on the
    training reviews' rare words (which lean negative in IMDB). "mean": the uniform mean of every other word's row
    (``<pad>`` and ``<unk>`` left out), so an unknown name or rare word reads as a word of no particular kind."""
    if reading == "mean":
        weight = model.embedding.weight  # (V, E)
        weight[UNK_ID] = weight[UNK_ID + 1:].mean(dim=0)
