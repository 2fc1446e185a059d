"""Faster R-CNN — "Towards Real-Time Object Detection with Region Proposal Networks"
(Ren, He, Girshick & Sun, 2015).

    image -> backbone -> (neck) -> RPN: anchors -> proposals -> RoI heads -> detections

The RPN and the detection head share the convolutional features, so proposals cost almost
nothing. A *neck* sits between the backbone and both heads: either a 1×1 convolution that
reduces the channels of one feature map (cheap RoI pooling and a small first FC layer — the
biggest single saving on a CPU), or a Feature Pyramid Network (``fpn=True``,
``torchvision.ops.FeaturePyramidNetwork``) over c3–c5 with one anchor size per level.
``num_classes`` counts the user's classes; background is class 0 inside the model.
"""

from __future__ import annotations

from typing import Literal

from torch import nn

from ...registry import MODELS
from ..common import Images, Normalize, batch_images, build_backbone
from .anchors import AnchorGenerator
from .autofit import fit_anchors, is_auto
from .necks import FPNNeck, ReduceNeck
from .postprocess import Thresholds
from .roi_heads import BoxPredictor, RoIHeads, RoIPooler, TwoMLPHead
from .rpn import RegionProposalNetwork, RPNHead


class FasterRCNN(nn.Module):
    task = "detection"

    def __init__(self, backbone: nn.Module, neck: nn.Module, rpn: RegionProposalNetwork, roi_heads: RoIHeads,
                 thresholds: Thresholds = Thresholds(), size_divisible: int = 32):
        super().__init__()
        self.normalize = Normalize()
        self.backbone, self.neck, self.rpn, self.roi_heads = backbone, neck, rpn, roi_heads
        self.thresholds = thresholds  # the defaults of conf, iou, max_det, classes
        self.size_divisible = size_divisible

    def forward(self, images: Images, targets: list[dict] | None = None, *, conf: float | None = None,
                iou: float | None = None, max_det: int | None = None, classes: list[int] | None = None):
        x, sizes = batch_images(images, self.size_divisible)
        features = self.neck(self.backbone(self.normalize(x)))
        proposals, rpn_losses = self.rpn(tuple(x.shape[-2:]), sizes, list(features.values()), targets)
        post = self.thresholds.override(conf, iou, max_det, classes)
        detections, head_losses = self.roi_heads(features, proposals, sizes, targets, post)
        return {**rpn_losses, **head_losses} if self.training else detections


@MODELS.register("faster_rcnn", task="detection")
def faster_rcnn(
    num_classes: int = 20,
    backbone: str = "mobilenet_v2",
    pretrained: bool = True,
    frozen_stages: int = 0,
    feature: str = "",
    neck_channels: int = 256,
    fpn: bool = False,
    fpn_levels: list[str] = ("c3", "c4", "c5"),
    anchor_sizes: list[list[float]] | Literal["auto"] = ((32, 64, 128),),
    anchor_ratios: list[list[float]] = ((0.5, 1.0, 2.0),),
    rpn_pre_nms_top_n: tuple[int, int] = (2000, 1000),
    rpn_post_nms_top_n: tuple[int, int] = (2000, 1000),
    rpn_nms_thresh: float = 0.7,
    rpn_batch_size: int = 256,
    roi_pool: str = "align",
    roi_size: int = 7,
    head_hidden: int = 1024,
    roi_batch_size: int = 512,
    roi_positive_fraction: float = 0.25,
    score_thresh: float = 0.05,
    nms_thresh: float = 0.5,
    max_det: int = 100,
) -> FasterRCNN:
    """Faster R-CNN on any zoo backbone. Without FPN the RPN and RoI pooling read one feature
    map (``feature``, default the backbone's last) after a 1×1 channel reduction to
    ``neck_channels`` (0 keeps the backbone's channels, as in torchvision's tutorial). With
    FPN, give one anchor size per level in ``anchor_sizes`` (p3..p6). ``anchor_sizes="auto"``
    is resolved from the training boxes by the engine (``autofit.fit_anchors``); reaching the
    builder (no data), it is ``2s, 4s`` per level of stride ``s`` (one level: ``2s, 4s, 8s``)."""
    body = build_backbone(backbone, pretrained, frozen_stages)
    neck = FPNNeck(body, list(fpn_levels), neck_channels or 256) if fpn else ReduceNeck(body, feature or body.last, neck_channels)
    if is_auto(anchor_sizes):
        strides = [neck.strides[k] for k in neck.names]
        anchor_sizes = fit_anchors(None, strides, [list(r) for r in anchor_ratios], 3 if len(strides) == 1 else 2)[0]
    elif isinstance(anchor_sizes, str):
        raise ValueError(f"anchor_sizes must be a list of lists or 'auto', not {anchor_sizes!r}")
    body.truncate(neck.in_features[-1])
    anchors = AnchorGenerator(anchor_sizes, anchor_ratios)
    if len(anchors.sizes) != len(neck.names):
        raise ValueError(f"anchor_sizes needs one entry per feature level ({len(neck.names)}: {neck.names})")
    rpn = RegionProposalNetwork(
        anchors, RPNHead(neck.out_channels, anchors.num_anchors_per_location()[0]),
        batch_size_per_image=rpn_batch_size, pre_nms_top_n=tuple(rpn_pre_nms_top_n),
        post_nms_top_n=tuple(rpn_post_nms_top_n), nms_thresh=rpn_nms_thresh,
    )
    pooler = RoIPooler(neck.roi_levels, roi_size, roi_pool, stride=neck.strides[neck.roi_levels[0]])
    box_head = TwoMLPHead(neck.out_channels * roi_size * roi_size, head_hidden)
    heads = RoIHeads(
        pooler, box_head, BoxPredictor(head_hidden, num_classes), batch_size_per_image=roi_batch_size,
        positive_fraction=roi_positive_fraction,
    )
    return FasterRCNN(body, neck, rpn, heads, Thresholds(score_thresh, nms_thresh, max_det))
