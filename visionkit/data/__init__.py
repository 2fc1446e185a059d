"""Readers for the standard data formats, transforms, collate and validation.

    from visionkit.data import build_dataset, make_loader
    ds = build_dataset(cfg.data, "train", train=True)     # reader by cfg.data.format
    image, target = ds[0]                                  # CHW float [0, 1], dict of tensors
    loader = make_loader(ds, 8, shuffle=True, workers=2)   # collate handles variable box counts

Formats (``data.format``): voc, coco, yolo (detection); masks, voc_masks (segmentation);
coco_captions (captioning); idx (generation / classification); synthetic (generated
shapes, no files: smoke tests). Importing this package
registers them all in :data:`visionkit.registry.DATASETS`.
"""

from . import captions, coco, idx, masks, synthetic, voc, yolo  # noqa: F401  (registers the readers)
from .build import build_dataset, make_loader
from .collate import collate
from .image import read_image
from .transforms import boxes_to_original, build_transforms, preprocess
from .validate import Issues
from .vocab import Vocabulary

__all__ = ["build_dataset", "make_loader", "collate", "read_image", "preprocess", "boxes_to_original",
           "build_transforms", "Issues", "Vocabulary"]
