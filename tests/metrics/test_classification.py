"""Accuracy, top-k and confusion matrix against hand-worked answers and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visionkit.metrics.classification import accuracy, confusion_matrix, per_class_accuracy, topk_accuracy


def test_accuracy_from_scores_and_indices():
    scores = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    target = torch.tensor([1, 0, 1, 2])
    assert accuracy(scores, target) == pytest.approx(0.5)
    assert accuracy(np.array([1, 0, 1, 2]), target) == 1.0


def test_topk_against_torch_topk():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(200, 10))
    t = rng.integers(0, 10, 200)
    out = topk_accuracy(s, t, ks=(1, 3, 5))
    top = torch.from_numpy(s).topk(5, dim=1).indices.numpy()
    for k in (1, 3, 5):
        assert out[k] == pytest.approx(np.mean([t[i] in top[i, :k] for i in range(200)]))
    assert out[1] == pytest.approx(accuracy(s, t))


def test_confusion_matrix_and_per_class_accuracy():
    cm = confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], 3)
    np.testing.assert_array_equal(cm, [[1, 0, 1], [0, 1, 0], [0, 1, 2]])
    np.testing.assert_allclose(per_class_accuracy(cm), [0.5, 1.0, 2 / 3])
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([3], [0], 3)
