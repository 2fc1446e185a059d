"""The one evaluator: run a model over a split and score it with the task's metric.

The model is called in eval mode as ``model(images) -> list[dict]`` (one dict per image) and
each task keeps its own small accumulator, which reads the batch's targets (one dict per
image: ``label``, ``masks``, ``captions``, detection boxes):

==============  ===========================================  ==================  =========
task            prediction keys                              metric              best.pt
==============  ===========================================  ==================  =========
detection       boxes, labels, scores (input coordinates)    VOC mAP / COCO AP   mAP (max)
segmentation    masks (H×W class map)                        confusion -> mIoU   mIoU (max)
classification  logits, or labels                            accuracy            accuracy
captioning      captions                                     corpus BLEU         bleu4
generation      images                                       FID (model hook)    fid (min)
==============  ===========================================  ==================  =========

A detector is called with the configured operating point, ``model(images, conf=eval.conf,
iou=eval.nms_iou, max_det=eval.max_det)`` (``None``: the model's own). ``eval.conf`` is low
(0.01) on purpose, as in Ultralytics' ``val`` (0.001): AP integrates precision over every
recall level, and a high threshold would cut the low-score tail of the precision/recall curve
and lower mAP; the deployed threshold is reported as ``F1_conf`` instead.

Under torchrun every rank evaluates its own shard (no padding); counts and confusion matrices
are summed with ``all_reduce`` and per-image predictions gathered with ``all_gather_object``
and put back in data-set order (VOC AP breaks score ties by image order), so every rank returns
the metrics of a single-process run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from ..config import EvalConfig
from ..data.transforms import boxes_to_original
from ..errors import ConfigError, DataError
from ..exported import is_exported, load_exported_model
from ..metrics.caption import caption_metrics
from ..metrics.coco import coco_evaluate
from ..metrics.results import save_results, to_coco_results
from ..metrics.segmentation import ConfusionMatrix
from ..metrics.voc import f1_threshold, match_detections, voc_evaluate
from ..models.detection.tta import FlipTTA
from ..registry import model_task
from . import distributed as D
from .build import build_dataset, make_eval_loader
from .checkpoint import load_checkpoint
from .device import amp_dtype, autocast, resolve_device, split_batch, to_device
from .logging import progress, quiet_mode
from .restore import attach_fid_extractor, build_from_checkpoint

DEFAULT_METRIC = {
    "detection": "mAP",
    "segmentation": "mIoU",
    "classification": "accuracy",
    "captioning": "bleu4",
    "generation": "fid",
}
LOWER_IS_BETTER = ("fid", "loss")


def default_metric(task: str, eval_metric: str = "") -> str:
    """The metric that picks ``best.pt`` when ``train.metric`` is empty (COCO AP when
    ``eval.metric`` is ``coco``)."""
    if task == "detection" and eval_metric.lower() == "coco":
        return "AP"
    return DEFAULT_METRIC.get(task, "loss")


def metric_mode(metric: str) -> str:
    """``"min"`` for metrics where lower is better (FID, losses), else ``"max"``."""
    m = metric.lower()
    return "min" if m in LOWER_IS_BETTER or m.startswith("loss") else "max"


@dataclass
class EvalResult:
    metrics: dict[str, float] = field(default_factory=dict)
    curves: dict[str, Any] | None = None  # detection: per-class (recall, precision)
    per_class: dict[str, float] | None = None
    matrix: np.ndarray | None = None  # segmentation / classification confusion matrix
    predictions: list[dict] | None = None  # detection: per-image predictions, original coordinates
    gts: list[dict] | None = None  # detection: the matching ground truth (image_id, path, boxes)


def _np(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# ------------------------------------------------------------------------- accumulators


class _Confusion:
    """Classification (one label per image) and segmentation (one per pixel) both reduce to a
    K×K confusion matrix (:class:`visionkit.metrics.segmentation.ConfusionMatrix`), summed over
    ranks before the metrics are read off it."""

    def __init__(self, task: str, classes: Sequence[str], ignore_index: int | None):
        self.task, self.classes = task, list(classes)
        self.cm = ConfusionMatrix(max(len(classes), 1), ignore_index if task == "segmentation" else None)

    def update(self, preds: list[dict], targets: list[dict]) -> None:
        if self.task == "classification":
            pred = [_np(p["logits"]).argmax(-1) if "logits" in p else _np(p["labels"]) for p in preds]
            self.cm.update(np.asarray(pred).reshape(-1), np.asarray([int(t["label"]) for t in targets]))
            return
        for p, t in zip(preds, targets):
            self.cm.update(_np(p["masks"]).astype(np.int64), _np(t["masks"]).astype(np.int64))

    def result(self) -> EvalResult:
        t = torch.from_numpy(np.ascontiguousarray(self.cm.matrix))
        self.cm.matrix = D.all_reduce_sum(t).numpy()
        m = self.cm.matrix
        if self.task == "classification":
            total = m.sum()
            return EvalResult({"accuracy": float(np.trace(m) / total) if total else math.nan}, matrix=m)
        out = self.cm.compute()
        metrics = {k: float(v) for k, v in out.items() if isinstance(v, (int, float))}
        per_class = dict(zip(self.classes, out.get("per_class_iou", [])))
        metrics.update({f"IoU/{k}": float(v) for k, v in per_class.items()})
        return EvalResult(metrics, per_class=per_class, matrix=m)


class _Detection:
    def __init__(self, classes: Sequence[str], cfg: EvalConfig, cat_ids=None):
        self.classes, self.cfg, self.cat_ids = list(classes), cfg, cat_ids
        self.gts: list[dict] = []
        self.preds: list[dict] = []

    @staticmethod
    def _to_original(boxes, meta):
        if meta is None:
            return _np(boxes).reshape(-1, 4)

        return _np(boxes_to_original(boxes, meta)).reshape(-1, 4)

    def update(self, preds: list[dict], targets: list[dict]) -> None:
        for p, t in zip(preds, targets):
            meta = t.get("meta")
            gt_boxes = t["orig_boxes"] if "orig_boxes" in t else self._to_original(t["boxes"], meta)
            gt = {"boxes": _np(gt_boxes).reshape(-1, 4), "labels": _np(t["labels"]).astype(np.int64).reshape(-1)}
            for key in ("difficult", "iscrowd"):
                if t.get(key) is not None:
                    gt[key] = _np(t[key]).astype(bool).reshape(-1)
            for key in ("image_id", "orig_size", "path"):
                if key in t:
                    v = t[key]
                    gt[key] = v.tolist() if isinstance(v, torch.Tensor) else v
            self.gts.append(gt)
            self.preds.append({
                "boxes": self._to_original(p["boxes"], meta),
                "labels": _np(p["labels"]).astype(np.int64).reshape(-1),
                "scores": _np(p["scores"]).astype(np.float64).reshape(-1),
            })

    def result(self) -> EvalResult:
        gts = D.gather_strided(self.gts)
        preds = D.gather_strided(self.preds)
        metric = (self.cfg.metric or "voc07").lower()
        if metric == "coco":
            sizes = [tuple(g.get("orig_size", (0, 0))) for g in gts]
            stats = coco_evaluate(gts, preds, self.classes, sizes if all(s and s[0] for s in sizes) else None, self.cat_ids)
            return EvalResult({k: float(v) for k, v in stats.items()}, predictions=preds, gts=gts)
        if metric not in ("voc07", "voc"):
            raise ConfigError(f"eval.metric: {self.cfg.metric!r} is not a detection metric; use voc07, voc or coco")

        matched = match_detections(gts, preds, self.cfg.iou, self.cfg.iou_mode)  # once, for AP and F1
        out = voc_evaluate(gts, preds, self.classes, metric=metric, matched=matched)
        metrics = {"mAP": float(out["mAP"])}
        metrics.update({f"AP/{k}": float(v) for k, v in out["per_class"].items()})
        # the operating point for `visionkit detect --conf`: the score threshold of best class-mean F1,
        # reported only when something was detected (with no true positive there is no operating point)
        conf, f1, _, _ = f1_threshold(gts, preds, len(self.classes), matched=matched)
        metrics["F1"] = float(f1)
        if f1 > 0 and any(len(p["scores"]) for p in preds):
            metrics["F1_conf"] = float(conf)
        return EvalResult(metrics, curves=out["curves"], per_class=out["per_class"], predictions=preds, gts=gts)


class _Captioning:
    def __init__(self):
        self.refs: list[list[str]] = []
        self.hyps: list[str] = []

    def update(self, preds: list[dict], targets: list[dict]) -> None:
        for p, t in zip(preds, targets):  # the model's first caption against the image's references
            self.hyps.append(p["captions"][0])
            self.refs.append(list(t["captions"]))

    def result(self) -> EvalResult:
        refs = D.gather_strided(self.refs)
        hyps = D.gather_strided(self.hyps)
        out = caption_metrics(refs, hyps)  # corpus BLEU-1..4 and CIDEr-D
        return EvalResult({k: float(v) for k, v in out.items() if isinstance(v, (int, float))})


class _Generation:
    """FID between real and generated images in the feature space of the model's own
    extractor (``model.fid_features(images) -> Tensor[N, D]``). No metric when the model has no
    such method, when its ``fid_extractor`` attribute is None, or when it returns None."""

    def __init__(self, model):
        self.model = model
        self.real: list[np.ndarray] = []
        self.fake: list[np.ndarray] = []
        feats = getattr(model, "fid_features", None)
        self.feats = None if getattr(model, "fid_extractor", "unset") is None else feats

    def update(self, preds: list[dict], targets, images=None) -> None:
        if self.feats is None or images is None:
            return
        fake = torch.stack([p["images"] for p in preds])
        real_f = self.feats(images)
        if real_f is None:
            self.feats = None
            return
        self.real.append(_np(real_f))
        self.fake.append(_np(self.feats(fake.to(images.device))))

    def result(self) -> EvalResult:
        real = D.gather_strided(self.real)
        fake = D.gather_strided(self.fake)
        if not real:
            return EvalResult({})
        from ..metrics.fid import fid_from_features  # lazy: scipy.linalg takes ~1 s to import; only GANs need it

        return EvalResult({"fid": float(fid_from_features(np.concatenate(real), np.concatenate(fake)))})


# ----------------------------------------------------------------------------- evaluator


class Evaluator:
    """``Evaluator(task, classes, cfg.eval).evaluate(model, loader, device) -> EvalResult``."""

    def __init__(self, task: str, classes: Sequence[str], cfg: EvalConfig | None = None, ignore_index: int = 255, cat_ids=None):
        if task not in DEFAULT_METRIC:
            raise ConfigError(f"task: unknown task {task!r}; expected one of {', '.join(DEFAULT_METRIC)}")
        self.task, self.classes = task, list(classes)
        self.cfg = cfg or EvalConfig()
        self.ignore_index, self.cat_ids = ignore_index, cat_ids

    def model_kwargs(self) -> dict:
        """The keyword arguments of each model call: a detector's thresholds from ``eval``."""
        if self.task != "detection":
            return {}
        return {"conf": self.cfg.conf, "iou": self.cfg.nms_iou, "max_det": self.cfg.max_det}

    def _accumulator(self, model, device):
        if self.task in ("classification", "segmentation"):
            return _Confusion(self.task, self.classes, self.ignore_index)
        if self.task == "detection":
            return _Detection(self.classes, self.cfg, self.cat_ids)
        if self.task == "captioning":
            return _Captioning()
        return _Generation(model)

    @torch.inference_mode()
    def evaluate(self, model: torch.nn.Module, loader, device: torch.device, amp: torch.dtype | None = None,
                 channels_last: bool = False, progress=None) -> EvalResult:
        """Run ``model`` over ``loader`` and compute the task's metrics (all ranks agree)."""
        model = D.unwrap(model)
        was_training = model.training
        model.eval()
        acc = self._accumulator(model, device)
        kwargs = self.model_kwargs()
        if isinstance(acc, _Generation) and acc.feats is None:
            return EvalResult({})  # no feature extractor: generating the images would be wasted
        try:
            for batch in (progress(loader) if progress else loader):
                images, targets = split_batch(batch)
                images = to_device(images, device, channels_last)
                with autocast(device, amp):
                    preds = model(images, **kwargs)
                if self.task == "generation":
                    acc.update(preds, targets, images)
                else:
                    acc.update(preds, targets)
        finally:
            model.train(was_training)
        res = acc.result()
        res.metrics = {k: (float(v) if v is not None else math.nan) for k, v in res.metrics.items()}
        return res


