"""Inference time of R-CNN, Fast R-CNN and Faster R-CNN, and how it grows with image size and
proposal count, in one run on the same image and backbone (issue #5).

    python tools/bench_rcnn_family.py --image $VISIONKIT_DATA/bccd/JPEGImages/BloodImage_00000.jpg

The models are built from ``configs/{rcnn,fast_rcnn,faster_rcnn}_bccd.yaml`` (``--weights-*``
loads trained checkpoints instead; the time barely depends on the weights). Three tables:

1. **The three generations** at the configs' image size and test proposal counts: selective
   search time, network time (the model with its proposals given), and their sum. The papers'
   speed-ups: Fast R-CNN's network ~9x faster than R-CNN's at test time (VGG16, proposals
   excluded), Faster R-CNN ~10x faster than selective search + Fast R-CNN in total.
2. **Image size**: network time of each model at several sizes, proposals fixed.
3. **Proposal count**: network time against the number of proposals (R-CNN, Fast R-CNN: the
   first N selective-search boxes; Faster R-CNN: the RPN's post-NMS top N).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from visionkit.bench import median_time  # noqa: E402
from visionkit.config import load_config  # noqa: E402
from visionkit.data.image import read_image  # noqa: E402
from visionkit.data.transforms import boxes_to_input, preprocess  # noqa: E402
from visionkit.engine.build import build_model  # noqa: E402
from visionkit.engine.restore import build_from_checkpoint  # noqa: E402
from visionkit.errors import run_script  # noqa: E402
from visionkit.models.detection.selective_search import selective_search  # noqa: E402

NAMES = ("rcnn", "fast_rcnn", "faster_rcnn")


class GivenProposals:
    """Stands in for the selective-search proposer: the first ``n`` of fixed boxes."""

    def __init__(self, boxes: torch.Tensor, n: int):
        self.boxes, self.n = boxes, n

    def __call__(self, images, sizes, training, targets=None):
        return [self.boxes[: self.n]] * len(sizes)


def load(cfg, weights: str):
    if weights:
        return build_from_checkpoint(weights)[0].eval()
    return build_model(cfg, cfg.data.classes).eval()


def set_proposals(name: str, model, boxes: torch.Tensor, n: int) -> None:
    if name == "faster_rcnn":
        model.rpn.post_nms_top_n = (model.rpn.post_nms_top_n[0], n)
        model.rpn.pre_nms_top_n = (model.rpn.pre_nms_top_n[0], max(model.rpn.pre_nms_top_n[1], n))
    else:
        model.proposer = GivenProposals(boxes, n)


def network_time(name: str, model, rgb, search, size: int, n: int, repeats: int) -> float:
    """Seconds per image of ``model`` at ``size`` with ``n`` proposals (``search``: the
    selective-search boxes of the original image)."""
    x, meta = preprocess(rgb, size)
    boxes = torch.from_numpy(boxes_to_input(search, meta))
    set_proposals(name, model, boxes, n)
    with torch.inference_mode():
        return median_time(lambda: model([x]), repeats)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", required=True)
    ap.add_argument("--size", type=int, default=0, help="the image size of tables 1 and 3 (default: the configs')")
    ap.add_argument("--sizes", default="320,512,640")
    ap.add_argument("--proposals", default="100,300,1000,2000")
    ap.add_argument("--max-proposals", type=int, default=0, help="cap table 1's proposal counts (default: the configs')")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    for n in NAMES:
        ap.add_argument(f"--weights-{n.replace('_', '-')}", default="", help=f"a trained {n} checkpoint")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rgb = read_image(args.image)
    cfgs = {n: load_config(ROOT / "configs" / f"{n}_bccd.yaml") for n in NAMES}
    models = {n: load(cfgs[n], getattr(args, f"weights_{n}")) for n in NAMES}
    size = args.size or cfgs["faster_rcnn"].data.img_size
    test_n = {"rcnn": cfgs["rcnn"].model["proposals_test"], "fast_rcnn": cfgs["fast_rcnn"].model["proposals_test"],
              "faster_rcnn": cfgs["faster_rcnn"].model["rpn_post_nms_top_n"][1]}
    if args.max_proposals:
        test_n = {k: min(v, args.max_proposals) for k, v in test_n.items()}

    x, _ = preprocess(rgb, size)
    letterboxed = (x.permute(1, 2, 0) * 255).round().byte().numpy()
    ss = median_time(lambda: selective_search(letterboxed), max(1, args.repeats // 2))
    search = selective_search(rgb)
    print(f"1. The three generations at {size} px ({Path(args.image).name}), {args.threads} threads, median of {args.repeats}")
    print(f"{'model':12s} {'proposals':>9s} {'search s':>9s} {'network s':>10s} {'total s':>8s}")
    total = {}
    for n in NAMES:
        net = network_time(n, models[n], rgb, search, size, test_n[n], args.repeats)
        t_ss = 0.0 if n == "faster_rcnn" else ss
        total[n] = (net, t_ss + net)
        print(f"{n:12s} {test_n[n]:9d} {t_ss:9.2f} {net:10.3f} {t_ss + net:8.2f}")
    print(f"network speed-up R-CNN -> Fast R-CNN: {total['rcnn'][0] / total['fast_rcnn'][0]:.1f}x   "
          f"total speed-up Fast -> Faster R-CNN: {total['fast_rcnn'][1] / total['faster_rcnn'][1]:.1f}x")

    print("\n2. Network time (s) against image size, proposals as above")
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'model':12s}" + "".join(f"{s:>9d}" for s in sizes))
    for n in NAMES:
        print(f"{n:12s}" + "".join(f"{network_time(n, models[n], rgb, search, s, test_n[n], args.repeats):9.3f}" for s in sizes))

    print(f"\n3. Network time (s) against the number of proposals, at {size} px")
    counts = [int(c) for c in args.proposals.split(",")]
    print(f"{'model':12s}" + "".join(f"{c:>9d}" for c in counts))
    for n in NAMES:
        print(f"{n:12s}" + "".join(f"{network_time(n, models[n], rgb, search, size, c, args.repeats):9.3f}" for c in counts))
    return 0


if __name__ == "__main__":
    run_script(main)
