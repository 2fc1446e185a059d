import numpy as np
import pytest
import torch

from visionkit.config import AugmentConfig
from visionkit.data.transforms import Transform, boxes_to_original, plan_resize, preprocess
from visionkit.errors import ConfigError

COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def scene(h, w, boxes, seed=0):
    """Black image with one solid coloured rectangle per box (colour = label)."""
    img = np.zeros((h, w, 3), np.uint8)
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        img[int(y1):int(y2), int(x1):int(x2)] = COLORS[k % 3]
    target = {"boxes": np.array(boxes, np.float32), "labels": np.arange(1, len(boxes) + 1),
              "difficult": np.array([False, True, False][: len(boxes)]), "image_id": 0, "path": "x", "orig_size": (h, w)}
    return img, target


def box_colour_ok(image: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor) -> bool:
    """Each box's central pixels have its label's colour."""
    img = (image * 255).round().byte().permute(1, 2, 0).numpy()
    for b, lab in zip(boxes.tolist(), labels.tolist()):
        x1, y1, x2, y2 = b
        cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2)
        if np.abs(img[cy, cx].astype(int) - COLORS[(lab - 1) % 3]).max() > 60:
            return False
    return True


@pytest.mark.parametrize("resize", ["letterbox", "stretch", "longest"])
@pytest.mark.parametrize("hw", [(37, 53), (101, 67), (64, 64)])
def test_boxes_map_back_to_original(resize, hw):
    h, w = hw
    rng = np.random.default_rng(h * w)
    xy = rng.uniform(0, 1, (6, 2)) * [w - 10, h - 10]
    boxes = np.concatenate([xy, xy + rng.uniform(3, 10, (6, 2))], 1).astype(np.float32)
    img = np.zeros((h, w, 3), np.uint8)
    tf = Transform(img_size=[48, 80] if resize == "stretch" else 64, resize=resize)
    image, t = tf(img, {"boxes": boxes, "labels": np.ones(6, np.int64)})
    back = boxes_to_original(t["boxes"], t["meta"])
    assert (back - torch.from_numpy(boxes)).abs().max() < 0.5
    assert torch.equal(t["orig_boxes"], torch.from_numpy(boxes))
    assert t["meta"]["orig_size"] == (h, w)
    if resize == "letterbox":
        assert image.shape == (3, 64, 64)
    if resize == "longest":
        assert max(image.shape[1:]) == 64
    np_back = boxes_to_original(t["boxes"].numpy(), t["meta"])
    assert np.abs(np_back - boxes).max() < 0.5


def test_letterbox_geometry_by_hand():
    # 30x60 into 64: scale 64/60, new 32x64, pad top (64-32)//2 = 16
    assert plan_resize(30, 60, 64, "letterbox") == (32, 64, 64, 64, 0, 16)
    img, t = scene(30, 60, [[0, 0, 30, 15]])
    image, tt = Transform(64, "letterbox")(img, t)
    assert tt["meta"]["pad"] == (0, 16) and tt["meta"]["scale"] == (64 / 60, 32 / 30)
    torch.testing.assert_close(tt["boxes"], torch.tensor([[0.0, 16.0, 32.0, 32.0]]))
    assert image.dtype == torch.float32 and image.shape == (3, 64, 64)
    assert image[:, 0, 0].tolist() == pytest.approx([114 / 255] * 3)  # grey border
    assert box_colour_ok(image, tt["boxes"], tt["labels"])


def test_eval_is_deterministic_and_equals_preprocess():
    img, t = scene(50, 70, [[5, 5, 30, 30], [40, 10, 65, 45]])
    tf = Transform(64, "letterbox", augment=None)
    a, ta = tf(img, t)
    b, tb = tf(img, t)
    assert torch.equal(a, b) and torch.equal(ta["boxes"], tb["boxes"])
    p, meta = preprocess(img, 64, "letterbox")
    assert torch.equal(p, a) and meta == ta["meta"]


def test_training_flips_move_boxes_with_pixels():
    img, t = scene(60, 90, [[5, 5, 30, 30], [40, 10, 65, 45], [70, 35, 88, 58]])
    tf = Transform(64, "letterbox", augment=AugmentConfig(hflip=0.5, vflip=0.5))
    flipped = 0
    for _ in range(20):
        image, tt = tf(img, t)
        assert image.shape == (3, 64, 64)
        assert len(tt["boxes"]) == 3 and box_colour_ok(image, tt["boxes"], tt["labels"])
        assert tt["difficult"].tolist() == [False, True, False]  # flags follow their boxes
        flipped += int(tt["boxes"][0, 0] > 32)
    assert 0 < flipped < 20  # the flip is random


