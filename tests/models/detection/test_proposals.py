import numpy as np
import torch
from torchvision.ops import box_iou

from visionkit.models.detection.proposals import ProposalCache, selective_search


def _image():
    rng = np.random.default_rng(0)
    img = (rng.random((120, 160, 3)) * 30 + 100).astype(np.uint8)  # textured grey
    img[20:60, 15:70] = (220, 40, 40)  # a red object
    img[70:110, 90:150] = (30, 60, 210)  # a blue object
    return img, torch.tensor([[15.0, 20, 70, 60], [90, 70, 150, 110]])


def test_selective_search_finds_the_objects():
    img, gt = _image()
    boxes = selective_search(img)
    assert boxes.dtype == np.float32 and boxes.shape[1] == 4
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 160).all() and (boxes[:, 3] <= 120).all()
    assert len(np.unique(boxes, axis=0)) == len(boxes)
    best = box_iou(gt, torch.from_numpy(boxes)).max(1).values
    assert (best > 0.8).all()


def test_cache_returns_the_same_boxes_without_recomputing(tmp_path, monkeypatch):
    img, _ = _image()
    cache = ProposalCache(tmp_path, scales=(50,), max_proposals=100)
    first = cache(img)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def boom(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr("visionkit.models.detection.proposals.selective_search", boom)
    assert np.array_equal(cache(img), first)
    other = ProposalCache(tmp_path, scales=(100,))  # other parameters: another key
    assert other.key(img) != cache.key(img)
