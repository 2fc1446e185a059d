from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from visionkit.api import DEFAULT_CONF, Predictor, Result, load_model, prefetch
from visionkit.config import build_config


class FixedDetector(nn.Module):
    """Returns one box (score 0.9, class 2) covering the centre half of whatever (letterboxed)
    input it gets, if ``conf`` and ``classes`` let it through; ``calls`` records the thresholds."""

    task = "detection"

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, images, conf=None, iou=None, max_det=None, classes=None):
        self.calls.append({"conf": conf, "iou": iou, "max_det": max_det, "classes": classes})
        out = []
        for im in images:
            h, w = im.shape[-2:]
            keep = 0.9 > (conf or 0) and (classes is None or 2 in classes)
            out.append({"boxes": torch.tensor([[w / 4, h / 4, 3 * w / 4, 3 * h / 4]])[:int(keep)],
                        "labels": torch.tensor([2])[:int(keep)], "scores": torch.tensor([0.9])[:int(keep)]})
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


def test_thresholds_are_passed_per_call_with_the_documented_defaults():
    det = FixedDetector()
    pred = _predictor(det)
    img = np.zeros((50, 100, 3), np.uint8)
    assert len(pred.predict(img, conf=0.95)[0].boxes) == 0
    assert len(pred.predict(img, classes=[1])[0].boxes) == 0
    assert len(pred.predict(img)[0].boxes) == 1  # nothing stuck from the calls before
    assert det.calls == [{"conf": 0.95, "iou": None, "max_det": None, "classes": None},
                         {"conf": DEFAULT_CONF, "iou": None, "max_det": None, "classes": [1]},
                         {"conf": DEFAULT_CONF, "iou": None, "max_det": None, "classes": None}]
    calibrated = Predictor(det, build_config({"data": {"img_size": 64}}), ["a", "b"], recommended_conf=0.4)
    calibrated.predict(img, iou=0.6, max_det=5)
    assert det.calls[-1] == {"conf": 0.4, "iou": 0.6, "max_det": 5, "classes": None}


def test_a_conf_given_once_does_not_stick(tmp_path):
    """A real detector through the API: after a call at conf=0.9, a call without conf gives
    what a fresh predictor gives, and the model's own thresholds are unchanged."""
    from tests.helpers.tiny import tiny_checkpoint as _checkpoint

    ckpt = _checkpoint(tmp_path / "det.pt")
    img = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    pred = load_model(ckpt, device="cpu")
    before = pred.model.thresholds
    capped = pred.predict(img, conf=0.0, max_det=5)[0]
    none = pred.predict(img, conf=0.9)[0]
    again = pred.predict(img, conf=0.0)[0]
    assert len(capped.scores) == 5 and len(none.scores) == 0 and len(again.scores) > 5  # max_det=5 did not stick
    np.testing.assert_array_equal(again.scores, load_model(ckpt, device="cpu").predict(img, conf=0.0)[0].scores)
    assert pred.model.thresholds == before

def test_errors_become_results_not_exceptions():
    res = list(_predictor(FixedDetector()).stream(["/nonexistent.jpg", np.zeros((8, 8, 3), np.uint8)]))
    assert res[0].error and res[1].error == "" and isinstance(res[1], Result)


def _folder_with_bad_items(tmp_path):
    """Six good images of different sizes (so their boxes differ) with a truncated JPEG and a
    text file named .png in the middle, and a .txt file that the folder listing skips."""
    import cv2

    rng = np.random.default_rng(0)
    names = ["a.jpg", "b.png", "c_corrupt.jpg", "d.jpg", "e_text.png", "f.jpg", "g.png", "h.jpg"]
    for k, name in enumerate(names):
        cv2.imwrite(str(tmp_path / name), rng.integers(0, 255, (40 + 7 * k, 90 - 5 * k, 3), dtype=np.uint8))
    data = (tmp_path / "c_corrupt.jpg").read_bytes()
    (tmp_path / "c_corrupt.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "e_text.png").write_text("not an image")
    (tmp_path / "notes.txt").write_text("skipped")
    return tmp_path


@pytest.mark.parametrize("batch", [1, 3])
def test_workers_give_the_same_results_in_the_same_order(tmp_path, batch):
    folder = _folder_with_bad_items(tmp_path)
    predictor = _predictor(FixedDetector())
    sync = predictor.predict(folder, batch=batch, workers=0)
    threaded = predictor.predict(folder, batch=batch, workers=2)
    assert [Path(r.path).name for r in threaded] == [Path(r.path).name for r in sync] == [
        "a.jpg", "b.png", "c_corrupt.jpg", "d.jpg", "e_text.png", "f.jpg", "g.png", "h.jpg"]
    assert [bool(r.error) for r in threaded] == [False, False, True, False, True, False, False, False]
    assert [r.error for r in threaded] == [r.error for r in sync]
    for a, b in zip(sync, threaded):
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.labels, b.labels) and np.array_equal(a.scores, b.scores)
        assert (a.image is None and b.image is None) or np.array_equal(a.image, b.image)
    assert len({tuple(r.boxes[0]) for r in sync if not r.error}) == 6  # each image its own box


def test_workers_read_videos_and_arrays_in_order(tmp_path):
    from tests.helpers.media import write_clip

    video = write_clip(tmp_path / "clip.avi")
    sources = [np.zeros((20, 30, 3), np.uint8), video, np.zeros((4, 4), np.float32), np.zeros((30, 20, 3), np.uint8)]
    predictor = _predictor(FixedDetector())
    sync, threaded = predictor.predict(sources, workers=0), predictor.predict(sources, workers=3, batch=2)
    assert [r.path for r in threaded] == [r.path for r in sync] == ["array0", f"{video}#0", f"{video}#1", f"{video}#2", "array2", "array3"]
    assert [bool(r.error) for r in threaded] == [False, False, False, False, True, False]
    assert all(np.array_equal(a.boxes, b.boxes) for a, b in zip(sync, threaded))


def test_prefetch_stays_bounded_and_stops_early():
    pulled = []

    def items():
        for k in range(100):
            pulled.append(k)
            yield k

    gen = prefetch(items(), lambda k: k * k, workers=2, ahead=4)
    assert [next(gen) for _ in range(3)] == [0, 1, 4]
    assert len(pulled) <= 3 + 4  # at most `ahead` items beyond what was consumed
    gen.close()  # stopping early neither hangs nor pulls the rest
    assert len(pulled) < 100


def test_one_predictor_serves_threads_with_different_thresholds(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers.tiny import tiny_checkpoint as _checkpoint

    pred = load_model(_checkpoint(tmp_path / "det.pt"), device="cpu")
    img = np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    asks = [{"conf": 0.0, "max_det": 3}, {"conf": 0.0}] * 4
    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda kw: len(pred.predict(img, **kw)[0].scores), asks))
    assert counts[0::2] == [3] * 4 and min(counts[1::2]) == max(counts[1::2]) > 3
