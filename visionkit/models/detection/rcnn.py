"""R-CNN — "Rich feature hierarchies for accurate object detection" (Girshick et al., CVPR 2014).

    image -> selective search (~2k regions) -> warp each region (with 16 px of context) to a
    fixed square -> CNN features per region -> class scores + class-specific box regression
    -> per-class NMS

Each region is cut out and resized on its own ("warp", §2.1): anisotropic scaling of the box
grown so that there are ``context`` pixels of image around it at the warped size. Here the
warp is bilinear resampling of the box (``torchvision.ops.roi_align`` on the image itself).
The CNN then runs once *per region* — the cost Fast R-CNN removes.

Classification: a softmax over K+1 classes trained with the CNN (the paper trains linear SVMs
on the fine-tuned features afterwards and reports softmax about 3 mAP points lower on VOC;
we keep the softmax to train in one pass). Box regression: class-specific, on the same
features (the paper regresses from pool5 in a separate ridge-regression step). Fine-tuning
samples follow the paper: IoU ≥ 0.5 positive, a quarter of each mini-batch.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import roi_align

from ...registry import MODELS
from ..common import Images, Normalize, batch_images, build_backbone
from .proposals import SelectiveSearchProposer
from .postprocess import Thresholds
from .roi_heads import BoxPredictor, RoIHeads
from .selective_search import default_cache_dir


class WarpRegions(nn.Module):
    """Cut every region out of the (normalised) image and warp it to ``size × size``, after
    growing the box so that ``context`` of the ``size`` pixels show the surroundings."""

    def __init__(self, size: int = 224, context: int = 16):
        super().__init__()
        self.size, self.context = size, context

    def forward(self, features: dict, rois: list[torch.Tensor], image_sizes) -> torch.Tensor:
        grown = []
        for r in rois:
            w, h = r[:, 2] - r[:, 0], r[:, 3] - r[:, 1]
            pad_w = w * self.context / max(self.size - 2 * self.context, 1)
            pad_h = h * self.context / max(self.size - 2 * self.context, 1)
            grown.append(torch.stack([r[:, 0] - pad_w, r[:, 1] - pad_h, r[:, 2] + pad_w, r[:, 3] + pad_h], 1))
        return roi_align(features["image"], grown, self.size, spatial_scale=1.0, sampling_ratio=2, aligned=True)


class RegionCNN(nn.Module):
    """The CNN applied to each warped region -> globally pooled feature vector."""

    def __init__(self, backbone: nn.Module, chunk: int = 64):
        super().__init__()
        self.backbone, self.chunk = backbone, chunk
        self.out_features = backbone.out_channels[backbone.last]

    def forward(self, regions: torch.Tensor) -> torch.Tensor:
        feats = [self.backbone(c)[self.backbone.last].mean((2, 3)) for c in regions.split(self.chunk)]
        return torch.cat(feats) if feats else regions.new_zeros((0, self.out_features))


class RCNN(nn.Module):
    task = "detection"

    def __init__(self, proposer: SelectiveSearchProposer, heads: RoIHeads, thresholds: Thresholds = Thresholds(iou=0.3)):
        super().__init__()
        self.normalize = Normalize()
        self.proposer, self.heads = proposer, heads
        self.thresholds = thresholds  # the defaults of conf, iou, max_det, classes

    def forward(self, images: Images, targets: list[dict] | None = None, *, conf: float | None = None,
                iou: float | None = None, max_det: int | None = None, classes: list[int] | None = None):
        x, sizes = batch_images(images)
        proposals = self.proposer(x, sizes, self.training, targets)
        post = self.thresholds.override(conf, iou, max_det, classes)
        detections, losses = self.heads({"image": self.normalize(x)}, proposals, sizes, targets, post)
        return losses if self.training else detections


@MODELS.register("rcnn", task="detection")
def rcnn(
    num_classes: int = 20,
    backbone: str = "mobilenet_v2",
    pretrained: bool = True,
    frozen_stages: int = 0,
    warp_size: int = 224,
    context: int = 16,
    rois_per_image: int = 64,
    fg_fraction: float = 0.25,
    proposals_train: int = 2000,
    proposals_test: int = 500,
    chunk: int = 64,
    score_thresh: float = 0.05,
    nms_thresh: float = 0.3,
    max_det: int = 100,
) -> RCNN:
    """R-CNN on any zoo backbone; ``warp_size`` 224 as in the paper (smaller is much faster)."""
    cnn = RegionCNN(build_backbone(backbone, pretrained, frozen_stages), chunk)
    heads = RoIHeads(
        WarpRegions(warp_size, context), cnn, BoxPredictor(cnn.out_features, num_classes),
        batch_size_per_image=rois_per_image, positive_fraction=fg_fraction,
    )
    proposer = SelectiveSearchProposer(default_cache_dir(), (proposals_train, proposals_test))
    return RCNN(proposer, heads, Thresholds(score_thresh, nms_thresh, max_det))
