"""Pack a training checkpoint into a compact model file for shipping (e.g. the bundled
default detector): model weights only (EMA weights when present), floats stored as fp16,
plus config, classes, task, version and metrics. Loads like any checkpoint
(``torch.load(weights_only=True)``); weights are cast back to fp32 on load.

    python tools/pack_model.py runs/yolov1_bccd/best.pt visionkit/assets/default_detector.pt [--calibrate val]

``--calibrate SPLIT`` (detectors) scores the checkpoint on that split of its own config's data
and stores the score threshold of best class-mean F1 as ``conf``: the default ``conf`` of
``visionkit detect``, ``load_model(...).predict`` and the model's exports (``visionkit.api``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from visionkit.engine.checkpoint import ema_weights, load_checkpoint, save_checkpoint
from visionkit.errors import UserError


def pack(src: str | Path, dst: str | Path, half: bool = True, extra: dict | None = None) -> dict:
    ckpt = load_checkpoint(src)
    weights = ema_weights(ckpt["ema"]) if ckpt.get("ema") else ckpt["model"]
    if half:
        weights = {k: v.half() if torch.is_floating_point(v) else v for k, v in weights.items()}
    packed = {k: ckpt.get(k) for k in ("config", "classes", "task", "visionkit_version", "metrics", "cat_ids") if k in ckpt}
    packed.update({"model": weights, "epoch": ckpt.get("epoch"), "step": ckpt.get("step"), "packed_from": str(src)})
    packed.update(extra or {})
    save_checkpoint(dst, packed)
    return packed


def calibrate(src: str | Path, split: str) -> dict:
    """The F1-optimal ``conf`` of a detector checkpoint on ``split`` of its config's data."""
    from visionkit.config import build_config
    from visionkit.engine.evaluator import evaluate_checkpoint

    ckpt = load_checkpoint(src, task="detection")  # a one-line error for any other task
    # scored at the NMS IoU and cap that prediction uses: the model's own, whatever eval says
    cfg = build_config(ckpt["config"], ["eval.metric=voc07", "eval.nms_iou=null", "eval.max_det=null", "quiet=true"])
    res, _ = evaluate_checkpoint(cfg, src, split)
    if "F1_conf" not in res.metrics:  # reported only when something was detected
        raise UserError(f"{src}: the model detects nothing right on {split!r} (F1 0): no operating point to store")
    return {"conf": res.metrics["F1_conf"], "conf_calibration": {"split": split, "F1": res.metrics["F1"], "mAP": res.metrics["mAP"]}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--fp32", action="store_true", help="keep float32 weights")
    ap.add_argument("--calibrate", metavar="SPLIT", help="store the F1-optimal detection threshold on SPLIT as conf")
    args = ap.parse_args(argv)
    extra = calibrate(args.src, args.calibrate) if args.calibrate else None
    pack(args.src, args.dst, half=not args.fp32, extra=extra)
    print(f"{args.src} -> {args.dst} ({Path(args.dst).stat().st_size / 1e6:.1f} MB)"
          + (f"; conf {extra['conf']:.2f} (F1 {extra['conf_calibration']['F1']:.3f} on {args.calibrate})" if extra else ""))
    return 0


if __name__ == "__main__":
    from visionkit.errors import run_script

    run_script(main)
