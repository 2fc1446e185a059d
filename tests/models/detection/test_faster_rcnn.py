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


def test_per_call_iou_is_the_detections_nms_not_the_rpns(monkeypatch):
    """A call's ``iou`` reaches the detection NMS only; the RPN keeps its proposal NMS."""
    import torchvision.ops

    from visionkit.models.detection import postprocess, rpn

    model = _build(rpn_nms_thresh=0.7, nms_thresh=0.5).eval()
    seen = []
    for module in (rpn, postprocess):
        monkeypatch.setattr(module, "batched_nms", lambda b, s, i, t: seen.append(t) or torchvision.ops.batched_nms(b, s, i, t))
    with torch.no_grad():
        model([torch.rand(3, 96, 96)], conf=0.2, iou=0.6, max_det=10)
    assert seen == [0.7, 0.6]  # proposals, then detections
    assert model.rpn.nms_thresh == 0.7 and model.thresholds.iou == 0.5  # nothing stored by the call


def test_builder_reads_the_necks_public_description():
    fpn = _build(fpn=True, anchor_sizes=[[24], [48], [96], [160]])
    assert fpn.neck.in_features == ["c3", "c4", "c5"] and fpn.neck.names == ["c3", "c4", "c5", "pool"]
    assert fpn.neck.strides == {"c3": 8, "c4": 16, "c5": 32, "pool": 64} and fpn.neck.roi_levels == ["c3", "c4", "c5"]
    assert fpn.roi_heads.pooler.names == ["c3", "c4", "c5"] and fpn.roi_heads.pooler.stride == 8
    one = _build(feature="c4", roi_pool="pool")
    assert one.neck.names == one.neck.roi_levels == ["c4"] and one.neck.strides == {"c4": 16} and one.neck.out_channels == 32
    assert one.roi_heads.pooler.stride == 16 and list(one.backbone.out_channels) == ["c3", "c4"]  # c5 cut
