"""How far a model's confidence is from its accuracy: expected calibration error (Guo et al., 2017).

    ece(probs_positive, labels)   # 0.0 = every "90% sure" answer is right 90% of the time
"""
from __future__ import annotations

import numpy as np

ECE_BINS = 15


def ece(prob_positive: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error of binary predictions, over ``bins`` equal-width bins of confidence.

    The confidence of an answer is the probability of the label it gives (max(p, 1 - p), in [0.5, 1]);
    ECE is the review-weighted mean, over the bins, of |accuracy - mean confidence| in the bin.
    """
    prob_positive = np.asarray(prob_positive, dtype=np.float64)  # (n,)
    labels = np.asarray(labels)  # (n,) 1 = positive
    if len(prob_positive) == 0:
        return 0.0
    predicted = prob_positive >= 0.5
    confidence = np.where(predicted, prob_positive, 1.0 - prob_positive)  # (n,) in [0.5, 1]
    correct = predicted == (labels == 1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)  # (n,) bin (lo, hi]
    total = 0.0
    for b in np.unique(which):
        in_bin = which == b
        total += in_bin.sum() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total / len(prob_positive))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T > 0 that minimises the log loss of sigmoid(logits / T) (Guo et al., 2017).

    Fitted on held-out reviews; dividing every logit by T changes no label, only how sure each is.
    A golden-section search over log T in [1/20, 20]: the log loss is unimodal in T.
    """
    logits = np.asarray(logits, dtype=np.float64)  # (n,)
    signs = np.where(np.asarray(labels) == 1, 1.0, -1.0)  # (n,)
    if len(logits) == 0:
        return 1.0

    def loss(log_t: float) -> float:
        return float(np.logaddexp(0.0, -signs * logits / np.exp(log_t)).mean())  # -log sigmoid(+-z/T)

    lo, hi = np.log(1 / 20), np.log(20.0)
    golden = (np.sqrt(5) - 1) / 2
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    for _ in range(60):
        if loss(a) < loss(b):
            hi, b = b, a
            a = hi - golden * (hi - lo)
        else:
            lo, a = a, b
            b = lo + golden * (hi - lo)
    return float(np.exp((lo + hi) / 2))
