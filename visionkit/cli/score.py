"""``visionkit score``: score saved predictions against ground truth, without a model.

Detection: a COCO instances JSON (``--gt``) and a COCO results JSON (``--pred``), matched to
each other by ``file_name`` and ``category_name`` when the results carry them, else by id
(:mod:`visionkit.metrics.align`), scored with
pycocotools (``--metric coco``) or the VOC devkit algorithm (``--metric voc07`` 11-point,
``--metric voc`` all-point). For VOC, an annotation's optional ``difficult`` key is honoured
and ``iscrowd`` annotations also count as difficult (neither TP nor FP).

Segmentation: two folders of class-index mask PNGs matched by file stem (a prediction may also
be ``<stem>_mask.png``, as ``visionkit segment`` writes it). Missing or bad
predictions are listed at the end and make the exit status 1; the rest are still scored.

The heavy imports (numpy, pycocotools, OpenCV) happen inside the command, so ``visionkit
--help`` stays fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from ..errors import DataError


def _clean(v):
    """JSON-safe copy: nan -> null (JSON has no NaN), numpy scalars -> float."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, float) or hasattr(v, "item"):
        v = float(v)
        return None if math.isnan(v) else v
    return v


def _fmt(v: float) -> str:
    return "  n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4f}"


@click.command("score")
@click.option("--task", type=click.Choice(["detection", "segmentation"]), default="detection", show_default=True)
@click.option("--gt", "gt_path", required=True, type=click.Path(path_type=Path),
              help="Detection: COCO instances JSON. Segmentation: folder of ground-truth mask PNGs.")
@click.option("--pred", "pred_path", required=True, type=click.Path(path_type=Path),
              help="Detection: COCO results JSON. Segmentation: folder of predicted mask PNGs.")
@click.option("--metric", type=click.Choice(["coco", "voc07", "voc"]), default="coco", show_default=True,
              help="Detection: COCO AP (pycocotools), VOC2007 11-point AP, or VOC2010+ all-point AP.")
@click.option("--iou", type=click.FloatRange(0, 1, min_open=True), default=0.5, show_default=True,
              help="IoU threshold for the VOC metrics.")
@click.option("--iou-mode", type=click.Choice(["voc", "continuous"]), default="voc", show_default=True,
              help="VOC metrics: inclusive-pixel IoU (+1, the devkit's) or continuous IoU (pycocotools').")
@click.option("--num-classes", type=click.IntRange(1), default=None,
              help="Segmentation: number of classes (default: largest index found + 1).")
