"""Pack a training checkpoint into a compact model file for shipping (e.g. the bundled
default detector): model weights only (EMA weights when present), floats stored as fp16,
plus config, classes, task, version and metrics. Loads like any checkpoint
(``torch.load(weights_only=True)``); weights are cast back to fp32 on load.

    python tools/pack_model.py runs/yolov1_bccd/best.pt visionkit/assets/default_detector.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from visionkit.engine.checkpoint import ema_weights, load_checkpoint, save_checkpoint


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--fp32", action="store_true", help="keep float32 weights")
    args = ap.parse_args(argv)
    pack(args.src, args.dst, half=not args.fp32)
    print(f"{args.src} -> {args.dst} ({Path(args.dst).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
