"""Shared checks for the backbone tests: parity with torchvision's constructors."""

import pytest
import torch


def _shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def assert_like_torchvision():
    """``check(ours_builder, tv_builder, expected_params)``: both built on the meta device
    (no memory, no init cost); same parameter count, same state-dict names and shapes."""

    def check(ours_builder, tv_builder, expected_params):
        with torch.device("meta"):
            ours, tv = ours_builder(), tv_builder()
        assert _count(ours) == _count(tv) == expected_params
        assert _shapes(ours) == _shapes(tv)
        # same order too, so a printed state dict reads the same
        assert list(ours.state_dict()) == list(tv.state_dict())

    return check


@pytest.fixture
def same_logits():
    """Load torchvision's randomly initialised weights into ours; the logits must agree."""

    def check(ours, tv, x):
        torch.manual_seed(0)
        ours.load_state_dict(tv.state_dict(), strict=True)
        ours.eval(), tv.eval()
        with torch.no_grad():
            a, b = ours(x), tv(x)
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)

    return check
