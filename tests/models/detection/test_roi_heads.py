"""The detection head against torchvision's ``RoIHeads``: the same box head and predictor
weights, pooler and settings give the same detections in eval mode and the same losses in
training (the RoI sampling draws the same ``randperm``s from the same seed); and the
``bg_iou_low`` rule that ignores RoIs below Fast R-CNN's [0.1, 0.5) background range."""

from collections import OrderedDict

import torch
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.faster_rcnn import TwoMLPHead as TVTwoMLPHead
from torchvision.models.detection.roi_heads import RoIHeads as TVRoIHeads
from torchvision.ops import MultiScaleRoIAlign

from visionkit.models.detection.postprocess import Thresholds
from visionkit.models.detection.roi_heads import BoxPredictor, RoIHeads, RoIPooler, TwoMLPHead

C, K, HIDDEN = 8, 3, 32
SIZES = [(128, 128), (112, 96)]
SETTINGS = dict(batch_size_per_image=48, positive_fraction=0.25, score_thresh=0.05, nms_thresh=0.5, max_det=40)
THRESHOLDS = Thresholds(conf=SETTINGS["score_thresh"], iou=SETTINGS["nms_thresh"], max_det=SETTINGS["max_det"])  # per call
TARGETS = [
    {"boxes": torch.tensor([[10.0, 12, 50, 60], [60, 30, 120, 90], [70, 70, 86, 84]]), "labels": torch.tensor([1, 2, 3])},
    {"boxes": torch.tensor([[5.0, 40, 45, 100], [50, 8, 90, 40]]), "labels": torch.tensor([3, 2])},
]


def _pair():
    torch.manual_seed(0)
    ours = RoIHeads(RoIPooler(["c5"], 7, "align", 2), TwoMLPHead(C * 49, HIDDEN), BoxPredictor(HIDDEN, K),
                    fg_iou=0.5, bg_iou_low=0.0, batch_size_per_image=SETTINGS["batch_size_per_image"],
                    positive_fraction=SETTINGS["positive_fraction"])
    torch.nn.init.normal_(ours.predictor.cls_score.weight, std=0.3)  # spread the scores and boxes
    torch.nn.init.normal_(ours.predictor.bbox_pred.weight, std=0.1)
    s = SETTINGS
    theirs = TVRoIHeads(
        MultiScaleRoIAlign(["c5"], 7, 2), TVTwoMLPHead(C * 49, HIDDEN), FastRCNNPredictor(HIDDEN, K + 1),
        fg_iou_thresh=0.5, bg_iou_thresh=0.5, batch_size_per_image=s["batch_size_per_image"],
        positive_fraction=s["positive_fraction"], bbox_reg_weights=None, score_thresh=s["score_thresh"],
        nms_thresh=s["nms_thresh"], detections_per_img=s["max_det"],
    )
    theirs.box_head.load_state_dict(ours.box_head.state_dict(), strict=True)
    theirs.box_predictor.load_state_dict(ours.predictor.state_dict(), strict=True)
    return ours, theirs


def _inputs():
    g = torch.Generator().manual_seed(1)
    features = OrderedDict(c5=torch.randn(2, C, 16, 16, generator=g))
    proposals = []
    for h, w in SIZES:
        xy = torch.rand(60, 2, generator=g) * torch.tensor([w - 20.0, h - 20.0])
        wh = torch.rand(60, 2, generator=g) * 50 + 8
        proposals.append(torch.cat([xy, torch.minimum(xy + wh, torch.tensor([w, h], dtype=torch.float32))], 1))
    return features, proposals


def _run_both(ours, theirs, targets=None):
    features, proposals = _inputs()
    copies = [p.clone() for p in proposals]
    torch.manual_seed(123)
    out, losses = ours(features, proposals, SIZES, targets, thresholds=THRESHOLDS)
    torch.manual_seed(123)
    tv_out, tv_losses = theirs(features, copies, SIZES, targets)
    return out, losses, tv_out, tv_losses


def test_eval_detections_equal_torchvisions():
    ours, theirs = _pair()
    ours.eval(), theirs.eval()
    with torch.no_grad():
        out, losses, tv_out, _ = _run_both(ours, theirs)
    assert losses == {}
    for det, tv_det, (h, w) in zip(out, tv_out, SIZES):
        assert 10 < len(det["boxes"]) <= SETTINGS["max_det"]
        torch.testing.assert_close(det["scores"], tv_det["scores"], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(det["boxes"], tv_det["boxes"], rtol=0, atol=1e-4)
        assert torch.equal(det["labels"], tv_det["labels"])
        assert det["boxes"][:, 2].max() <= w and det["boxes"][:, 3].max() <= h


def test_training_losses_equal_torchvisions():
    ours, theirs = _pair()
    ours.train(), theirs.train()
    _, losses, _, tv_losses = _run_both(ours, theirs, TARGETS)
    assert set(losses) == set(tv_losses) == {"loss_classifier", "loss_box_reg"}
    assert losses["loss_box_reg"] > 0 and losses["loss_classifier"] > 0.1
    for key in losses:
        torch.testing.assert_close(losses[key], tv_losses[key], rtol=1e-5, atol=1e-6)
    sum(losses.values()).backward()
    sum(tv_losses.values()).backward()
    torch.testing.assert_close(ours.predictor.bbox_pred.weight.grad, theirs.box_predictor.bbox_pred.weight.grad,
                               rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(ours.box_head.fc6.weight.grad, theirs.box_head.fc6.weight.grad, rtol=1e-4, atol=1e-7)


def _hand_made(bg_iou_low):
    """One GT box (class 2) and four proposals with IoU 0.64, 0.3, 0.05 and 0 with it."""
    heads = RoIHeads(RoIPooler(["c5"]), TwoMLPHead(4), BoxPredictor(4, K), fg_iou=0.5, bg_iou_low=bg_iou_low,
                     batch_size_per_image=100, positive_fraction=0.5)
    gt = {"boxes": torch.tensor([[0.0, 0, 100, 100]]), "labels": torch.tensor([2])}
    proposals = torch.tensor([[0.0, 0, 100, 64], [0, 0, 100, 30], [0, 0, 100, 5], [200, 200, 240, 240]])
    torch.manual_seed(0)
    rois, labels, _ = heads.sample([proposals], [gt])
    return {tuple(r.tolist()): int(lab) for r, lab in zip(rois[0], labels)}


def test_fast_rcnn_background_range_ignores_rois_below_bg_iou_low():
    sampled = _hand_made(bg_iou_low=0.1)
    assert sampled == {(0.0, 0, 100, 100): 2, (0.0, 0, 100, 64): 2, (0.0, 0, 100, 30): 0}  # IoU < 0.1: not sampled


def test_without_bg_iou_low_every_roi_below_fg_is_background():
    sampled = _hand_made(bg_iou_low=0.0)
    assert sampled == {(0.0, 0, 100, 100): 2, (0.0, 0, 100, 64): 2, (0.0, 0, 100, 30): 0,
                       (0.0, 0, 100, 5): 0, (200.0, 200, 240, 240): 0}
