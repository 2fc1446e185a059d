"""Images/s of the BCCD training pipeline: visionkit (OpenCV + albumentations) against the
equivalent torchvision pipeline (torchvision.io + transforms.v2), side by side in one run.

Both pipelines do the same work per image: decode the JPEG, horizontal flip (p=0.5),
letterbox to --img-size (longest side, pad to square), scale jitter 0.8-1.2 as a zoom with a
10% shift, colour jitter (brightness/contrast/saturation 0.3, hue 0.05), float [0, 1] CHW,
keep the boxes consistent; then collate batches of --batch. The annotations are parsed once,
outside the timing, and shared, so only decode + augment + collate is measured.

    python tools/bench_data.py --root $VISIONKIT_DATA/bccd            # prints both and the ratio

Threads are pinned to one (OpenCV and torch) so the numbers compare the pipelines, not the
thread pools; --workers > 0 runs both through DataLoader worker processes instead. The image
files are read once before timing (warm page cache), and the two pipelines alternate which
goes first in each repeat; the ratio of medians and each repeat's ratio are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import torch
from torch.utils.data import DataLoader, Dataset

from visionkit.config import AugmentConfig, DataConfig
from visionkit.data import build_dataset, collate


class TorchvisionBCCD(Dataset):
    """The same items, decoded by torchvision.io and augmented by transforms.v2."""

    def __init__(self, items, img_size: int):
        from torchvision.transforms import v2

        self.items = items
        self.tf = v2.Compose([
            v2.RandomHorizontalFlip(0.5),
            v2.Resize(size=None, max_size=img_size, antialias=True),
            v2.CenterCrop(img_size),  # pads the short side: the letterbox
            v2.RandomAffine(degrees=0, translate=(0.1, 0.1), scale=(0.8, 1.2), fill=114),
            v2.ColorJitter(0.3, 0.3, 0.3, 0.05),
            v2.ToDtype(torch.float32, scale=True),
            v2.SanitizeBoundingBoxes(),
        ])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from torchvision import tv_tensors
        from torchvision.io import ImageReadMode, decode_jpeg, read_file

        it = self.items[i]
        image = decode_jpeg(read_file(it.path), mode=ImageReadMode.RGB)
        boxes = tv_tensors.BoundingBoxes(torch.from_numpy(it.boxes), format="XYXY", canvas_size=image.shape[-2:])
        image, target = self.tf(image, {"boxes": boxes, "labels": torch.from_numpy(it.labels)})
        return image, target


def run(loader, batches: int) -> float:
    """Images/s over ``batches`` batches, after one warm-up batch."""
    it = iter(loader)
    next(it)
    n, t0 = 0, time.perf_counter()
    for _ in range(batches):
        try:
            images, _ = next(it)
        except StopIteration:
            it = iter(loader)
            images, _ = next(it)
        n += len(images)
    return n / (time.perf_counter() - t0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(os.environ.get("VISIONKIT_DATA", "data"), "bccd"))
    ap.add_argument("--img-size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--batches", type=int, default=25, help="timed batches per measurement")
    ap.add_argument("--repeats", type=int, default=3, help="alternating measurements; the median is reported")
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    aug = AugmentConfig(hflip=0.5, scale_jitter=(0.8, 1.2), color_jitter=0.3, hue=0.05)
    cfg = DataConfig(format="voc", root=args.root, img_size=args.img_size, resize="letterbox", augment=aug)
    ours = build_dataset(cfg, "train", train=True)
    theirs = TorchvisionBCCD(ours.items, args.img_size)

    def loader(ds, fn):
        kw = {"persistent_workers": True} if args.workers else {}
        return DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=args.workers, collate_fn=fn, **kw)

    tv_collate = lambda b: (torch.stack([x[0] for x in b]), [x[1] for x in b])  # noqa: E731
    loaders = {"visionkit (OpenCV + albumentations)": loader(ours, collate),
               "torchvision (io + transforms.v2)": loader(theirs, tv_collate)}
    for it in ours.items:  # page cache warm for both: the first pipeline timed must not pay the disk
        with open(it.path, "rb") as f:
            f.read()
    speeds: dict[str, list[float]] = {k: [] for k in loaders}
    for r in range(args.repeats):
        order = list(loaders) if r % 2 == 0 else list(loaders)[::-1]  # alternate who goes first
        for name in order:
            speeds[name].append(run(loaders[name], args.batches))
    print(f"BCCD train, {args.batches * args.batch} images x {args.repeats} repeats, img_size {args.img_size}, "
          f"batch {args.batch}, workers {args.workers}, torch {torch.__version__}, OpenCV {cv2.__version__}")
    med = {k: statistics.median(v) for k, v in speeds.items()}
    for name, v in speeds.items():
        print(f"  {name:<38} {med[name]:7.1f} images/s   (runs: {', '.join(f'{x:.1f}' for x in v)})")
    a, b = (speeds[k] for k in loaders)
    pairs = [x / y for x, y in zip(a, b)]  # each repeat measures both back to back
    print(f"ratio visionkit / torchvision: {statistics.median(a) / statistics.median(b):.2f}x "
          f"(per repeat: {', '.join(f'{r:.2f}x' for r in pairs)})")


if __name__ == "__main__":
    main()
