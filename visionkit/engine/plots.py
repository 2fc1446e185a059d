"""PNG plots of a run (matplotlib, Agg backend, written atomically).

* ``loss.png``      training loss terms and validation metrics against the optimizer step;
* ``pr_curves.png`` one precision-recall curve per class (detection);
* ``confusion.png`` the row-normalised confusion matrix (segmentation, classification).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..utils.io import atomic_save


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    plt = _pyplot()
    atomic_save(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))
    plt.close(fig)


def _numeric(rows: list[dict], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in rows:
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
            xs.append(r.get("step", len(xs)))
            ys.append(v)
    return xs, ys


def plot_losses(rows: list[dict], path: str | Path) -> Path | None:
    """Loss terms (left) and validation metrics (right) against the step; None if no rows."""
    train_keys = [k for k in dict.fromkeys(k for r in rows for k in r) if k == "loss" or k.startswith("loss")]
    val_keys = [k for k in dict.fromkeys(k for r in rows for k in r)
                if k.startswith("val/") and not k.endswith("_conf")]  # a threshold, not a score
    if not train_keys and not val_keys:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for k in train_keys:
        xs, ys = _numeric(rows, k)
        if xs:
            axes[0].plot(xs, ys, label=k, lw=2 if k == "loss" else 1)
    axes[0].set(xlabel="step", ylabel="loss", title="training loss")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=8)
    for k in val_keys:
        xs, ys = _numeric(rows, k)
        if xs:
            axes[1].plot(xs, ys, marker="o", label=k)
    axes[1].set(xlabel="step", title="validation")
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=8)
    path = Path(path)
    _save(fig, path)
    return path


def plot_pr_curves(curves: dict[str, Any], path: str | Path, ap_by_class: dict[str, float] | None = None) -> Path | None:
    """Per-class precision-recall curves. ``curves`` maps a class name to ``(recall, precision)``
    arrays (as ``voc_evaluate`` returns) or to a dict with ``recall``, ``precision``, ``ap``."""
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, c in curves.items():
        if isinstance(c, dict):
            r, p, ap = np.asarray(c.get("recall", [])), np.asarray(c.get("precision", [])), c.get("ap")
        else:  # (recall, precision) as voc_evaluate returns
            r, p, ap = np.asarray(c[0]), np.asarray(c[1]), (ap_by_class or {}).get(name)
        if r.size == 0 or r.size != p.size:
            continue
        ax.plot(r, p, label=f"{name}" + (f" (AP {ap:.3f})" if isinstance(ap, (int, float)) else ""))
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="precision-recall")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower left")
    else:
        ax.text(0.5, 0.5, "no detections", ha="center", va="center")
    path = Path(path)
    _save(fig, path)
    return path


def plot_confusion(matrix, classes: Sequence[str], path: str | Path) -> Path:
    """Row-normalised confusion matrix (rows: ground truth, columns: prediction)."""
    m = np.asarray(matrix, dtype=np.float64)
    norm = m / np.clip(m.sum(axis=1, keepdims=True), 1, None)
    plt = _pyplot()
    n = len(m)
    size = max(4.0, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    names = list(classes)[:n] + [str(i) for i in range(len(classes), n)]
    ax.set_xticks(range(n), names, rotation=90, fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    ax.set(xlabel="predicted", ylabel="ground truth", title="confusion matrix (row-normalised)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    path = Path(path)
    _save(fig, path)
    return path
