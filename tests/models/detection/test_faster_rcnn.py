import pytest
import torch

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.helpers.detection import four_images
from tests.helpers.testers import DetectorTester
from visionkit.registry import MODELS


def _build(**kw):
    opts = dict(num_classes=3, backbone="tiny_test", pretrained=False, neck_channels=32, head_hidden=128,
                anchor_sizes=[[32, 48, 64]], rpn_pre_nms_top_n=[300, 100], rpn_post_nms_top_n=[100, 50],
                rpn_batch_size=64, roi_batch_size=64)
    opts.update(kw)
    return MODELS.build("faster_rcnn", **opts)


class TestFasterRCNN(DetectorTester):
    loss_keys = {"loss_objectness", "loss_rpn_box", "loss_classifier", "loss_box_reg"}
    overfit_steps, lr, loss_factor = 200, 2e-3, 0.1  # measured: 0.037
    overfit_options = {"score_thresh": 0.3, "roi_batch_size": 32}  # RoIAlign's CPU backward is the slow part
    export_formats = ("onnx",)  # TorchScript traces the same graph

    def build(self, **options):
        return _build(**options)


def test_images_without_objects_are_valid_training_samples():
    model = _build()
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}
    losses = model(torch.rand(2, 3, 96, 96), [empty, empty])
    assert torch.isfinite(sum(losses.values()))
    assert losses["loss_rpn_box"] == 0 and losses["loss_box_reg"] == 0


@pytest.mark.parametrize("kw", [{"roi_pool": "pool"}, {"fpn": True, "anchor_sizes": [[24], [48], [96], [160]]}])
def test_roi_pool_and_fpn_variants_run(kw):
    images, targets = four_images()
    model = _build(**kw)
    assert torch.isfinite(sum(model(images, targets).values()))


def test_predict_time_iou_sets_the_detection_nms_not_the_rpns():
    from visionkit.api import set_thresholds
    from visionkit.models.detection.tta import FlipTTA

    model = _build(rpn_nms_thresh=0.7, nms_thresh=0.5)
    set_thresholds(model, conf=0.2, iou=0.6, max_det=10)
    assert model.rpn.proposal_nms_thresh == 0.7  # proposals keep the config's NMS
    assert (model.roi_heads.score_thresh, model.roi_heads.nms_thresh, model.roi_heads.max_det) == (0.2, 0.6, 10)
    tta = FlipTTA(model)
    assert (tta.nms_thresh, tta.max_det) == (0.6, 10)  # the test-time merge follows the detection NMS
