"""ConfusionMatrix against hand-made matrices and hand-worked metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from visionkit.metrics.segmentation import ConfusionMatrix, metrics_from_matrix


def test_matrix_counts_pixels_rows_are_ground_truth():
    gt = np.array([[0, 0, 1], [1, 2, 255]])
    pr = np.array([[0, 1, 1], [2, 2, 0]])
    cm = ConfusionMatrix(3).update(pr, gt)
    # pairs (gt, pred): (0,0) (0,1) (1,1) (1,2) (2,2); the 255 pixel is ignored
    np.testing.assert_array_equal(cm.matrix, [[1, 1, 0], [0, 1, 1], [0, 0, 1]])


def test_hand_worked_metrics():
    m = np.array([[3, 1, 0], [2, 4, 0], [0, 0, 0]])
    out = metrics_from_matrix(m)
    iou0 = 3 / (4 + 5 - 3)
    iou1 = 4 / (6 + 5 - 4)
    assert out["per_class_iou"][0] == pytest.approx(iou0)
    assert out["per_class_iou"][1] == pytest.approx(iou1)
    assert math.isnan(out["per_class_iou"][2])  # absent from GT and prediction
    assert out["mIoU"] == pytest.approx((iou0 + iou1) / 2)
    assert out["pixel_acc"] == pytest.approx(7 / 10)
    assert out["mean_acc"] == pytest.approx((3 / 4 + 4 / 6) / 2)
    assert out["fw_iou"] == pytest.approx(0.4 * iou0 + 0.6 * iou1)


def test_predicted_but_absent_class_counts_as_zero():
    out = metrics_from_matrix(np.array([[2, 2], [0, 0]]))
    assert out["per_class_iou"] == [pytest.approx(0.5), 0.0]
    assert out["mIoU"] == pytest.approx(0.25)
    assert out["mean_acc"] == pytest.approx(0.5)  # class 1 has no GT pixel: not in mean accuracy


def test_torch_and_numpy_inputs_any_shape_and_merge():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 4, (2, 5, 7))
    gt[0, 0, :3] = 255
    pr = rng.integers(0, 4, (2, 5, 7))
    a = ConfusionMatrix(4).update(torch.from_numpy(pr[0]), torch.from_numpy(gt[0]))
    b = ConfusionMatrix(4).update(pr[1], gt[1])
    whole = ConfusionMatrix(4).update(pr, gt)
    np.testing.assert_array_equal((a + b).matrix, whole.matrix)
    a.merge(b)
    np.testing.assert_array_equal(a.matrix, whole.matrix)
    assert whole.matrix.sum() == gt.size - 3
    # against a direct per-class count
    keep = gt != 255
    for c in range(4):
        inter = np.sum((gt == c) & (pr == c) & keep)
        union = np.sum(((gt == c) | (pr == c)) & keep)
        assert whole.compute()["per_class_iou"][c] == pytest.approx(inter / union)


def test_perfect_prediction_and_errors():
    gt = np.array([0, 1, 2, 2])
    out = ConfusionMatrix(3).update(gt, gt).compute()
    assert out["mIoU"] == 1.0 and out["pixel_acc"] == 1.0 and out["fw_iou"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        ConfusionMatrix(3).update(gt[:3], gt)
    with pytest.raises(ValueError, match="class 5"):
        ConfusionMatrix(3).update(np.array([0, 5, 0, 0]), gt)
    with pytest.raises(ValueError):
        ConfusionMatrix(3).merge(ConfusionMatrix(4))
    empty = ConfusionMatrix(2).compute()
    assert math.isnan(empty["mIoU"]) and math.isnan(empty["pixel_acc"])


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no GPU"))])
def test_torch_bincount_path_equals_numpy(device):
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 5, (3, 17, 19))
    gt[gt == 4] = 255
    pr = rng.integers(0, 4, (3, 17, 19))
    ref = ConfusionMatrix(4).update(pr, gt).matrix
    t = ConfusionMatrix(4).update(torch.from_numpy(pr).to(device), torch.from_numpy(gt).to(device)).matrix
    np.testing.assert_array_equal(t, ref)
    with pytest.raises(ValueError, match="class 7"):
        ConfusionMatrix(4).update(torch.full((2, 2), 7, device=device), torch.zeros(2, 2, dtype=torch.long, device=device))
