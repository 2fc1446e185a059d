"""Detector settings derived from the training boxes (``data/stats.py``), for the values a
config leaves at ``auto``.

* **YOLOv1's grid** (``model.grid: auto``). The cell that holds an object's centre is the only
  one that may predict it, and a cell sees about its own neighbourhood: when an object covers
  many cells, its centre cell is hard to tell from its neighbours, every other cell it covers
  is trained towards "no object", and the confidences stay at their prior. Measured: on a
  set of frame-filling objects grid 28 (on the stride-16 map) gave validation mAP 0.000 after
  13 epochs, grid 7 gave 0.58 after 3. Too coarse a grid loses small objects instead (two
  centres in one cell keep only one). The rule: the coarsest grid whose cell is no larger than
  the typical box of the smallest class (the smallest per-class median of ``sqrt(w*h)``), i.e.
  ``S >= 1 / r``, among the grids the head can make (the map size divided by a power of two
  for the convolutional head; any size for the paper's FC head, at most the map size). BCCD at
  448: Platelets ``r = 0.062`` -> 28 (the preset's measured choice); BCCD's WBC alone
  (``r = 0.30``) or frame-filling objects -> 7. One grid, one level: a set with both tiny and
  frame-filling objects gets the fine grid.
* **Faster R-CNN's anchors** (``model.anchor_sizes: auto``), the idea of Ultralytics' auto-anchor
  check: candidate anchors of ``2s`` and ``4s`` on each level of stride ``s`` are kept when they
  cover the boxes -- at least :data:`COVERAGE` of the training boxes have an anchor (any size
  or ratio, centred on the box) with IoU >= :data:`ANCHOR_IOU` -- else the sizes are the
  box-size quantiles (``sqrt(w*h)`` in input pixels) at evenly spaced levels, assigned from the
  finest level to the coarsest, with the same number per level. Without data (a model built
  from a config alone) ``auto`` means the candidates.

Each ``fit_*`` returns the value and a one-line reason the engine prints.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...data.stats import BoxStats
from ..common import build_backbone

AUTO = "auto"
COVERAGE = 0.9
ANCHOR_IOU = 0.5


def is_auto(value) -> bool:
    return isinstance(value, str) and value.lower() == AUTO


def yolo_grids(feat_size: int, head: str = "conv") -> list[int]:
    """The grids a YOLOv1 head can make on a ``feat_size`` map, finest first."""
    if head == "fc":
        return list(range(feat_size, 0, -1))
    grids, s = [], feat_size
    while s >= 1:
        grids.append(s)
        if s % 2:
            break
        s //= 2
    return grids


def fit_yolo_grid(stats: BoxStats | None, feat_size: int, head: str = "conv") -> tuple[int, str]:
    """The grid for ``stats`` (see the module docstring); the finest without boxes."""
    grids = yolo_grids(feat_size, head)
    r = stats.smallest_class_median() if stats is not None else None
    if r is None or r <= 0:
        return grids[0], f"grid {grids[0]} (no box statistics: one cell per position of the {feat_size}x{feat_size} map)"
    fits = [g for g in grids if g * r >= 1.0]
    grid = min(fits) if fits else grids[0]
    return grid, (f"grid {grid}: the smallest class's typical box is {r:.2f} of the input, "
                  f"a cell {1 / grid:.2f} (grids possible: {', '.join(map(str, grids))})")


def candidate_anchors(strides: list[int], per_level: int = 2) -> list[list[float]]:
    """``2s, 4s, ...`` on each level of stride ``s``."""
    return [[float(s * 2 ** (i + 1)) for i in range(per_level)] for s in strides]


def anchor_coverage(wh: np.ndarray, sizes: list[list[float]], ratios: list[list[float]]) -> float:
    """Fraction of boxes (``wh``: N×2) with a centred anchor at IoU >= :data:`ANCHOR_IOU`."""
    if len(wh) == 0:
        return 1.0
    anchors = []
    for level_sizes, level_ratios in zip(sizes, ratios if len(ratios) == len(sizes) else list(ratios) * len(sizes)):
        for r in level_ratios:
            for a in level_sizes:
                anchors.append((a / math.sqrt(r), a * math.sqrt(r)))
    aw, ah = np.asarray(anchors, np.float64).T
    w, h = wh[:, :1].astype(np.float64), wh[:, 1:].astype(np.float64)
    inter = np.minimum(w, aw) * np.minimum(h, ah)
    iou = inter / (w * h + aw * ah - inter)
    return float((iou.max(1) >= ANCHOR_IOU).mean())


def fit_anchors(stats: BoxStats | None, strides: list[int], ratios: list[list[float]],
                per_level: int = 2) -> tuple[list[list[float]], str]:
    """Anchor sizes per level (see the module docstring)."""
    cand = candidate_anchors(strides, per_level)
    if stats is None or stats.num_boxes == 0:
        return cand, f"anchor sizes {cand} (2s, 4s per level; no box statistics)"
    cov = anchor_coverage(stats.wh, cand, ratios)
    if cov >= COVERAGE:
        return cand, f"anchor sizes {cand}: they cover {cov:.0%} of the training boxes (IoU >= {ANCHOR_IOU})"
    n = len(strides) * per_level
    px = np.sqrt(stats.wh[:, 0] * stats.wh[:, 1])
    q = np.percentile(px, (np.arange(n) + 0.5) / n * 100)
    flat: list[float] = []
    for v in q:
        flat.append(float(max(round(v), 4, (flat[-1] + 1) if flat else 4)))
    sizes = [flat[i * per_level:(i + 1) * per_level] for i in range(len(strides))]
    new = anchor_coverage(stats.wh, sizes, ratios)
    return sizes, (f"anchor sizes {sizes} from the box sizes: the candidates {cand} covered {cov:.0%} of the "
                   f"training boxes, these cover {new:.0%} (IoU >= {ANCHOR_IOU})")


def _meta_backbone(name: str):
    with torch.device("meta"):
        return build_backbone(name, False, 0)


def yolo_feature_size(model: dict, img_size: int) -> int:
    """The size of the map a YOLOv1 config's head reads: ``img_size`` over the stride of the
    pyramid's finest level (``fpn_levels``) or of the backbone's last map."""
    body = _meta_backbone(model.get("backbone", "mobilenet_v2"))
    levels = list(model.get("fpn_levels") or ())
    stride = min(body.strides[k] for k in levels) if levels else body.strides[body.last]
    return img_size // stride


def faster_rcnn_strides(model: dict) -> list[int]:
    """The strides of the levels a Faster R-CNN config's RPN reads (FPN: its levels + the
    max-pooled one above; else the one feature map)."""
    body = _meta_backbone(model.get("backbone", "mobilenet_v2"))
    if model.get("fpn"):
        levels = sorted(model.get("fpn_levels") or ("c3", "c4", "c5"), key=body.strides.get)
        strides = [body.strides[k] for k in levels]
        return strides + [2 * strides[-1]]
    return [body.strides[model.get("feature") or body.last]]


def fit_model(model: dict, stats: BoxStats | None, img_size) -> tuple[dict, list[str]]:
    """``model`` (a config's model section) with its ``auto`` values resolved from ``stats``,
    and one line per value chosen. Sections without ``auto`` come back unchanged."""
    model, lines = dict(model), []
    size = img_size if isinstance(img_size, int) else max(img_size)
    if model.get("name") == "yolov1" and is_auto(model.get("grid")):
        model["grid"], why = fit_yolo_grid(stats, yolo_feature_size(model, int(size)), model.get("head", "conv"))
        lines.append(f"yolov1 {why}")
    if model.get("name") == "faster_rcnn" and is_auto(model.get("anchor_sizes")):
        strides = faster_rcnn_strides(model)
        ratios = [list(r) for r in model.get("anchor_ratios") or [[0.5, 1.0, 2.0]]]
        model["anchor_sizes"], why = fit_anchors(stats, strides, ratios, 3 if len(strides) == 1 else 2)
        lines.append(f"faster_rcnn {why}")
    return model, lines


def wants_data(model: dict) -> bool:
    """Whether ``model`` has a value to fit to the training boxes."""
    return any(is_auto(v) for k, v in model.items() if k in ("grid", "anchor_sizes"))


def not_learning_hint(model: dict, stats: BoxStats | None, img_size=None) -> str:
    """The likely cause of a detector that learns nothing, and the setting to change."""
    r = stats.smallest_class_median() if stats is not None else None
    name = model.get("name")
    if name == "yolov1" and r is not None and isinstance(model.get("grid"), int):
        grid = model["grid"]
        big = float(np.median(stats.rel_size))
        if big * grid > 4:  # the typical object covers more than 4 cells across
            try:
                size = img_size if isinstance(img_size, int) else max(img_size)
                fit = f" (here {fit_yolo_grid(stats, yolo_feature_size(model, size), model.get('head', 'conv'))[0]})"
            except Exception:  # noqa: BLE001  (no backbone to read a stride from: no number given)
                fit = ""
            return (f"objects are ~{big:.2f} of the image but the grid is {grid} (cells of {1 / grid:.2f}): "
                    f"set model.grid=auto{fit} or a coarser grid")
    if name == "faster_rcnn" and stats is not None and not is_auto(model.get("anchor_sizes")):
        sizes = model.get("anchor_sizes") or [[32, 64, 128]]
        ratios = model.get("anchor_ratios") or [[0.5, 1.0, 2.0]]
        cov = anchor_coverage(stats.wh, sizes, ratios)
        if cov < COVERAGE:
            return f"the anchors {sizes} cover only {cov:.0%} of the training boxes: set model.anchor_sizes=auto"
    return "check the boxes and classes (visionkit data check), train.lr and data.img_size"