@click.option("--ignore-index", type=int, default=255, show_default=True, help="Segmentation: label not scored.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def score(task, gt_path, pred_path, metric, iou, iou_mode, num_classes, ignore_index, as_json):
    """Score saved predictions (COCO/VOC mAP, mIoU) without a model.

    \b
    Examples:
      visionkit score --gt instances_val.json --pred results.json --metric coco
      visionkit score --gt gt.json --pred results.json --metric voc07 --iou 0.5 --json
      visionkit score --task segmentation --gt camvid/testannot --pred out/masks --ignore-index 11
    """
    if task == "detection":
        out = _score_detection(gt_path, pred_path, metric, iou, iou_mode)
        _print_detection(out, metric, as_json)
        return 0
    return _score_segmentation(gt_path, pred_path, num_classes, ignore_index, as_json)


def _score_detection(gt_path: Path, pred_path: Path, metric: str, iou: float, iou_mode: str) -> dict:
    from ..metrics.align import align_results  # lazy: imports numpy via metrics
    from ..metrics.coco import coco_from_dataset, evaluate_coco  # lazy: imports numpy
    from ..metrics.results import coco_to_arrays, load_coco_gt, load_results  # lazy: imports numpy

    gt = load_coco_gt(gt_path)
    results, how = align_results(load_results(pred_path), gt, pred_path)
    matched = {"images": how["images"], "categories": how["categories"], "detections": len(results),
               "images_with_detections": len({r["image_id"] for r in results})}
    if metric == "coco":
        return {**evaluate_coco(coco_from_dataset(gt), results), "matched": matched}
    from ..metrics.voc import voc_evaluate  # lazy: imports numpy

    gts, preds, classes, _ = coco_to_arrays(gt, results)
    out = voc_evaluate(gts, preds, classes, iou_thr=iou, metric=metric, iou_mode=iou_mode)
    return {"mAP": out["mAP"], "per_class": out["per_class"], "matched": matched}


def _print_detection(out: dict, metric: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(_clean(out)))
        return
    m = out["matched"]
    click.echo(f"{m['detections']} detections on {m['images_with_detections']} images; images matched by "
               f"{m['images']}, classes by {m['categories']}")
    if metric == "coco":
        from ..metrics.coco import format_stats  # lazy: imports numpy

        click.echo(format_stats(out))
        return
    width = max([len(k) for k in out["per_class"]] + [5])
    click.echo(f"{'class':<{width}}  AP ({metric})")
    for name, ap in out["per_class"].items():
        click.echo(f"{name:<{width}}  {_fmt(ap)}")
    click.echo(f"{'mAP':<{width}}  {_fmt(out['mAP'])}")


def _score_segmentation(gt_dir: Path, pred_dir: Path, num_classes, ignore_index: int, as_json: bool) -> int:
    from ..data.image import read_mask  # lazy: imports torch
    from ..metrics.segmentation import ConfusionMatrix  # lazy: imports numpy

    for d, what in ((gt_dir, "ground-truth"), (pred_dir, "prediction")):
        if not d.is_dir():
            raise DataError(f"{d}: {what} folder not found")
    gt_files = sorted(p for p in gt_dir.iterdir() if p.suffix.lower() == ".png")
    if not gt_files:
        raise DataError(f"{gt_dir}: no .png masks in the ground-truth folder")
    preds = {p.stem: p for p in pred_dir.iterdir() if p.suffix.lower() == ".png"}
    for stem, p in list(preds.items()):  # `visionkit segment --out D` writes <stem>_mask.png
        if stem.endswith("_mask"):
            preds.setdefault(stem[: -len("_mask")], p)

    bad: list[str] = []  # unreadable or unscorable pairs
    missing = [f"{g.name}: no prediction {g.stem}.png in {pred_dir}" for g in gt_files if g.stem not in preds]
    pairs = [(g, preds[g.stem]) for g in gt_files if g.stem in preds]

    def read_pair(g: Path, p: Path, bad: list[str]):
        try:
            t, m = read_mask(g), read_mask(p)
        except DataError as e:
            bad.append(str(e))
            return None
        if t.shape != m.shape:
            bad.append(f"{p}: prediction is {m.shape[1]}x{m.shape[0]} but ground truth {g.name} is {t.shape[1]}x{t.shape[0]}")
            return None
        return t, m

    k = num_classes
    if k is None:  # first pass: the largest class index in either folder
        top = -1
        for g, p in pairs:
            tm = read_pair(g, p, [])  # problems are reported by the scoring pass below
            if tm is not None:
                t, m = tm
                valid = t[t != ignore_index]
                top = max(top, int(valid.max()) if valid.size else -1, int(m.max()))
        if top < 0:
            raise DataError(f"{pred_dir}: none of the {len(gt_files)} ground-truth masks in {gt_dir} has a readable prediction")
        k = top + 1

    cm = ConfusionMatrix(k, ignore_index=ignore_index)
    scored = 0
    for g, p in pairs:
        tm = read_pair(g, p, bad)
        if tm is None:
            continue
        try:
            cm.update(tm[1], tm[0])
            scored += 1
        except ValueError as e:
            bad.append(f"{p}: {e} (use --num-classes / --ignore-index)")
    if scored == 0:
        first = (bad or missing or ["-"])[0]
        raise DataError(f"{pred_dir}: no prediction could be scored ({len(bad) + len(missing)} problems; first: {first})")
    bad = missing + bad

    out = cm.compute()
    out = {"images": scored, "num_classes": k, **out}
    if as_json:
        click.echo(json.dumps(_clean({**out, "errors": bad})))
    else:
        click.echo(f"scored {scored} image(s), {k} classes, ignore index {ignore_index}")
        for c, v in enumerate(out["per_class_iou"]):
            click.echo(f"  class {c:>3}  IoU {_fmt(v)}")
        for key in ("mIoU", "pixel_acc", "mean_acc", "fw_iou"):
            click.echo(f"{key:<10} {_fmt(out[key])}")
    if bad:
        click.echo(f"{len(bad)} problem(s):", err=True)
        for line in bad:
            click.echo(f"  {line}", err=True)
        return 1
    return 0

