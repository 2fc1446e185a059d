import gzip

import numpy as np
import pytest

from visionkit.data.idx import IDXDataset, read_idx
from visionkit.errors import DataError

from .fixtures import make_idx, write_idx


def test_reads_images_and_labels(tmp_path):
    images, labels = make_idx(tmp_path)
    ds = IDXDataset(tmp_path, "train")
    assert len(ds) == 12 and ds.task == "generation" and ds.classes[0] == "0"
    img, t = ds.raw(3)
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8
    np.testing.assert_array_equal(img[:, :, 0], images[3])
    assert t["label"] == labels[3]
    assert IDXDataset(tmp_path, "test", task="classification").task == "classification"
    with pytest.raises(DataError, match="task"):
        IDXDataset(tmp_path, "train", task="detection")


def test_bad_idx_files(tmp_path):
    p = write_idx(tmp_path / "x.gz", np.zeros((2, 3, 3), np.uint8))
    assert read_idx(p).shape == (2, 3, 3)
    with gzip.open(tmp_path / "short.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 100)
    with pytest.raises(DataError, match="header says"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="bad.gz"):
        read_idx(tmp_path / "bad.gz")
