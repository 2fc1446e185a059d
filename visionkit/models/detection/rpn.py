"""Region Proposal Network (Ren et al. 2015, §3.1).

A small network slides over the backbone's feature map: a 3×3 convolution, then two sibling
1×1 convolutions giving, for each of the k anchors at each position, an objectness logit and
four box deltas. Proposals are the decoded anchors with the highest objectness, de-duplicated
by NMS (IoU 0.7). Training labels anchors by IoU with the ground truth (see ``matcher.py``),
samples 256 of them per image (up to half positive) and minimises

    L = BCE(objectness) over the sample  +  smooth-L1(deltas) over the positives / sample size

Anchors crossing the image border are kept (as in torchvision; the paper ignores them in
training) and proposals are clipped to the image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import batched_nms, clip_boxes_to_image, remove_small_boxes

from .anchors import AnchorGenerator
from .box_coder import BoxCoder
from .matcher import BELOW_LOW, BETWEEN, Matcher, sample_balanced


class RPNHead(nn.Module):
    def __init__(self, in_channels: int, num_anchors: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(in_channels, 4 * num_anchors, 1)
        for layer in (self.conv, self.cls_logits, self.bbox_pred):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, features: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        logits, deltas = [], []
        for f in features:
            t = F.relu(self.conv(f))
            logits.append(self.cls_logits(t))
            deltas.append(self.bbox_pred(t))
        return logits, deltas


def _flatten(logits: list[torch.Tensor], deltas: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Per-level ``N×A×H×W`` / ``N×4A×H×W`` maps -> ``N×M`` logits and ``N×M×4`` deltas in the
    anchor generator's order (positions row-major, anchors innermost)."""
    flat_l, flat_d, counts = [], [], []
    for lg, dl in zip(logits, deltas):
        N, A, H, W = lg.shape
        flat_l.append(lg.permute(0, 2, 3, 1).reshape(N, -1))
        flat_d.append(dl.view(N, A, 4, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, 4))
        counts.append(H * W * A)
    return torch.cat(flat_l, 1), torch.cat(flat_d, 1), counts


class RegionProposalNetwork(nn.Module):
    def __init__(
        self,
        anchor_generator: AnchorGenerator,
        head: RPNHead,
        fg_iou: float = 0.7,
        bg_iou: float = 0.3,
        batch_size_per_image: int = 256,
        positive_fraction: float = 0.5,
        pre_nms_top_n: tuple[int, int] = (2000, 1000),  # (training, testing), per level
        post_nms_top_n: tuple[int, int] = (2000, 1000),
        nms_thresh: float = 0.7,
        min_size: float = 1e-3,
    ):
        super().__init__()
        self.anchor_generator, self.head = anchor_generator, head
        self.coder = BoxCoder((1.0, 1.0, 1.0, 1.0))
        self.matcher = Matcher(fg_iou, bg_iou, allow_low_quality=True)
        self.batch_size_per_image, self.positive_fraction = batch_size_per_image, positive_fraction
        self.pre_nms_top_n, self.post_nms_top_n = pre_nms_top_n, post_nms_top_n
        self.nms_thresh, self.min_size = nms_thresh, min_size

    def forward(self, padded_size, image_sizes, features: list[torch.Tensor], targets=None):
        """-> (list of proposals per image, each P×4; dict of losses when training)."""
        logits, deltas = self.head(features)
        anchors = self.anchor_generator(padded_size, features)
        objectness, deltas, counts = _flatten(logits, deltas)
        N = objectness.shape[0]
        proposals = self.coder.decode(deltas.detach().reshape(-1, 4), anchors.repeat(N, 1)).view(N, -1, 4)
        boxes = self.select_proposals(proposals, objectness.detach(), image_sizes, counts)
        losses = {}
        if self.training:
            losses = self.loss(objectness, deltas, anchors, targets)
        return boxes, losses

    def select_proposals(self, proposals, objectness, image_sizes, counts) -> list[torch.Tensor]:
        """Top-n per level by objectness, clip, drop tiny boxes, NMS per level, keep post-n."""
        mode = 0 if self.training else 1
        pre_n, post_n = self.pre_nms_top_n[mode], self.post_nms_top_n[mode]
        levels = torch.cat([torch.full((c,), i, device=objectness.device) for i, c in enumerate(counts)])
        top_idx, start = [], 0
        for c in counts:
            k = min(pre_n, c)
            top_idx.append(objectness[:, start : start + c].topk(k, dim=1).indices + start)
            start += c
        top_idx = torch.cat(top_idx, 1)
        out = []
        for n, size in enumerate(image_sizes):
            idx = top_idx[n]
            boxes = clip_boxes_to_image(proposals[n, idx], size)
            scores, lvl = objectness[n, idx], levels[idx]
            keep = remove_small_boxes(boxes, self.min_size)
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = batched_nms(boxes, scores, lvl, self.nms_thresh)[:post_n]
            out.append(boxes[keep])
        return out

    def loss(self, objectness, deltas, anchors, targets) -> dict[str, torch.Tensor]:
        labels, reg_targets = [], []
        for t in targets:
            gt = t["boxes"].to(anchors.dtype)
            m = self.matcher(gt, anchors)
            lab = torch.ones_like(m, dtype=torch.float32)
            lab[m == BELOW_LOW] = 0.0
            lab[m == BETWEEN] = -1.0
            labels.append(lab)
            matched = gt[m.clamp(min=0)] if gt.numel() else torch.zeros_like(anchors)
            reg_targets.append(self.coder.encode(matched, anchors))
        pos_idx, neg_idx = [], []
        M = anchors.shape[0]
        for n, lab in enumerate(labels):
            pos, neg = sample_balanced(lab, self.batch_size_per_image, self.positive_fraction)
            pos_idx.append(pos + n * M)
            neg_idx.append(neg + n * M)
        pos, neg = torch.cat(pos_idx), torch.cat(neg_idx)
        sampled = torch.cat([pos, neg])
        labels, reg_targets = torch.cat(labels), torch.cat(reg_targets)
        objectness, deltas = objectness.reshape(-1), deltas.reshape(-1, 4)
        box_loss = F.smooth_l1_loss(deltas[pos], reg_targets[pos], beta=1 / 9, reduction="sum") / max(sampled.numel(), 1)
        obj_loss = F.binary_cross_entropy_with_logits(objectness[sampled], labels[sampled])
        return {"loss_objectness": obj_loss, "loss_rpn_box": box_loss}
