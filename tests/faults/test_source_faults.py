"""What a predictor is pointed at: a FIFO or device named like an image must not hang the run,
and every image a folder holds (GIF included) is read or listed, never skipped silently."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from tests.data.fixtures import write_image
from visionkit.sources import iter_sources


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_like_an_image_is_an_error_item_not_a_hang(tmp_path):
    write_image(tmp_path / "a.jpg", np.zeros((8, 8, 3), np.uint8))
    os.mkfifo(tmp_path / "b.jpg")
    items = list(iter_sources(tmp_path)) + list(iter_sources(tmp_path / "b.jpg"))
    assert [i.error for i in items][0] == ""
    assert all("not a regular file" in i.error for i in items[1:]) and len(items) == 3


def test_gifs_in_a_folder_are_read(tmp_path):
    write_image(tmp_path / "a.jpg", np.zeros((8, 8, 3), np.uint8))
    Image.fromarray(np.full((6, 9, 3), 255, np.uint8)).save(tmp_path / "b.gif")
    items = list(iter_sources(tmp_path))
    assert [os.path.basename(i.name) for i in items] == ["a.jpg", "b.gif"]
    assert items[1].error == "" and items[1].image.shape == (6, 9, 3)
