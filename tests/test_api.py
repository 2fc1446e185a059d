import numpy as np
import torch
from torch import nn

from visionkit.api import Predictor, Result, set_thresholds
from visionkit.config import build_config


class FixedDetector(nn.Module):
    """Returns one box covering the centre half of whatever (letterboxed) input it gets."""

    task = "detection"
    score_thresh = 0.5

    def forward(self, images):
        out = []
        for im in images:
            h, w = im.shape[-2:]
            out.append({"boxes": torch.tensor([[w / 4, h / 4, 3 * w / 4, 3 * h / 4]]), "labels": torch.tensor([2]), "scores": torch.tensor([0.9])})
        return out


class HalfSegmenter(nn.Module):
    task = "segmentation"

    def forward(self, images):
        out = []
        for im in images:
            h, w = im.shape[-2:]
            logits = torch.zeros(2, h, w)
            logits[1, h // 2 :] = 1.0  # bottom half of the *input* is class 1
            out.append({"masks": logits.argmax(0), "logits": logits})
        return out


def _predictor(model, size=64):
    cfg = build_config({"data": {"img_size": size, "resize": "letterbox"}})
    return Predictor(model, cfg, ["a", "b"])


def test_letterboxed_boxes_come_back_in_original_pixels():
    img = np.zeros((50, 100, 3), np.uint8)  # wide: letterboxed into 64×64 with bars top/bottom
    (res,) = _predictor(FixedDetector()).predict(img)
    # the input box is the centre half of the 64×64 canvas: 16..48; the image occupies rows 16..48
    # (scale 0.64, 32 px high, top pad 16), so in original pixels: x 25..75, y 0..50
    assert np.allclose(res.boxes, [[25, 0, 75, 50]], atol=1)
    assert res.summary() == "1 b"
    coco = res.to_coco(7)
    assert coco[0]["bbox"] == [25.0, 0.0, 50.0, 50.0] and coco[0]["category_id"] == 2
    assert res.plot().shape == (50, 100, 3)


def test_masks_are_cropped_and_resized_to_the_original():
    img = np.zeros((50, 100, 3), np.uint8)
    (res,) = _predictor(HalfSegmenter()).predict(img)
    assert res.mask.shape == (50, 100)
    # input row 32 (of 64) is the split; it is the original's middle row (16 + 25*0.64 = 32)
    assert (res.mask[:24] == 0).all() and (res.mask[27:] == 1).all()


def test_set_thresholds_reaches_every_submodule():
    m = nn.Sequential(FixedDetector())
    set_thresholds(m, conf=0.1)
    assert m[0].score_thresh == 0.1


def test_errors_become_results_not_exceptions():
    res = list(_predictor(FixedDetector()).stream(["/nonexistent.jpg", np.zeros((8, 8, 3), np.uint8)]))
    assert res[0].error and res[1].error == "" and isinstance(res[1], Result)
