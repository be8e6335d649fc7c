"""The path of a review: its pooled features, token by token, drawn in two dimensions.

x is exactly the running logit: the classifier's weights applied to the running features, bias
included, so x > 0 is "positive if the review ended here". y is the main direction in which training
reviews' features vary once the classifier's direction is taken out (fitted once per checkpoint,
stored beside it as ``path.json``). As Maheswaranathan et al. (NeurIPS 2019) found for such networks,
a review drifts along a line and its words push it one way or the other.

    axis = fit_path_axis(model, prepared.train)      # python -m sentiment path --checkpoint DIR --data D
    x, y = review_path(model, ids, axis)             # (T,) each
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .batching import EncodedSplit, bucket_batches
from .checkpoint import atomic_write
from .model import SentimentRNN

FILE = "path.json"


@torch.inference_mode()
def fit_path_axis(model: SentimentRNN, split: EncodedSplit, n_reviews: int = 2000, seed: int = 0) -> dict:
    """The unit direction orthogonal to the classifier's weights along which the pooled features of a
    sample of reviews vary most (the first principal component of the features with that weight taken out)."""
    model.eval()
    index = np.random.default_rng(seed).permutation(len(split))[:n_reviews]
    features = []
    for batch in bucket_batches(split.lengths()[index], 128, rng=None):
        ids, lengths, _ = split.batch(index[batch])
        features.append(model.pool(model.read_outputs(model.encode(ids)), lengths).double())  # (B, D)
    f = torch.cat(features)  # (n, D)
    w = model.classifier.weight[0].double()
    w = w / w.norm()
    rest = f - (f @ w)[:, None] * w[None, :]  # (n, D) with the classifier's direction taken out
    rest = rest - rest.mean(0)
    direction = torch.linalg.svd(rest, full_matrices=False).Vh[0]  # (D,) the main direction of what remains
    direction = direction - (direction @ w) * w  # exactly orthogonal, despite rounding
    return {"direction": (direction / direction.norm()).float().tolist(), "n_reviews": len(index)}


@torch.inference_mode()
def review_path(model: SentimentRNN, ids: torch.Tensor, axis: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """(T,) running logit and (T,) position along the stored direction, for (T,) token ids; without a
    stored direction (``axis`` None), y is the token's position in the review."""
    running = model.running_features(model.read_outputs(model.encode(ids[None, :])))[0]  # (T, D)
    x = model.classifier(running).squeeze(-1)  # (T,) exactly the running logit
    if axis is None:
        return x.numpy(), np.arange(len(ids), dtype=np.float32)
    return x.numpy(), (running @ torch.tensor(axis["direction"])).numpy()  # (T,)


def save_path_axis(directory, axis: dict) -> None:
    atomic_write(Path(directory) / FILE, json.dumps(axis))


def load_path_axis(directory) -> dict | None:
    """The stored direction, or None when the checkpoint has none (or it cannot be read)."""
    try:
        return json.loads((Path(directory) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
