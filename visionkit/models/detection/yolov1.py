"""YOLOv1 — "You Only Look Once: Unified, Real-Time Object Detection" (Redmon et al., 2016).

One network looks at the whole image once and regresses, for every cell of an S×S grid,
B boxes with confidences and one set of class probabilities (see ``yolo_loss.py`` for the
grid encoding and the loss). Two heads:

* ``head="fc"`` — the paper's: the last feature map is flattened into a 4096-unit fully
  connected layer (dropout 0.5), then a layer of S·S·(5B+C) outputs reshaped to the grid.
  Used with the paper's 24-conv Darknet backbone (``backbone="darknet24"``) at 448×448.
* ``head="conv"`` — the practical one: 3×3 conv + BN + leaky ReLU, then a 1×1 conv to 5B+C
  channels at every grid position. Fully convolutional, so the grid follows the input size
  (S = input / stride); strided 3×3 convs are added when the backbone's last stride is finer
  than the grid asked for.

The head reads the backbone's last map, or (``fpn_levels=[c4, c5]``) the finest output of a
Feature Pyramid Network (``torchvision.ops``) over those levels: a stride-16 map that still sees
c5's context, for objects as small as BCCD's ~25-pixel platelets. This departs from the paper
the way YOLOv2's passthrough layer later did; the grid and loss are unchanged.

The grid suits one range of object sizes, where the paper fixes S = 7 for VOC's large objects.
``grid="auto"`` (the BCCD preset's) fits it to the training boxes (``autofit.fit_yolo_grid``:
the coarsest grid whose cell is no larger than the smallest class's typical box; 28 on BCCD,
7 for frame-filling objects). Measured reason: on a set of frame-filling objects grid 28 on the
stride-16 map gave validation mAP 0.000 after 13 epochs, highest score 0.0073 (below the 0.01
prior), while grid 7 reached 0.58 after 3 epochs: an object covering hundreds of cells has one
responsible cell that looks like its neighbours, which are all trained towards "no object".
The loss is the paper's at every grid. One grid, one level: a set with both tiny and
frame-filling objects gets the fine grid.

Outputs are squashed so that they live where their targets do: sigmoid for x, y, √w, √h and
the confidence, softmax for the class probabilities (``activation="linear"`` keeps the
paper's linear output layer instead). The loss is the paper's sum-squared error either way.
"""

from __future__ import annotations

from typing import Literal

import math
from collections import OrderedDict

import torch
from torch import nn

from ...registry import MODELS
from ..common import Images, Normalize, batch_images, build_backbone
from .autofit import fit_yolo_grid, is_auto
from .necks import FPNNeck
from .postprocess import Thresholds
from .yolo_loss import decode_predictions, encode_targets, yolo_loss


def _conv_bn_leaky(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True)
    )


class ConvHead(nn.Module):
    """Feature map -> ``N×S×S×(5B+C)`` raw grid outputs with convolutions only."""

    def __init__(self, in_channels: int, outputs: int, hidden: int = 512, downsample: int = 0):
        super().__init__()
        layers = [_conv_bn_leaky(in_channels if i == 0 else hidden, hidden, 3, 2) for i in range(downsample)]
        layers.append(_conv_bn_leaky(hidden if downsample else in_channels, hidden, 3))
        self.body = nn.Sequential(*layers)
        self.pred = nn.Conv2d(hidden, outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pred(self.body(x)).permute(0, 2, 3, 1)


class FCHead(nn.Module):
    """The paper's head: flatten -> FC 4096 -> leaky ReLU -> dropout 0.5 -> FC S·S·(5B+C)."""

    def __init__(self, in_channels: int, in_size: int, grid: int, outputs: int, hidden: int = 4096):
        super().__init__()
        self.grid, self.outputs = grid, outputs
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * in_size * in_size, hidden),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden, grid * grid * outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).view(x.shape[0], self.grid, self.grid, self.outputs)


