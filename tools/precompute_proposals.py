"""Fill the selective-search cache of an R-CNN / Fast R-CNN config before training.

    python tools/precompute_proposals.py configs/fast_rcnn_bccd.yaml [--workers 2]

Selective search costs seconds per image, so R-CNN and Fast R-CNN (like the papers) compute
it once per image and keep the boxes on disk. This tool does that ahead of time, in parallel
processes, for

* the training split: on each original image (what ``data.proposals: selective_search``
  attaches to the training samples, which the augmentation then flips and resizes);
* the evaluation splits (val, test): on each letterboxed evaluation image, exactly what the
  model's proposer searches at inference.

It prints the time taken, the mean number of boxes and their recall of the ground truth at
IoU 0.5 and 0.7 (the upper bound on what the detector can find), per split, and per class at 0.5.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.config import load_config  # noqa: E402
from visionkit.data.build import build_dataset  # noqa: E402
from visionkit.engine.build import build_model, build_proposer  # noqa: E402
from visionkit.errors import UserError, run_script  # noqa: E402

_STATE: dict = {}


def _init(cfg_path: str, overrides: list[str]) -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    cfg = load_config(cfg_path, overrides)
    _STATE["cfg"] = cfg
    _STATE["proposer"] = build_model(cfg, cfg.data.classes, pretrained=False).proposer


def _one(job: tuple[str, int]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(boxes, ground truth per class, recalled at IoU 0.5 per class, at 0.7 per class) for
    item ``i`` of ``split``."""
    from torchvision.ops import box_iou

    split, i = job
    cfg = _STATE["cfg"]
    key = (split, cfg.data.train == split)
    if key not in _STATE:
        _STATE[key] = build_dataset(cfg.data, split, train=key[1], proposer=build_proposer(cfg.data))
    ds = _STATE[key]
    if key[1]:  # training: the boxes on the original image, as the samples carry them
        _, target = ds.raw(i)  # the reader searched (or read the cache) for target["proposals"]
        boxes, gt = torch.from_numpy(target["proposals"]), torch.from_numpy(target["boxes"])
        labels = torch.as_tensor(target["labels"])
    else:  # evaluation: the proposer's search on the letterboxed image
        image, target = ds[i]
        boxes = _STATE["proposer"](image[None], [tuple(image.shape[-2:])], False)[0]
        gt, labels = target["boxes"], target["labels"]
    k = len(ds.classes) + 1
    best = box_iou(gt, boxes).max(1).values if len(gt) and len(boxes) else torch.zeros(len(gt))
    count = lambda m: np.bincount(labels[m].numpy(), minlength=k)[1:]  # noqa: E731
    return len(boxes), count(best >= 0), count(best >= 0.5), count(best >= 0.7)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("overrides", nargs="*", help="key=value config overrides")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--splits", default="", help="comma-separated split names (default: train, val, test)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    if not cfg.data.proposals:
        raise UserError(f"{args.config}: data.proposals is empty: this config does not use selective search")
    splits = args.splits.split(",") if args.splits else list(dict.fromkeys([cfg.data.train, cfg.data.val, cfg.data.test]))
    # "spawn", not fork: a child forked from a process whose OpenCV / OpenMP thread pools are
    # running can wait forever on a lock held by a thread that was not copied into it.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=spawn, initializer=_init,
                             initargs=(args.config, args.overrides)) as pool:
        for split in splits:
            ds = build_dataset(cfg.data, split, train=split == cfg.data.train)
            n = len(ds)
            t = time.perf_counter()
            from tqdm import tqdm

            rows = list(tqdm(pool.map(_one, [(split, i) for i in range(n)]), total=n, desc=split, leave=False))
            boxes = sum(r[0] for r in rows)
            gt, r5, r7 = (np.sum([r[j] for r in rows], 0) for j in (1, 2, 3))
            per_class = "  ".join(f"{c} {a / max(g, 1):.3f}" for c, a, g in zip(ds.classes, r5, gt))
            print(f"{split:10s} {n:4d} images  {time.perf_counter() - t:7.1f} s  {boxes / n:7.0f} boxes/image  "
                  f"recall@0.5 {r5.sum() / max(gt.sum(), 1):.3f}  recall@0.7 {r7.sum() / max(gt.sum(), 1):.3f}"
                  f"  recall@0.5 per class: {per_class}", flush=True)
    return 0


if __name__ == "__main__":
    run_script(main)
