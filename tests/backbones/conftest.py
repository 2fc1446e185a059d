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
