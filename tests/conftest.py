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
