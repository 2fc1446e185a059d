"""The detection head of Fast/Faster R-CNN (Girshick 2015, §2).

Each region of interest is pooled from the shared feature map into a fixed H×W grid
(RoI max pooling in the paper, ``torchvision.ops.roi_pool``; RoIAlign from Mask R-CNN,
``torchvision.ops.MultiScaleRoIAlign``, removes its quantisation), passed through fully
connected layers, and two sibling outputs give softmax class scores over K+1 classes (0 is
background) and per-class box deltas. Training samples RoIs per image (foreground IoU ≥ 0.5,
at most a quarter of the sample) and minimises the multi-task loss

    L = CE(class)  +  [class ≥ 1] · smooth-L1(deltas of the true class)

At test time every class's box is decoded, background dropped, and per-class NMS applied.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import MultiScaleRoIAlign, roi_pool

from .box_coder import BoxCoder
from .matcher import BELOW_LOW, Matcher, sample_balanced
from .postprocess import Thresholds, detections_per_image


class TwoMLPHead(nn.Module):
    """Pooled RoI (C×H×W) -> flatten -> fc -> ReLU -> fc -> ReLU (VGG's fc6/fc7 in the paper)."""

    def __init__(self, in_features: int, hidden: int = 1024):
        super().__init__()
        self.fc6 = nn.Linear(in_features, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.out_features = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc7(F.relu(self.fc6(x.flatten(1)))))


class BoxPredictor(nn.Module):
    """The two sibling layers: class scores (K+1) and per-class box deltas (4·(K+1))."""

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        self.cls_score = nn.Linear(in_features, num_classes + 1)
        self.bbox_pred = nn.Linear(in_features, 4 * (num_classes + 1))
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        nn.init.zeros_(self.cls_score.bias)
        nn.init.zeros_(self.bbox_pred.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls_score(x), self.bbox_pred(x)


class RoIPooler(nn.Module):
    """``"align"``: RoIAlign over one or several feature levels (torchvision picks the level
    by box size); ``"pool"``: the paper's RoI max pooling over a single level."""

    def __init__(self, names: list[str], output_size: int = 7, mode: str = "align", sampling_ratio: int = 2, stride: int = 32):
        super().__init__()
        if mode not in ("align", "pool"):
            raise ValueError(f"RoI pooling must be 'align' or 'pool', not {mode!r}")
        if mode == "pool" and len(names) != 1:
            raise ValueError("RoI max pooling works on one feature level; use 'align' with FPN")
        self.names, self.output_size, self.mode, self.stride = names, output_size, mode, stride
        self.align = MultiScaleRoIAlign(names, output_size, sampling_ratio) if mode == "align" else None

    def forward(self, features: "OrderedDict[str, torch.Tensor]", rois: list[torch.Tensor], image_sizes) -> torch.Tensor:
        if self.align is not None:
            return self.align(features, rois, image_sizes)
        return roi_pool(features[self.names[0]], rois, self.output_size, spatial_scale=1.0 / self.stride)


class RoIHeads(nn.Module):
    def __init__(
        self,
        pooler: RoIPooler,
        box_head: nn.Module,
        predictor: BoxPredictor,
        fg_iou: float = 0.5,
        bg_iou_low: float = 0.0,
        batch_size_per_image: int = 512,
        positive_fraction: float = 0.25,
    ):
        super().__init__()
        self.pooler, self.box_head, self.predictor = pooler, box_head, predictor
        self.coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
        # IoU >= fg_iou: foreground; [bg_iou_low, fg_iou): background; below: ignored
        self.matcher = Matcher(fg_iou, bg_iou_low)
        self.bg_iou_low = bg_iou_low
        self.batch_size_per_image, self.positive_fraction = batch_size_per_image, positive_fraction

    def forward(self, features, proposals: list[torch.Tensor], image_sizes, targets=None, thresholds: Thresholds = Thresholds()):
        """-> (detections per image, dict of losses when training); ``thresholds``: the
        detector's operating point for this call."""
        if self.training:
            proposals, labels, reg_targets = self.sample(proposals, targets)
        x = self.box_head(self.pooler(features, proposals, image_sizes))
        class_logits, deltas = self.predictor(x)
        if self.training:
            return [], self.loss(class_logits, deltas, labels, reg_targets)
        return self.postprocess(class_logits, deltas, proposals, image_sizes, thresholds), {}

    def sample(self, proposals, targets):
        """Add the GT boxes to the proposals, label each RoI (class or 0 = background, −1 =
        ignored below ``bg_iou_low``), and sample a balanced set per image."""
        out_rois, out_labels, out_targets = [], [], []
        for rois, t in zip(proposals, targets):
            gt, gt_labels = t["boxes"].to(rois.dtype), t["labels"]
            rois = torch.cat([rois, gt])
            m = self.matcher(gt, rois)  # no GT: every RoI is BELOW_LOW
            labels = gt_labels[m.clamp(min=0)].long() if gt.numel() else torch.zeros_like(m)
            labels[m < 0] = 0  # [bg_iou_low, fg_iou): background
            if self.bg_iou_low > 0 and gt.numel():
                labels[m == BELOW_LOW] = -1  # Fast R-CNN: IoU below 0.1 is not a useful negative
            pos, neg = sample_balanced(labels, self.batch_size_per_image, self.positive_fraction)
            keep = torch.cat([pos, neg])
            rois, labels, m = rois[keep], labels[keep], m[keep]
            matched = gt[m.clamp(min=0)] if gt.numel() else torch.zeros_like(rois)
            out_rois.append(rois)
            out_labels.append(labels)
            out_targets.append(self.coder.encode(matched, rois))
        return out_rois, torch.cat(out_labels), torch.cat(out_targets)

    def loss(self, class_logits, deltas, labels, reg_targets) -> dict[str, torch.Tensor]:
        cls_loss = F.cross_entropy(class_logits, labels)
        pos = torch.nonzero(labels > 0).flatten()
        deltas = deltas.reshape(deltas.shape[0], -1, 4)[pos, labels[pos]]
        box_loss = F.smooth_l1_loss(deltas, reg_targets[pos], beta=1 / 9, reduction="sum") / max(labels.numel(), 1)
        return {"loss_classifier": cls_loss, "loss_box_reg": box_loss}

    def postprocess(self, class_logits, deltas, proposals, image_sizes, thresholds: Thresholds) -> list[dict[str, torch.Tensor]]:
        boxes = self.coder.decode(deltas, torch.cat(proposals))  # R×(K+1)×4
        return detections_per_image(boxes, class_logits.softmax(-1), [len(p) for p in proposals], image_sizes, thresholds)
