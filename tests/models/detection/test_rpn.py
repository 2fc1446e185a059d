"""The Region Proposal Network against torchvision's ``RegionProposalNetwork``: the same head
weights, anchors and settings give the same proposals (eval and training) and the same losses
(the anchor sampling draws the same ``randperm``s from the same seed), on one and on two
feature levels; and the ignore rule for anchors between the two IoU thresholds."""

from collections import OrderedDict

import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator as TVAnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork as TVRPN
from torchvision.models.detection.rpn import RPNHead as TVRPNHead

from visionkit.models.detection.anchors import AnchorGenerator
from visionkit.models.detection.rpn import RegionProposalNetwork, RPNHead

C = 8
PADDED = (128, 128)
SIZES = [(128, 128), (112, 96)]  # the second image is padded
SETTINGS = dict(fg_iou=0.7, bg_iou=0.3, batch_size_per_image=64, positive_fraction=0.5,
                pre_nms_top_n=(300, 200), post_nms_top_n=(120, 60), nms_thresh=0.7)
LEVELS = {
    "one level": (((16, 32, 64),), ((0.5, 1.0, 2.0),), [16]),
    "two levels": (((16, 24), (48, 64)), ((0.5, 1.0, 2.0),) * 2, [16, 8]),
}


def _pair(levels):
    """Our RPN and torchvision's with the same anchors, settings and (copied) head weights."""
    sizes, ratios, _ = LEVELS[levels]
    torch.manual_seed(0)
    anchors = AnchorGenerator(sizes, ratios)
    k = anchors.num_anchors_per_location()[0]
    ours = RegionProposalNetwork(anchors, RPNHead(C, k), **SETTINGS)
    for layer in (ours.head.conv, ours.head.cls_logits, ours.head.bbox_pred):  # spread the scores
        torch.nn.init.normal_(layer.weight, std=0.3)
        torch.nn.init.normal_(layer.bias, std=0.1)
    s = SETTINGS
    theirs = TVRPN(
        TVAnchorGenerator(sizes, ratios), TVRPNHead(C, k), fg_iou_thresh=s["fg_iou"], bg_iou_thresh=s["bg_iou"],
        batch_size_per_image=s["batch_size_per_image"], positive_fraction=s["positive_fraction"],
        pre_nms_top_n={"training": s["pre_nms_top_n"][0], "testing": s["pre_nms_top_n"][1]},
        post_nms_top_n={"training": s["post_nms_top_n"][0], "testing": s["post_nms_top_n"][1]},
        nms_thresh=s["nms_thresh"], score_thresh=0.0,
    )
    with torch.no_grad():
        conv = theirs.head.conv[0][0]
        for dst, src in ((conv, ours.head.conv), (theirs.head.cls_logits, ours.head.cls_logits),
                         (theirs.head.bbox_pred, ours.head.bbox_pred)):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
    return ours, theirs


def _inputs(levels):
    g = torch.Generator().manual_seed(1)
    features = [torch.randn(2, C, n, n, generator=g) for n in LEVELS[levels][2]]
    targets = [
        {"boxes": torch.tensor([[10.0, 12, 50, 60], [60, 30, 120, 90], [70, 70, 86, 84]]), "labels": torch.tensor([1, 2, 1])},
        {"boxes": torch.tensor([[5.0, 40, 45, 100], [50, 8, 90, 40]]), "labels": torch.tensor([3, 2])},
    ]
    return features, targets


def _run_both(ours, theirs, features, targets=None):
    torch.manual_seed(123)
    boxes, losses = ours(PADDED, SIZES, features, targets)
    torch.manual_seed(123)
    images = ImageList(torch.zeros(2, 3, *PADDED), SIZES)
    tv_boxes, tv_losses = theirs(images, OrderedDict((str(i), f) for i, f in enumerate(features)), targets)
    return boxes, losses, tv_boxes, tv_losses


@pytest.mark.parametrize("levels", list(LEVELS))
def test_eval_proposals_equal_torchvisions(levels):
    ours, theirs = _pair(levels)
    ours.eval(), theirs.eval()
    features, _ = _inputs(levels)
    with torch.no_grad():
        boxes, losses, tv_boxes, _ = _run_both(ours, theirs, features)
    assert losses == {}
    for b, tb, (h, w) in zip(boxes, tv_boxes, SIZES):
        assert b.shape == tb.shape and 20 < len(b) <= SETTINGS["post_nms_top_n"][1]
        torch.testing.assert_close(b, tb, rtol=0, atol=1e-4)
        assert b[:, 2].max() <= w and b[:, 3].max() <= h  # clipped to the image, not the padding


@pytest.mark.parametrize("levels", list(LEVELS))
def test_training_losses_and_proposals_equal_torchvisions(levels):
    ours, theirs = _pair(levels)
    ours.train(), theirs.train()
    features, targets = _inputs(levels)
    boxes, losses, tv_boxes, tv_losses = _run_both(ours, theirs, features, targets)
    for b, tb in zip(boxes, tv_boxes):
        torch.testing.assert_close(b, tb, rtol=0, atol=1e-4)
    assert losses["loss_rpn_box"] > 0 and losses["loss_objectness"] > 0.1
    torch.testing.assert_close(losses["loss_objectness"], tv_losses["loss_objectness"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(losses["loss_rpn_box"], tv_losses["loss_rpn_box_reg"], rtol=1e-5, atol=1e-6)
    # the gradients reach the same head weights
    sum(losses.values()).backward()
    sum(tv_losses.values()).backward()
    torch.testing.assert_close(ours.head.cls_logits.weight.grad, theirs.head.cls_logits.weight.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(ours.head.bbox_pred.weight.grad, theirs.head.bbox_pred.weight.grad, rtol=1e-4, atol=1e-6)


def test_anchors_between_the_thresholds_are_neither_positive_nor_negative():
    """Three anchors against one GT box: IoU 1 (positive), ~0.47 (ignored), 0 (negative). The
    ignored anchor's logit is pushed to ±50: a positive or negative label would cost ~50/2."""
    rpn, _ = _pair("one level")
    gt = torch.tensor([[0.0, 0, 30, 30]])
    anchors = torch.tensor([[0.0, 0, 30, 30], [0, 0, 30, 14], [60, 60, 90, 90]])  # IoU 1, 14/30, 0
    deltas = torch.zeros(1, 3, 4)
    for middle in (50.0, -50.0):
        objectness = torch.tensor([[20.0, middle, -20.0]])
        losses = rpn.loss(objectness, deltas, anchors, [{"boxes": gt, "labels": torch.tensor([1])}])
        assert losses["loss_objectness"] < 1e-6  # only the two confident, correct anchors count
    # with the ignore band closed (bg_iou = fg_iou) the same anchor is a negative
    rpn.matcher.low = rpn.matcher.high
    losses = rpn.loss(torch.tensor([[20.0, 50.0, -20.0]]), deltas, anchors, [{"boxes": gt, "labels": torch.tensor([1])}])
    torch.testing.assert_close(losses["loss_objectness"], torch.tensor(50.0 / 3), rtol=1e-4, atol=0)
