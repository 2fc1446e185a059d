"""Faster R-CNN speed, side by side with torchvision's ``FasterRCNN`` in one run.

Both detectors use the same ImageNet MobileNetV2 features, the same input size (no resizing
inside torchvision: its transform is pinned to the same size) and the same batch. torchvision
is in its tutorial configuration (1280-channel features straight into RoIAlign, a 1024-unit
two-layer MLP head); ours is ``configs/faster_rcnn_bccd.yaml`` as it stands (now a 128-channel
FPN over c4/c5). Prints per-image inference latency, training throughput, and the ratios.

    python tools/bench_faster_rcnn.py [--size 512] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from visionkit.bench import median_time  # noqa: E402
from visionkit.errors import run_script  # noqa: E402

CONFIG = ROOT / "configs" / "faster_rcnn_bccd.yaml"


def config(size: int):
    from visionkit.config import load_config

    return load_config(CONFIG, [f"data.img_size={size}"])


def ours(cfg, num_classes: int):
    from visionkit.engine.build import build_model

    return build_model(cfg, ["c"] * num_classes)


def torchvision_tutorial(cfg, num_classes: int):
    """torchvision's tutorial model (the registered peer ``torchvision_faster_rcnn``) with the
    backbone, frozen stages, RPN and RoI counts and the input size of ``cfg``."""
    from visionkit.registry import MODELS

    m = cfg.model
    return MODELS.build(
        "torchvision_faster_rcnn", num_classes=num_classes, backbone=m["backbone"], pretrained=m.get("pretrained", True),
        frozen_stages=m.get("frozen_stages", 0), img_size=cfg.data.img_size, rpn_pre_nms_top_n=m["rpn_pre_nms_top_n"],
        rpn_post_nms_top_n=m["rpn_post_nms_top_n"], roi_batch_size=m["roi_batch_size"],
    )


def batch(n: int, size: int):
    g = torch.Generator().manual_seed(0)
    images = [torch.rand(3, size, size, generator=g) for _ in range(n)]
    targets = []
    for _ in range(n):
        xy = torch.rand(12, 2, generator=g) * (size - 120)
        wh = torch.rand(12, 2, generator=g) * 80 + 30
        targets.append({"boxes": torch.cat([xy, xy + wh], 1), "labels": torch.randint(1, 4, (12,), generator=g)})
    return images, targets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--train-batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = config(args.size)
    models = {"visionkit": ours(cfg, 3), "torchvision": torchvision_tutorial(cfg, 3)}
    one, _ = batch(1, args.size)
    images, targets = batch(args.train_batch, args.size)
    rows = {}
    for name, model in models.items():
        model.eval()

        def infer():
            with torch.inference_mode():
                model(one)

        latency = median_time(infer, args.repeats)
        model.train()
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)

        def step():
            losses = model(images, targets)
            opt.zero_grad()
            sum(losses.values()).backward()
            opt.step()

        step_time = median_time(step, args.repeats)
        rows[name] = (latency, args.train_batch / step_time, sum(p.numel() for p in model.parameters()))
        print(f"{name:12s} inference {latency * 1000:8.1f} ms/image   training {rows[name][1]:6.2f} images/s   params {rows[name][2] / 1e6:.2f}M")
    lat = rows["visionkit"][0] / rows["torchvision"][0]
    thr = rows["visionkit"][1] / rows["torchvision"][1]
    print(f"latency ratio (ours/torchvision): {lat:.2f}   (goal <= 0.8)")
    print(f"training throughput ratio (ours/torchvision): {thr:.2f}   (goal >= 1.25)")
    return 0


if __name__ == "__main__":
    run_script(main)
