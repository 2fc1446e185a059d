import torch
from torchvision.models.detection._utils import Matcher as TVMatcher

from visionkit.models.detection.matcher import BELOW_LOW, BETWEEN, Matcher, sample_balanced


def test_thresholds_and_low_quality_matches_agree_with_torchvision():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(300, 2, generator=g) * 200
    boxes = torch.cat([xy, xy + torch.rand(300, 2, generator=g) * 80 + 5], 1)
    gts = torch.tensor([[10.0, 10, 60, 70], [100, 120, 180, 160], [150, 20, 158, 28]])  # last one is tiny
    for allow in (False, True):
        ours = Matcher(0.7, 0.3, allow)(gts, boxes)
        theirs = TVMatcher(0.7, 0.3, allow)(__import__("torchvision").ops.box_iou(gts, boxes))
        assert torch.equal(ours, theirs)
    m = Matcher(0.7, 0.3, True)(gts, boxes)
    assert (m == 2).any()  # the tiny GT still claims its best anchor
    assert set(m.unique().tolist()) <= {BELOW_LOW, BETWEEN, 0, 1, 2}


def test_no_ground_truth_means_all_negative():
    m = Matcher(0.5, 0.5)(torch.zeros(0, 4), torch.rand(5, 4))
    assert (m == BELOW_LOW).all()


def test_balanced_sampling_respects_fraction_and_fills_with_negatives():
    labels = torch.tensor([1] * 10 + [0] * 100 + [-1] * 5)
    pos, neg = sample_balanced(labels, 32, 0.25, torch.Generator().manual_seed(0))
    assert len(pos) == 8 and len(neg) == 24
    assert (labels[pos] >= 1).all() and (labels[neg] == 0).all()
    pos, neg = sample_balanced(torch.tensor([1, 1, 0, 0, 0]), 32, 0.5)
    assert len(pos) == 2 and len(neg) == 3  # fewer than asked: take all
