import torch
from torchvision.models.detection._utils import BoxCoder as TVBoxCoder

from visionkit.models.detection.box_coder import BoxCoder


def _boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 400
    wh = torch.rand(n, 2, generator=g) * 200 + 4
    return torch.cat([xy, xy + wh], 1)


def test_encode_decode_agree_with_torchvision_for_rpn_and_head_weights():
    refs, gts = _boxes(50, 0), _boxes(50, 1)
    for weights in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]:
        ours, theirs = BoxCoder(weights), TVBoxCoder(weights)
        d = ours.encode(gts, refs)
        assert torch.allclose(d, theirs.encode_single(gts, refs), atol=1e-5)
        assert torch.allclose(ours.decode(d, refs).reshape(-1, 4), theirs.decode_single(d, refs), atol=1e-3)


def test_decode_is_the_inverse_of_encode_and_handles_per_class_deltas():
    refs, gts = _boxes(20, 2), _boxes(20, 3)
    coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    d = coder.encode(gts, refs)
    assert torch.allclose(coder.decode(d, refs)[:, 0], gts, atol=1e-3)
    per_class = torch.cat([torch.zeros_like(d), d], 1)  # background + one class
    out = coder.decode(per_class, refs)
    assert out.shape == (20, 2, 4)
    assert torch.allclose(out[:, 0], refs, atol=1e-3)  # zero deltas give the reference back


def test_decode_clips_huge_size_deltas():
    refs = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    out = BoxCoder().decode(torch.tensor([[0.0, 0.0, 100.0, 100.0]]), refs)
    assert torch.isfinite(out).all()
    assert (out[0, 0, 2] - out[0, 0, 0]).item() <= 10 * 1000 / 16 + 1e-3
