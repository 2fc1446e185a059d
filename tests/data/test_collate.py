import numpy as np
import pytest
import torch

from visionkit.data.collate import collate
from visionkit.errors import DataError


def det(h, w, n):
    return torch.rand(3, h, w), {"boxes": torch.rand(n, 4), "labels": torch.ones(n, dtype=torch.int64)}


def test_detection_equal_and_variable_sizes():
    images, targets = collate([det(8, 8, 2), det(8, 8, 0)])
    assert images.shape == (2, 3, 8, 8) and [len(t["boxes"]) for t in targets] == [2, 0]
    images, targets = collate([det(8, 8, 2), det(6, 9, 1)])
    assert isinstance(images, list) and images[1].shape == (3, 6, 9)


def test_segmentation_targets_stay_one_dict_per_image():
    batch = [(torch.rand(3, 4, 5), {"masks": torch.full((4, 5), k), "image_id": k}) for k in range(3)]
    x, y = collate(batch)
    assert x.shape == (3, 3, 4, 5)
    assert isinstance(y, list) and [t["image_id"] for t in y] == [0, 1, 2]
    assert y[2]["masks"] is batch[2][1]["masks"]
    with pytest.raises(DataError, match="different sizes"):
        collate([(torch.rand(3, 4, 5), {"masks": torch.zeros(4, 5)}), (torch.rand(3, 5, 5), {"masks": torch.zeros(5, 5)})])


def test_captioning_targets_keep_their_own_tokens():
    batch = [(torch.rand(3, 4, 4), {"tokens": torch.tensor(t), "captions": [f"c{i}"], "image_id": i, "meta": {}})
             for i, t in enumerate([[1, 5, 6, 2], [1, 7, 2]])]
    x, y = collate(batch)
    assert x.shape == (2, 3, 4, 4)
    assert [t["tokens"].tolist() for t in y] == [[1, 5, 6, 2], [1, 7, 2]]
    assert [t["captions"] for t in y] == [["c0"], ["c1"]] and [t["image_id"] for t in y] == [0, 1]


def test_labels_and_raw():
    x, y = collate([(torch.rand(1, 28, 28), {"label": 3}), (torch.rand(1, 28, 28), {"label": 7})])
    assert x.shape == (2, 1, 28, 28) and y == [{"label": 3}, {"label": 7}]
    imgs, ts = collate([(np.zeros((2, 2, 3), np.uint8), {"boxes": np.zeros((0, 4))})])
    assert isinstance(imgs, list) and imgs[0].shape == (2, 2, 3)
