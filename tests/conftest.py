"""Fixtures shared by every test folder. Keep additions small: several people edit this file."""

import os
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Path:
    """The real data sets' folder from $VISIONKIT_DATA; the test is skipped when it is unset."""
    root = os.environ.get("VISIONKIT_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("set VISIONKIT_DATA to the real data sets' folder to run this test")
    return Path(root)


def pytest_configure(config):
    """Unit tests use tiny tensors: one intra-op thread is as fast and never spin-waits against
    the other processes (DDP workers, data loader workers) on a 2-core CI machine."""
    import torch

    torch.set_num_threads(int(os.environ.get("VISIONKIT_TEST_THREADS", "1")))


@pytest.fixture
def images(tmp_path):
    """A folder (with a space in its name) of two small random images and one broken JPEG."""
    import cv2
    import numpy as np

    folder = tmp_path / "in put"  # spaces in paths
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.jpg", "b.png"):
        cv2.imwrite(str(folder / name), rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder
