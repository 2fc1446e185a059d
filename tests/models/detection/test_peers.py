"""The torchvision peer baseline honours our detection contract, so the engine can train and
score it beside visionkit's Faster R-CNN."""

import torch

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.helpers.detection import four_images
from tests.helpers.testers import DetectorTester
from visionkit.registry import MODELS


def _build(**kw):
    opts = dict(num_classes=3, backbone="tiny_test", pretrained=False, img_size=128, anchor_sizes=[32, 64],
                rpn_pre_nms_top_n=[200, 100], rpn_post_nms_top_n=[100, 50], roi_batch_size=64, score_thresh=0.0, max_det=7)
    opts.update(kw)
    return MODELS.build("torchvision_faster_rcnn", **opts)


def test_torchvision_peer_trains_and_predicts_in_our_contract():
    torch.manual_seed(0)
    model = _build()
    assert model.task == "detection"
    assert model.backbone.out_channels == 32  # the tiny backbone's c5 (4 × width 8), straight into RoIAlign
    assert model.roi_heads.box_predictor.cls_score.out_features == 4  # background + our 3 classes
    images, targets = four_images()
    losses = model(list(images), targets)
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"}
    assert torch.isfinite(sum(losses.values()))
    model.eval()
    with torch.no_grad():
        out = model(list(images[:2]))
    assert len(out) == 2 and set(out[0]) == {"boxes", "labels", "scores"}
    assert len(out[0]["boxes"]) <= 7 and out[0]["labels"].min() >= 1 and out[0]["labels"].max() <= 3
    assert out[0]["boxes"].max() <= 128  # the input's own pixels: no resize inside at img_size


class TestTorchvisionPeer(DetectorTester):
    loss_keys = {"loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"}
    overfit_steps = 0  # torchvision's model: the contract is what is ours
    export_formats = ()

    def build(self, **options):
        return _build(**options)
