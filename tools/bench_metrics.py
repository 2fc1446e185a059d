"""Benchmark: VOC mAP scoring speed, against pycocotools' COCOeval on the same detections.

    python tools/bench_metrics.py                    # 100,000 detections over 5,000 images
    python tools/bench_metrics.py --repeats 7 --images 5000 --dets 100000

Synthetic but realistic input: 1-5 ground-truth boxes per image over 20 classes (10% marked
difficult), and detections jittered around them (plus some class confusions) with random
scores. Times are wall-clock medians of ``--repeats`` runs. The COCOeval timings cover
``evaluate() + accumulate()`` (the ground truth and results are indexed beforehand, outside
the clock), once with the default ten IoU thresholds and once with the single threshold 0.5.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.bench import median_time  # noqa: E402
from visionkit.metrics.coco import coco_from_dataset  # noqa: E402
from visionkit.metrics.results import to_coco_results  # noqa: E402
from visionkit.metrics.voc import voc_evaluate  # noqa: E402


def make_data(n_images: int, n_dets: int, n_classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    per_img = np.full(n_images, n_dets // n_images)
    per_img[: n_dets - per_img.sum()] += 1
    gts, preds = [], []
    for i in range(n_images):
        n = int(rng.integers(1, 6))
        xy = rng.uniform(0, 400, (n, 2))
        b = np.concatenate([xy, xy + rng.uniform(16, 200, (n, 2))], 1)
        lab = rng.integers(1, n_classes + 1, n)
        gts.append({"boxes": b, "labels": lab, "difficult": rng.random(n) < 0.1})
        m = int(per_img[i])
        src = rng.integers(0, n, m)
        pb = b[src] + rng.normal(0, 10, (m, 4))
        pb[:, 2:] = np.maximum(pb[:, 2:], pb[:, :2] + 1)
        pl = np.where(rng.random(m) < 0.15, rng.integers(1, n_classes + 1, m), lab[src])
        preds.append({"boxes": pb, "labels": pl, "scores": rng.random(m)})
    return gts, preds


def coco_objects(gts, preds, n_classes):
    images = [{"id": i + 1} for i in range(len(gts))]
    anns = []
    for i, g in enumerate(gts):
        for b, l in zip(g["boxes"].tolist(), g["labels"].tolist()):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": l, "bbox": [b[0], b[1], w, h],
                         "area": w * h, "iscrowd": 0})
    cats = [{"id": k, "name": str(k)} for k in range(1, n_classes + 1)]
    gt = coco_from_dataset({"images": images, "annotations": anns, "categories": cats})
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(to_coco_results(preds, list(range(1, len(preds) + 1))))
    return gt, dt


def time_cocoeval(gt, dt, repeats: int, single_thr: bool) -> float:
    from pycocotools.cocoeval import COCOeval

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            ev = COCOeval(gt, dt, "bbox")
            if single_thr:
                ev.params.iouThrs = np.array([0.5])
            ev.evaluate()
            ev.accumulate()

    return median_time(run, repeats, warmup=0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--dets", type=int, default=100_000)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5, help="runs of each timing; the median is reported")
    ap.add_argument("--coco-repeats", type=int, default=1, help="runs of each (slow) COCOeval timing")
    ap.add_argument("--skip-coco", action="store_true")
    a = ap.parse_args(argv)

    gts, preds = make_data(a.images, a.dets, a.classes)
    classes = [str(k) for k in range(1, a.classes + 1)]
    n = sum(len(p["scores"]) for p in preds)
    print(f"input: {n} detections, {sum(len(g['labels']) for g in gts)} GT boxes, {a.images} images, {a.classes} classes")
    res = {}
    for metric in ("voc07", "voc"):
        t = median_time(lambda m=metric: voc_evaluate(gts, preds, classes, metric=m), a.repeats, warmup=0)
        res[metric] = t
        m_ap = voc_evaluate(gts, preds, classes, metric=metric)["mAP"]
        print(f"voc_evaluate metric={metric:<5}  median {t:.3f} s over {a.repeats} runs  (mAP {m_ap:.4f})")
    if a.skip_coco:
        return
    gt, dt = coco_objects(gts, preds, a.classes)
    t1 = time_cocoeval(gt, dt, a.coco_repeats, single_thr=True)
    print(f"COCOeval evaluate+accumulate, IoU 0.5 only : {t1:.3f} s  -> voc07 is {t1 / res['voc07']:.1f}x faster")
    t10 = time_cocoeval(gt, dt, a.coco_repeats, single_thr=False)
    print(f"COCOeval evaluate+accumulate, 10 IoU thrs  : {t10:.3f} s  -> voc07 is {t10 / res['voc07']:.1f}x faster")


if __name__ == "__main__":
    main()
