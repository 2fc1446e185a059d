import pytest
import torch
from torch import nn

from visionkit.errors import ConfigError
from visionkit.models.detection.postprocess import Thresholds
from visionkit.models.detection.tta import FlipTTA, merge_detections, unflip_boxes


class OneBoxDetector(nn.Module):
    """Finds the brightest pixel's 10×6 box: a detector whose answer moves with the image.
    ``calls`` records each call's thresholds."""

    task = "detection"

    def __init__(self, thresholds=Thresholds()):
        super().__init__()
        self.thresholds, self.calls = thresholds, []

    def forward(self, images, targets=None, **thresholds):
        if self.training:
            return {"loss": torch.zeros(())}
        self.calls.append(thresholds)
        out = []
        for img in images:
            flat = int(img.sum(0).argmax())
            y, x = divmod(flat, img.shape[-1])
            box = torch.tensor([[x - 5.0, y - 3.0, x + 5.0, y + 3.0]])
            out.append({"boxes": box, "scores": torch.tensor([0.9]), "labels": torch.tensor([1])})
        return out


def test_unflip_is_the_inverse_of_flipping_the_image():
    boxes = torch.tensor([[10.0, 20.0, 30.0, 60.0]])
    size = (100, 200)  # h, w
    assert unflip_boxes(boxes, size, (-1,)).tolist() == [[170.0, 20.0, 190.0, 60.0]]
    assert unflip_boxes(boxes, size, (-2,)).tolist() == [[10.0, 40.0, 30.0, 80.0]]
    twice = unflip_boxes(unflip_boxes(boxes, size, (-2, -1)), size, (-2, -1))
    assert torch.equal(twice, boxes)


def test_views_of_an_equivariant_detector_agree_and_merge_to_one_box():
    img = torch.zeros(3, 40, 60)
    img[:, 12, 17] = 1.0
    tta = FlipTTA(OneBoxDetector(), flips=["h", "v", "hv"]).eval()
    for images in ([img], img[None]):  # a list and a batched tensor
        (out,) = tta(images)
        assert out["boxes"].shape == (1, 4)
        # the pixel spans [17, 18) in x: the flipped views see it at 42 -> mapped back to 18 - 5 .. 18 + 5
        assert torch.allclose(out["boxes"][0], torch.tensor([12.5, 9.5, 22.5, 15.5]))
        assert out["labels"].tolist() == [1] and out["scores"].tolist() == pytest.approx([0.9])


def test_box_voting_averages_overlapping_boxes_by_score_and_keeps_classes_apart():
    a = {"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]]),
         "scores": torch.tensor([0.8, 0.7]), "labels": torch.tensor([1, 2])}
    b = {"boxes": torch.tensor([[1.0, 1.0, 11.0, 11.0], [0.0, 0.0, 10.0, 10.0]]),
         "scores": torch.tensor([0.2, 0.6]), "labels": torch.tensor([1, 2])}
    plain = merge_detections([a, b], nms_thresh=0.5, vote=False)
    assert plain["labels"].tolist() == [1, 2, 2]  # the class-2 box at the origin is not merged into class 1
    assert torch.equal(plain["boxes"][0], a["boxes"][0])
    voted = merge_detections([a, b], nms_thresh=0.5, vote=True)
    assert torch.allclose(voted["boxes"][0], torch.tensor([0.2, 0.2, 10.2, 10.2]))  # (0.8·0 + 0.2·1) / 1.0
    assert torch.equal(voted["boxes"][1:], plain["boxes"][1:])  # nothing else of their class overlaps them
    assert merge_detections([a, b], max_det=1)["boxes"].shape == (1, 4)


def test_training_passes_through_and_bad_flips_are_a_config_error():
    tta = FlipTTA(OneBoxDetector(), flips=["h"]).train()
    assert set(tta([torch.zeros(3, 8, 8)], [{}])) == {"loss"}
    with pytest.raises(ConfigError, match="eval.tta"):
        FlipTTA(OneBoxDetector(), flips=["x"])


def test_merge_thresholds_default_to_the_detectors_own():
    det = OneBoxDetector(Thresholds(iou=0.3, max_det=7))
    assert FlipTTA(det).thresholds == Thresholds(iou=0.3, max_det=7)
    assert FlipTTA(OneBoxDetector()).thresholds.iou == 0.5
    assert FlipTTA(det, nms_thresh=0.6).thresholds.iou == 0.6


def test_each_view_gets_the_calls_thresholds_and_the_merge_uses_them(monkeypatch):
    from visionkit.models.detection import tta as tta_mod

    merged, real = [], tta_mod.merge_detections

    def spy(views, iou, max_det, vote):
        merged.append((iou, max_det))
        return real(views, iou, max_det, vote)

    monkeypatch.setattr(tta_mod, "merge_detections", spy)
    det = OneBoxDetector(Thresholds(iou=0.3, max_det=7))
    tta = FlipTTA(det, flips=["h", "v"]).eval()
    tta([torch.rand(3, 16, 16)], conf=0.4, iou=0.6, max_det=2, classes=[1])
    assert det.calls == [{"conf": 0.4, "iou": 0.6, "max_det": 2, "classes": [1]}] * 3 and merged == [(0.6, 2)]
    det.calls.clear()
    tta([torch.rand(3, 16, 16)])  # nothing stuck: the defaults again
    assert det.calls == [{"conf": None, "iou": None, "max_det": None, "classes": None}] * 3 and merged[-1] == (0.3, 7)
