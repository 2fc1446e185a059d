"""Classification metrics: accuracy, top-k accuracy and the confusion matrix.

Inputs may be torch tensors or numpy arrays. ``scores`` are N×C logits or probabilities
(anything whose arg-max is the predicted class); ``target`` holds N class indices.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def confusion_matrix(pred, target, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """K×K count matrix, rows = ground truth, columns = prediction, via one ``np.bincount``.

    Each (target, pred) pair becomes the single index ``target * K + pred``; counting those
    indices and reshaping gives the matrix. Pixels/samples whose target is ``ignore_index``
    are skipped. Any other target or prediction outside ``[0, K)`` raises ``ValueError``.
    When both inputs are torch tensors the counting runs with ``torch.bincount`` on their
    device (a GPU mask is not copied to the host; only the K×K result is).
    """
    if hasattr(pred, "detach") and hasattr(target, "detach"):
        return _confusion_torch(pred, target, int(num_classes), ignore_index)
    pred = _np(pred).reshape(-1).astype(np.int64, copy=False)
    target = _np(target).reshape(-1).astype(np.int64, copy=False)
    if pred.shape != target.shape:
        raise ValueError(f"prediction has {pred.size} elements but target has {target.size}")
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    k = int(num_classes)
    for name, v in (("target", target), ("prediction", pred)):
        if v.size and (v.min() < 0 or v.max() >= k):
            bad = v[(v < 0) | (v >= k)][0]
            raise ValueError(f"{name} contains class {bad}, outside 0..{k - 1}")
    return np.bincount(target * k + pred, minlength=k * k).reshape(k, k)


def _confusion_torch(pred, target, k: int, ignore_index: int | None) -> np.ndarray:
    import torch

    pred = pred.detach().reshape(-1).long()
    target = target.detach().reshape(-1).long().to(pred.device)
    if pred.numel() != target.numel():
        raise ValueError(f"prediction has {pred.numel()} elements but target has {target.numel()}")
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    for name, v in (("target", target), ("prediction", pred)):
        bad = v[(v < 0) | (v >= k)]
        if bad.numel():
            raise ValueError(f"{name} contains class {int(bad[0])}, outside 0..{k - 1}")
    counts = torch.bincount(target * k + pred, minlength=k * k)
    return counts.reshape(k, k).cpu().numpy().astype(np.int64)


def accuracy(scores_or_pred, target) -> float:
    """Fraction of correct predictions; accepts N×C scores (arg-max taken) or N class indices."""
    p = _np(scores_or_pred)
    t = _np(target).reshape(-1)
    if p.ndim == 2:
        p = p.argmax(1)
    p = p.reshape(-1)
    if p.shape != t.shape:
        raise ValueError(f"{p.size} predictions but {t.size} targets")
    return float((p == t).mean()) if t.size else float("nan")


def topk_accuracy(scores, target, ks: Sequence[int] = (1, 5)) -> dict[int, float]:
    """``{k: fraction of samples whose true class is among the k highest scores}``.

    Ties at the k-th score are broken by class index (stable sort), as ``torch.topk`` does
    in practice on CPU.
    """
    s = _np(scores)
    t = _np(target).reshape(-1)
    if s.ndim != 2 or s.shape[0] != t.size:
        raise ValueError(f"scores must be N×C with N = {t.size}, got shape {s.shape}")
    order = np.argsort(-s, axis=1, kind="stable")
    hit_rank = np.argmax(order == t[:, None], axis=1)  # rank of the true class
    return {int(k): float((hit_rank < k).mean()) if t.size else float("nan") for k in ks}


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (rows = truth); ``nan`` for absent classes."""
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diag(cm) / cm.sum(1)