class LastMap(nn.Module):
    """The backbone's last feature map, as it is (the paper's choice)."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.name = backbone.last
        self.out_channels, self.stride = backbone.out_channels[self.name], backbone.strides[self.name]

    def forward(self, feats: "OrderedDict[str, torch.Tensor]") -> torch.Tensor:
        return feats[self.name]


class PyramidMap(FPNNeck):
    """The finest map of a Feature Pyramid Network over ``levels`` (e.g. c4 + upsampled c5)."""

    def __init__(self, backbone: nn.Module, levels: list[str], out_channels: int):
        super().__init__(backbone, levels, out_channels, pool=False)
        self.stride = self.strides[self.names[0]]

    def forward(self, feats: "OrderedDict[str, torch.Tensor]") -> torch.Tensor:
        return super().forward(feats)[self.names[0]]


class YOLOv1(nn.Module):
    task = "detection"

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int,
        grid: int = 7,
        boxes_per_cell: int = 2,
        img_size: int = 448,
        head: str = "conv",
        hidden: int = 512,
        activation: str = "sigmoid",
        lambda_coord: float = 5.0,
        lambda_noobj: float = 0.5,
        score_thresh: float = 0.05,
        nms_thresh: float = 0.5,
        max_det: int = 100,
        neck: nn.Module | None = None,
    ):
        super().__init__()
        self.num_classes, self.grid, self.boxes_per_cell = num_classes, grid, boxes_per_cell
        self.img_size, self.activation = img_size, activation
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        self.thresholds = Thresholds(score_thresh, nms_thresh, max_det)  # the defaults of conf, iou, max_det, classes
        self.normalize = Normalize()
        self.backbone = backbone
        self.neck = neck or LastMap(backbone)
        channels, stride = self.neck.out_channels, self.neck.stride
        feat_size = img_size // stride
        outputs = 5 * boxes_per_cell + num_classes
        if head == "fc":
            self.head = FCHead(channels, feat_size, grid, outputs)
        elif head == "conv":
            ratio = feat_size / grid
            if ratio < 1 or ratio != 2 ** round(math.log2(ratio)):
                raise ValueError(f"grid {grid} must be img_size/stride ({feat_size}) divided by a power of two")
            self.head = ConvHead(channels, outputs, hidden, downsample=round(math.log2(ratio)))
        else:
            raise ValueError(f"head must be 'conv' or 'fc', not {head!r}")
        self.confidence_prior = 0.01 if activation == "sigmoid" else None  # the engine's not-learning check reads it
        if self.confidence_prior is not None:
            self._init_confidence_prior(self.confidence_prior)

    @torch.no_grad()
    def _init_confidence_prior(self, p: float) -> None:
        """Start every confidence at ``p`` instead of 0.5: with S·S·B mostly empty predictors,
        a 0.5 start makes the no-object term swamp the loss for the first epochs."""
        last = self.head.pred if isinstance(self.head, ConvHead) else self.head.fc[-1]
        bias = last.bias.view(-1, 5 * self.boxes_per_cell + self.num_classes) if isinstance(self.head, FCHead) else last.bias[None]
        bias[:, 4 : 5 * self.boxes_per_cell : 5] = math.log(p / (1 - p))

    def activate(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw head output -> [x, y, √w, √h, conf]×B in [0, 1] and class probabilities."""
        if self.activation == "linear":
            return raw
        nb = 5 * self.boxes_per_cell
        return torch.cat([raw[..., :nb].sigmoid(), raw[..., nb:].softmax(-1)], dim=-1)

    def forward(self, images: Images, targets: list[dict] | None = None, *, conf: float | None = None,
                iou: float | None = None, max_det: int | None = None, classes: list[int] | None = None):
        x, sizes = batch_images(images)
        features = self.neck(self.backbone(self.normalize(x)))
        pred = self.activate(self.head(features).float())  # N×S×S×(5B+C); loss and decoding in fp32 under AMP
        if self.training:
            grid_targets = encode_targets(targets, pred.shape[1], self.num_classes, tuple(x.shape[-2:]))
            # one class under softmax: P(class | object) is 1, its loss a constant 0, so it is left out
            class_loss = not (self.activation == "sigmoid" and self.num_classes == 1)
            return yolo_loss(pred, grid_targets, self.boxes_per_cell, self.lambda_coord, self.lambda_noobj, class_loss)
        post = self.thresholds.override(conf, iou, max_det, classes)
        return decode_predictions(pred, self.boxes_per_cell, sizes, tuple(x.shape[-2:]), post)


@MODELS.register("yolov1", task="detection")
def yolov1(
    num_classes: int = 20,
    backbone: str = "mobilenet_v2",
    pretrained: bool = True,
    frozen_stages: int = 0,
    grid: int | Literal["auto"] = 7,
    boxes_per_cell: int = 2,
    img_size: int = 448,
    head: str = "conv",
    hidden: int = 512,
    activation: str = "sigmoid",
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    score_thresh: float = 0.05,
    nms_thresh: float = 0.5,
    max_det: int = 100,
    fpn_levels: list[str] = (),
    neck_channels: int = 128,
) -> YOLOv1:
    """YOLOv1 on any zoo backbone (``darknet24`` for the paper's network); ``fpn_levels``
    (e.g. ``[c4, c5]``) puts the grid on a pyramid's finest map instead of the last map.
    ``grid="auto"`` is resolved from the training boxes by the engine (``autofit.fit_yolo_grid``);
    reaching the builder (no data), it is the finest grid the head can make."""
    body = build_backbone(backbone, pretrained, frozen_stages)
    neck = PyramidMap(body, list(fpn_levels), neck_channels) if fpn_levels else None
    if is_auto(grid):
        grid = fit_yolo_grid(None, img_size // (neck or LastMap(body)).stride, head)[0]
    elif isinstance(grid, str):
        raise ValueError(f"grid must be a number or 'auto', not {grid!r}")
    return YOLOv1(
        body, num_classes, grid, boxes_per_cell, img_size, head, hidden, activation,
        lambda_coord, lambda_noobj, score_thresh, nms_thresh, max_det, neck,
    )
