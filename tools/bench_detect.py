"""End-to-end CPU speed of the default detector against torchvision's
``fasterrcnn_mobilenet_v3_large_fpn``, in one run, at batch 1 and the same image size.

Both sides are timed from the file on disk to boxes in original pixels:

* **ours**: ``load_model("default-detector").stream(paths, workers=W)`` — JPEG decode, letterbox
  to imgsz×imgsz, YOLOv1 on MobileNetV2 (BN fused, channels-last on CPU), NMS, boxes mapped back —
  with ``workers=0`` (everything in one thread) and ``workers=2`` (decode overlapped with the model);
* **torchvision**: ``cv2.imdecode`` + conversion to a float tensor each image, then
  ``fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None, num_classes=4,
  min_size=imgsz, max_size=imgsz)`` in eval mode under ``torch.inference_mode`` (its own resize:
  long side = imgsz, aspect kept, padded to a multiple of 32; RPN, RoI heads, NMS, boxes back).

torchvision's weights are *untrained* (no downloads are possible here), so its boxes are
meaningless and only its speed counts, with two biases against it that the output reports:

* its RPN keeps proposals scoring >= ``rpn_score_thresh`` (0.05) among the top 1000 after NMS;
  untrained objectness is ~0.5 everywhere, so all 1000 reach the RoI head (two 1024-unit FC
  layers on 1000 RoIs: most of its time), where a trained RPN passes fewer. The ``roi/img``
  column shows the count; ``--tv-proposals K`` caps it (``rpn_post_nms_top_n_test``) to see
  how the time scales;
* an untrained model can return up to ``box_detections_per_img`` (100) boxes per image, and
  that postprocessing cost is included (``boxes/img`` shows what each side returned).

Each repeat times one pass over the N images for every configuration in turn (interleaved, so
a slow spell of a busy machine hits all of them); the table reports the median over repeats.

    python tools/bench_detect.py                          # 20 images cycled from data/samples
    python tools/bench_detect.py --images $VISIONKIT_DATA/bccd/JPEGImages --n 50 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp"}


def image_paths(folder: str, n: int) -> list[Path]:
    """The first ``n`` images of ``folder`` (sorted), cycled when the folder has fewer."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise SystemExit(f"{folder}: no images")
    return [files[i % len(files)] for i in range(n)]


def ours(imgsz: int, workers: int, conf: float | None) -> Callable[[list[Path]], int]:
    """One pass of ``Predictor.stream`` over the paths -> the number of boxes returned."""
    from visionkit import load_model

    predictor = load_model("default-detector", device="cpu")

    def run(paths: list[Path]) -> int:
        boxes = 0
        for res in predictor.stream(paths, imgsz=imgsz, conf=conf, batch=1, workers=workers):
            if res.error:
                raise SystemExit(res.error)
            boxes += len(res.boxes)
        return boxes

    return run


def torchvision_frcnn(imgsz: int, proposals: int) -> Callable[[list[Path]], int]:
    """One pass of decode -> tensor -> torchvision Faster R-CNN (untrained) -> numpy boxes.
    ``run.rois`` collects the number of proposals that reached the RoI head per image."""
    import cv2
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn

    torch.manual_seed(0)
    model = fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None, num_classes=4,
                                              min_size=imgsz, max_size=imgsz, rpn_post_nms_top_n_test=proposals).eval()
    rois: list[int] = []
    model.roi_heads.register_forward_pre_hook(lambda _m, args: rois.extend(len(p) for p in args[1]))

    @torch.inference_mode()
    def run(paths: list[Path]) -> int:
        boxes = 0
        for p in paths:
            image = cv2.imdecode(np.fromfile(str(p), np.uint8), cv2.IMREAD_COLOR_RGB)
            x = torch.from_numpy(image).permute(2, 0, 1).float().div_(255.0)
            out = model([x])[0]
            boxes += len(out["boxes"].numpy())
        return boxes

    run.rois = rois
    return run


def measure(runs: dict[str, Callable], paths: list[Path], warmup: int, repeats: int) -> dict[str, dict]:
    """images/s per pass for each configuration, the configurations interleaved per repeat."""
    for run in runs.values():
        for _ in range(warmup):
            run(paths[: min(len(paths), 3)])
    rates: dict[str, list[float]] = {name: [] for name in runs}
    boxes: dict[str, int] = {}
    for r in range(repeats):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in order:
            t = time.perf_counter()
            boxes[name] = runs[name](paths)
            rates[name].append(len(paths) / (time.perf_counter() - t))
    return {name: {"median": statistics.median(v), "min": min(v), "max": max(v), "boxes": boxes[name] / len(paths)}
            for name, v in rates.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=str(Path(__file__).parents[1] / "data" / "samples"), help="a folder of images")
    ap.add_argument("--n", type=int, default=20, help="images per pass (cycled when the folder has fewer)")
    ap.add_argument("--imgsz", type=int, default=448, help="input size: ours letterboxes to imgsz², torchvision's long side")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--repeats", type=int, default=5, help="timed passes per configuration (median reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed passes over 3 images first")
    ap.add_argument("--conf", type=float, default=None, help="our score threshold (default: the model's own)")
    ap.add_argument("--tv-proposals", type=int, default=1000, help="torchvision's rpn_post_nms_top_n_test (its default 1000)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    paths = image_paths(args.images, args.n)
    runs = {
        "visionkit default-detector, workers=0": ours(args.imgsz, 0, args.conf),
        "visionkit default-detector, workers=2": ours(args.imgsz, 2, args.conf),
        "torchvision fasterrcnn_mobilenet_v3_large_fpn": torchvision_frcnn(args.imgsz, args.tv_proposals),
    }
    rois = runs["torchvision fasterrcnn_mobilenet_v3_large_fpn"].rois
    res = measure(runs, paths, args.warmup, args.repeats)

    import torchvision

    print(f"CPU, {args.threads} torch thread(s) of {os.cpu_count()} cores; torch {torch.__version__}, "
          f"torchvision {torchvision.__version__}; batch 1, imgsz {args.imgsz}")
    print(f"{len(paths)} images per pass from {args.images}; {args.repeats} repeats, median (min..max)")
    print("torchvision's weights are UNTRAINED (no downloads here): speed only, its boxes mean nothing; "
          "its postprocessing of up to 100 boxes/img is included in the time")
    print(f"torchvision's RoI head got {statistics.mean(rois):.0f} proposals/img (untrained RPN: all of "
          f"rpn_post_nms_top_n_test={args.tv_proposals}; a trained RPN drops those scoring < 0.05, so it would be faster)")
    width = max(len(k) for k in res)
    print(f"{'detector':<{width}}  {'images/s':>9}  {'ms/img':>7}  {'min..max images/s':>17}  {'boxes/img':>9}")
    for name, r in res.items():
        print(f"{name:<{width}}  {r['median']:9.2f}  {1000 / r['median']:7.1f}  "
              f"{r['min']:8.2f}..{r['max']:<7.2f}  {r['boxes']:9.1f}")
    tv = res["torchvision fasterrcnn_mobilenet_v3_large_fpn"]["median"]
    for w in (0, 2):
        print(f"ratio ours (workers={w}) / torchvision images/s: {res[f'visionkit default-detector, workers={w}']['median'] / tv:.2f}")


if __name__ == "__main__":
    main()
