"""The inference contract of every detector: ``model(images, conf=, iou=, max_det=, classes=)``
in eval mode, the config's values only as defaults, nothing kept between calls."""

import copy

import pytest
import torch
from torchvision.models.detection import FasterRCNN as TorchvisionFasterRCNNBase

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.helpers.detection import four_images as _four_images
from visionkit.models.detection.postprocess import Thresholds
from visionkit.models.detection.tta import FlipTTA
from visionkit.registry import MODELS

SMALL = {
    "yolov1": dict(grid=4, img_size=128),
    "faster_rcnn": dict(neck_channels=16, head_hidden=32, anchor_sizes=[[32, 48, 64]], rpn_pre_nms_top_n=[100, 100],
                        rpn_post_nms_top_n=[50, 50]),
    "fast_rcnn": dict(neck_channels=16, head_hidden=32, proposals_train=50, proposals_test=50),
    "rcnn": dict(warp_size=32, proposals_train=30, proposals_test=30),
    "torchvision_faster_rcnn": dict(img_size=128, anchor_sizes=[32, 64], rpn_pre_nms_top_n=[100, 100],
                                    rpn_post_nms_top_n=[50, 50]),
}


def _detector(name, **kw):
    torch.manual_seed(0)
    opts = dict(num_classes=3, backbone="tiny_test", pretrained=False, score_thresh=0.0, nms_thresh=0.5, max_det=100)
    if name == "flip_tta":
        return FlipTTA(MODELS.build("yolov1", **opts, **SMALL["yolov1"], **kw), flips=["h", "v"]).eval()
    return MODELS.build(name, **{**opts, **SMALL[name], **kw}).eval()


def _run(model, images, **thresholds):
    with torch.no_grad():
        return model(images, **thresholds)


def _same(a, b):
    return all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in ("boxes", "scores", "labels"))


@pytest.mark.parametrize("name", list(SMALL) + ["flip_tta"])
def test_per_call_thresholds_change_the_output_and_do_not_stick(name, tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path))  # R-CNN / Fast R-CNN: selective search cache
    images = list(_four_images()[0][:2])
    model = _detector(name)
    fresh = _run(model, images)
    n = [len(d["scores"]) for d in fresh]
    assert min(n) > 4 and all(d["scores"].min() >= 0 for d in fresh)
    conf = float(fresh[0]["scores"].median())
    high = _run(model, images, conf=conf)
    assert len(high[0]["scores"]) < n[0] and high[0]["scores"].min() > conf
    assert [len(d["scores"]) for d in _run(model, images, max_det=3)] == [3, 3]
    only = _run(model, images, classes=[2])
    assert all(set(d["labels"].tolist()) == {2} for d in only)
    loose = _run(model, images, iou=0.95)  # a looser NMS keeps more of the overlapping boxes
    assert sum(len(d["scores"]) for d in loose) > sum(n)
    assert _same(_run(model, images), fresh)  # nothing stuck: the same as before any threshold
    assert _same(_run(_detector(name), images), fresh)  # and the same as a fresh model


@pytest.mark.parametrize("name", list(SMALL))
def test_config_thresholds_are_the_defaults(name, tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path))
    model = _detector(name, score_thresh=0.02, nms_thresh=0.4, max_det=9)
    assert model.thresholds == Thresholds(conf=0.02, iou=0.4, max_det=9)
    images = list(_four_images()[0][:1])
    assert _same(_run(model, images), _run(_detector(name), images, conf=0.02, iou=0.4, max_det=9))


def test_torchvision_peer_matches_torchvisions_own_postprocessing():
    """Our eval call on the peer gives torchvision's own output, at the defaults and with a
    call's thresholds (torchvision reading them from a copy's attributes)."""
    model = _detector("torchvision_faster_rcnn", max_det=50)
    images = list(_four_images()[0][:2])
    ref = _run(lambda x: TorchvisionFasterRCNNBase.forward(model, x), images)
    assert _same(_run(model, images), ref)
    twin = copy.deepcopy(model)
    twin.roi_heads.score_thresh, twin.roi_heads.nms_thresh, twin.roi_heads.detections_per_img = 0.3, 0.6, 4
    ref = _run(lambda x: TorchvisionFasterRCNNBase.forward(twin, x), images)
    assert _same(_run(model, images, conf=0.3, iou=0.6, max_det=4), ref)


def test_torchvision_peer_call_leaves_its_rpn_and_heads_alone():
    model = _detector("torchvision_faster_rcnn", max_det=7)
    before = (model.rpn.score_thresh, model.rpn.nms_thresh, model.roi_heads.score_thresh, model.roi_heads.nms_thresh,
              model.roi_heads.detections_per_img)
    out = _run(model, list(_four_images()[0][:2]), conf=0.0, iou=0.6, max_det=3)
    assert [len(d["scores"]) for d in out] == [3, 3]
    assert (model.rpn.score_thresh, model.rpn.nms_thresh, model.roi_heads.score_thresh, model.roi_heads.nms_thresh,
            model.roi_heads.detections_per_img) == before == (0.0, 0.7, 0.0, 0.5, 7)
    assert max(len(d["scores"]) for d in _run(model, list(_four_images()[0][:2]))) == 7  # detections_per_img: the default cap
