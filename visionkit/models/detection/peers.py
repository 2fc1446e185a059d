"""Peer baselines: torchvision's own detectors on our backbones, registered so that the same
engine trains, evaluates and benchmarks them beside visionkit's models (``tools/train.py``,
``visionkit eval``, ``tools/bench_faster_rcnn.py``). They are yardsticks, not visionkit models.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign

from ...registry import MODELS
from ..common import build_backbone
from .postprocess import Thresholds, detections_per_image


class _OneMap(nn.Module):
    """torchvision's ``FasterRCNN`` wants a module that returns one feature map and has
    ``out_channels``: a zoo backbone's last level."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body, self.level = body, body.last
        self.out_channels = body.out_channels[self.level]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)[self.level]


class TorchvisionFasterRCNN(FasterRCNN):
    """torchvision's ``FasterRCNN`` (same modules, same state dict) with our detection
    contract's eval call, ``model(images, conf=, iou=, max_det=, classes=)``: the RPN and the
    RoI heads run as torchvision's own, then their class scores and boxes go through our
    :func:`~visionkit.models.detection.postprocess.detections_per_image` with this call's
    thresholds, which is torchvision's ``postprocess_detections`` step for step. Its
    ``roi_heads.score_thresh``/``nms_thresh``/``detections_per_img`` are the defaults, never
    changed by a call; the RPN's own NMS and score threshold belong to the proposals."""

    task = "detection"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        heads = self.roi_heads
        self.thresholds = Thresholds(heads.score_thresh, heads.nms_thresh, heads.detections_per_img)

    def forward(self, images, targets: list[dict] | None = None, *, conf: float | None = None, iou: float | None = None,
                max_det: int | None = None, classes: list[int] | None = None):
        if self.training:
            return super().forward(images, targets)
        post = self.thresholds.override(conf, iou, max_det, classes)
        original_sizes = [(int(img.shape[-2]), int(img.shape[-1])) for img in images]
        batch, _ = self.transform(list(images))
        features = self.backbone(batch.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        proposals, _ = self.rpn(batch, features)
        heads = self.roi_heads
        logits, deltas = heads.box_predictor(heads.box_head(heads.box_roi_pool(features, proposals, batch.image_sizes)))
        boxes = heads.box_coder.decode(deltas, proposals)  # R×(K+1)×4
        detections = detections_per_image(boxes, logits.softmax(-1), [len(p) for p in proposals], batch.image_sizes, post)
        return self.transform.postprocess(detections, batch.image_sizes, original_sizes)


@MODELS.register("torchvision_faster_rcnn", task="detection")
def torchvision_faster_rcnn(
    num_classes: int = 20,
    backbone: str = "mobilenet_v2",
    pretrained: bool = True,
    frozen_stages: int = 0,
    img_size: int = 512,
    anchor_sizes: list[float] = (32, 64, 128, 256),
    anchor_ratios: list[float] = (0.5, 1.0, 2.0),
    rpn_pre_nms_top_n: tuple[int, int] = (2000, 1000),
    rpn_post_nms_top_n: tuple[int, int] = (2000, 1000),
    roi_batch_size: int = 512,
    score_thresh: float = 0.05,
    nms_thresh: float = 0.5,
    max_det: int = 100,
) -> nn.Module:
    """torchvision's ``FasterRCNN`` (as :class:`TorchvisionFasterRCNN`) in its tutorial
    configuration ("Object detection finetuning tutorial": a MobileNetV2 body's 1280-channel map straight into RoIAlign 7×7 and the default
    two-layer 1024-unit MLP head, one map with 4 anchor sizes × 3 ratios). Its transform is
    pinned to ``img_size`` (``min_size = max_size``), so a letterboxed square input is not
    resized again. ``num_classes`` counts the user's classes, as for our models."""
    (pre_train, pre_test), (post_train, post_test) = rpn_pre_nms_top_n, rpn_post_nms_top_n
    return TorchvisionFasterRCNN(
        _OneMap(build_backbone(backbone, pretrained, frozen_stages)), num_classes=num_classes + 1,
        min_size=img_size, max_size=img_size,
        rpn_anchor_generator=AnchorGenerator((tuple(anchor_sizes),), (tuple(anchor_ratios),)),
        box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2),
        rpn_pre_nms_top_n_train=pre_train, rpn_pre_nms_top_n_test=pre_test,
        rpn_post_nms_top_n_train=post_train, rpn_post_nms_top_n_test=post_test,
        box_batch_size_per_image=roi_batch_size,
        box_score_thresh=score_thresh, box_nms_thresh=nms_thresh, box_detections_per_img=max_det,
    )