def test_scale_jitter_zooms_the_canvas_content():
    img, t = scene(60, 90, [[5, 5, 30, 30], [40, 10, 65, 45], [70, 35, 88, 58]])
    tf = Transform(64, "letterbox", augment=AugmentConfig(hflip=0, scale_jitter=(0.5, 1.5), min_visibility=0.6))
    ref = Transform(64, "letterbox")(img, t)[1]["boxes"]
    widths = []
    for _ in range(30):
        image, tt = tf(img, t)
        b = tt["boxes"]
        assert image.shape == (3, 64, 64) and (b >= 0).all() and (b <= 64).all()
        assert box_colour_ok(image, b, tt["labels"])
        assert all(tt["difficult"][k] == (tt["labels"][k] == 2) for k in range(len(b)))  # flags follow boxes
        widths += ((b[:, 2] - b[:, 0]) / (ref[tt["labels"] - 1, 2] - ref[tt["labels"] - 1, 0])).tolist()
    assert min(widths) < 0.8 and max(widths) > 1.2  # objects really shrink and grow


def test_random_crop_keeps_or_drops_boxes_correctly():
    img, t = scene(80, 80, [[2, 2, 20, 20], [30, 30, 50, 50], [60, 60, 78, 78]])
    aug = AugmentConfig(hflip=0, random_crop=1.0, crop_border=0.45, min_visibility=0.5)
    tf = Transform(0, "none", augment=aug)
    dropped = 0
    for _ in range(30):
        image, tt = tf(img, t)
        h, w = image.shape[1:]
        b = tt["boxes"]
        assert (b[:, 0] >= 0).all() and (b[:, 2] <= w).all() and (b[:, 3] <= h).all()
        assert ((b[:, 2] - b[:, 0]) > 0).all() and ((b[:, 3] - b[:, 1]) > 0).all()
        assert box_colour_ok(image, b, tt["labels"])
        assert len(tt["labels"]) == len(b) == len(tt["difficult"])
        dropped += 3 - len(b)
    assert dropped > 0  # some corner boxes were cut away


def test_segmentation_mask_follows_image_and_pads_with_ignore():
    img = np.zeros((30, 50, 3), np.uint8)
    img[5:20, 10:30] = (255, 0, 0)
    mask = np.zeros((30, 50), np.int64)
    mask[5:20, 10:30] = 1
    aug = AugmentConfig(hflip=0.5, vflip=0.5, scale_jitter=(0.8, 1.2))
    tf = Transform(64, "letterbox", task="segmentation", augment=aug, ignore_index=11)
    for _ in range(10):
        image, t = tf(img, {"masks": mask})
        m = t["masks"]
        assert m.dtype == torch.int64 and m.shape == (64, 64)
        assert (m == 11).any()  # the letterbox border is ignored
        red = image[0] > 0.5
        # resampling twice (random scale, letterbox) may blur the edge: disagreements must lie
        # within one pixel of the region's border, never inside or far outside it
        fg = (m == 1).float()[None, None]
        dilated = torch.nn.functional.max_pool2d(fg, 3, 1, 1)[0, 0] > 0
        eroded = -torch.nn.functional.max_pool2d(-fg, 3, 1, 1)[0, 0] > 0
        assert not ((red != (m == 1)) & ~(dilated & ~eroded)).any()
    image, t = Transform(64, "letterbox", task="segmentation", ignore_index=11)(img, {"masks": mask})
    assert torch.equal(image[0] > 0.5, t["masks"] == 1)  # evaluation: pixel-exact alignment


def test_colour_jitter_changes_colour_not_geometry():
    img, t = scene(40, 40, [[5, 5, 35, 35]])
    tf = Transform(40, "letterbox", augment=AugmentConfig(hflip=0, color_jitter=0.5, hue=0.1))
    a, ta = tf(img, t)
    torch.testing.assert_close(ta["boxes"], torch.tensor([[5.0, 5.0, 35.0, 35.0]]))


def test_bad_resize_mode():
    with pytest.raises(ConfigError, match="unknown mode"):
        Transform(64, "squash")


def test_quarter_turns_move_boxes_with_pixels():
    img, t = scene(60, 90, [[5, 5, 30, 30], [40, 10, 65, 45], [70, 35, 88, 58]])
    tf = Transform(0, "none", augment=AugmentConfig(hflip=0, rot90=1.0))
    shapes = set()
    for _ in range(30):
        image, tt = tf(img, t)
        shapes.add(tuple(image.shape[1:]))
        assert len(tt["boxes"]) == 3 and box_colour_ok(image, tt["boxes"], tt["labels"])
        assert tt["difficult"].tolist() == [False, True, False]
    assert shapes == {(60, 90), (90, 60)}  # quarter turns swap height and width
