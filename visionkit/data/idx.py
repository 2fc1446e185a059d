"""MNIST / Fashion-MNIST IDX reader (``format: idx``) for the GAN and small classifiers.

IDX is a tiny binary format: a 4-byte magic number ``0x00 0x00 <type> <ndim>`` (type 0x08 =
unsigned byte), then ``ndim`` big-endian uint32 sizes, then the raw array. The image file is
N×28×28 (ndim 3), the label file N (ndim 1). The files are usually gzip-compressed::

    root/train-images-idx3-ubyte.gz   root/train-labels-idx1-ubyte.gz   (60,000)
    root/t10k-images-idx3-ubyte.gz    root/t10k-labels-idx1-ubyte.gz    (10,000)

Split ``train`` reads the ``train-*`` files; ``test`` (and ``val``, ``t10k``) read ``t10k-*``.
The whole split is held in memory (47 MB for 60,000 images). Samples are ``(image, target)``
with ``image`` H×W×1 uint8 and ``target = {"label": int, ...}``; ``task`` is ``generation``
(DCGAN: labels unused) or ``classification``.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError
from ..registry import DATASETS
from .base import VisionDataset
from .validate import BadFile, resolve

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGITS = [str(i) for i in range(10)]


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip or plain) into a uint8 array of the stored shape."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such IDX file")
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise BadFile(path, f"corrupt or truncated gzip ({e})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise BadFile(path, "not an IDX file (bad magic number)")
    if data[2] != 0x08:
        raise BadFile(path, f"IDX element type 0x{data[2]:02x} not supported (expected 0x08, unsigned byte)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - offset != expected:
        raise BadFile(path, f"IDX header says {shape} = {expected} bytes, file has {len(data) - offset}")
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)


class IDXDataset(VisionDataset):
    """MNIST-style images + labels in memory. See the module docstring."""

    def __init__(self, root, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
                 task: str = "generation", images: str = "{prefix}-images-idx3-ubyte.gz",
                 labels: str = "{prefix}-labels-idx1-ubyte.gz", names: str = "auto"):
        super().__init__(root, split, strict)
        if task not in ("generation", "classification"):
            raise DataError(f"idx: task must be 'generation' or 'classification', got {task!r}")
        self.task = task
        prefix = "train" if split == "train" else "t10k" if split in ("test", "val", "t10k") else split
        root = Path(root)
        self.images_path = resolve(root, images.format(prefix=prefix, split=split))
        self.images = read_idx(self.images_path)
        self.labels = read_idx(resolve(root, labels.format(prefix=prefix, split=split))).astype(np.int64)
        if self.images.ndim != 3:
            raise BadFile(self.images_path, f"expected N×H×W images, got shape {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise DataError(f"{self.images_path}: {len(self.images)} images but {len(self.labels)} labels")
        if classes:
            self.classes = list(classes)
        elif names == "auto":
            self.classes = FASHION_MNIST_CLASSES if "fashion" in str(root).lower() else DIGITS
        else:
            self.classes = FASHION_MNIST_CLASSES if names == "fashion" else DIGITS
        self.items = range(len(self.images))

    def raw(self, i: int):
        i = self.items[i]
        image = self.images[i][:, :, None]
        return image, {"label": int(self.labels[i]), "image_id": int(i), "path": str(self.images_path),
                       "orig_size": image.shape[:2]}


@DATASETS.register("idx", task="generation")
def idx(root: str, split: str = "train", classes: Optional[list[str]] = None, strict: bool = False,
        task: str = "generation", images: str = "{prefix}-images-idx3-ubyte.gz",
        labels: str = "{prefix}-labels-idx1-ubyte.gz", names: str = "auto") -> IDXDataset:
    """MNIST/Fashion-MNIST IDX (gzip). Options: task (generation | classification), images/labels
    file patterns (``{prefix}`` is train or t10k), names (auto | fashion | digits)."""
    return IDXDataset(root, split, classes, strict, task, images, labels, names)