def save_predictions(result: EvalResult, path, cat_ids=None) -> int:
    """Write detection predictions (original coordinates) as COCO results JSON, atomically.
    ``cat_ids`` as in ``to_coco_results``. Returns the number of boxes written (0 and no file
    for other tasks)."""
    if not result.predictions or result.gts is None:
        return 0

    ids = [g.get("image_id", i + 1) for i, g in enumerate(result.gts)]
    names = [str(g.get("path", "")) for g in result.gts]
    rows = to_coco_results(result.predictions, ids, cat_ids=cat_ids, file_names=names)
    save_results(path, rows)
    return len(rows)


def evaluate_checkpoint(cfg, weights, split: str = "", use_ema: bool = True, dataset=None) -> tuple[EvalResult, Any]:
    """Evaluate the checkpoint (or ``visionkit export`` file) ``weights`` on ``split`` (a role ``train``/``val``/``test`` or a
    split name; default ``cfg.eval.split``) of the data set in ``cfg``. Works under torchrun
    (each rank scores a shard). Returns ``(result, dataset)``."""
    device = resolve_device(cfg.train.device)
    dist = D.init_distributed(device.type)
    if device.type == "cuda" and cfg.train.device in ("auto", "cuda"):
        device = torch.device("cuda", dist.local_rank)
    split = split or cfg.eval.split
    if dataset is None:
        dataset = build_dataset(cfg, split, False)
    ds_classes = list(getattr(dataset, "classes", []) or [])
    exported = is_exported(weights)
    if exported:  # `visionkit export` output: its own graph, on the CPU
        model, _, classes, _ = load_exported_model(weights)
        device, task = torch.device("cpu"), model.task
    else:
        ckpt = load_checkpoint(weights, map_location="cpu", task=model_task(cfg) or None)
        classes = list(ckpt.get("classes") or ds_classes)
    if ds_classes and classes and ds_classes != classes:
        raise DataError(f"{weights}: the {'exported model' if exported else 'checkpoint'}'s classes {classes} differ from the data set's {ds_classes}")
    if not exported:
        model, _, _ = build_from_checkpoint(ckpt, use_ema, cfg=cfg, classes=classes)
        attach_fid_extractor(model, cfg)
        model.to(device)
        task = model_task(cfg)
    if cfg.eval.tta and task == "detection":
        model = FlipTTA(model, cfg.eval.tta, vote=cfg.eval.tta_vote)
    loader = make_eval_loader(dataset, cfg.eval.batch_size or cfg.data.batch_size, dist, cfg.data.workers)
    ev = Evaluator(task, classes, cfg.eval, cfg.data.ignore_index, getattr(dataset, "cat_ids", None))

    bar = lambda it: progress(it, total=len(it), desc=f"eval {split}", disable=quiet_mode(cfg.quiet) or not dist.is_main)  # noqa: E731
    return ev.evaluate(model, loader, device, amp_dtype(cfg.eval.amp, device, "eval.amp"), cfg.train.channels_last, bar), dataset
