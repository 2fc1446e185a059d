"""The common base of every reader: indexing, ``raw(i)``, transforms and bad-item skipping.

A reader indexes its annotations once, when it is built (parsing every XML/JSON/txt file and
checking it with :mod:`visionkit.data.validate`), and decodes images lazily in ``raw(i)``.
Problems found while indexing are in ``dataset.issues``; items that could not be used are not
in the index at all.

An image can still turn out to be corrupt when it is decoded during training. ``__getitem__``
then warns once (naming the file), records the problem, and returns the next good item
instead, so a long run neither crashes nor trains on garbage. With ``strict=True`` it raises.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from torch.utils.data import Dataset

from ..errors import DataError
from .validate import BadFile, Issues


class SampleKey(NamedTuple):
    """What a seeded sampler yields instead of a bare index: the item and the seed of its
    augmentation (see ``Transform.reseed``)."""

    index: int
    seed: int


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 32-bit seed for one sample's augmentation, a function of the run's seed, the epoch and
    the sample's index only (NumPy's SeedSequence mixes them: nearby inputs give unrelated seeds)."""
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, epoch, index]).generate_state(1)[0])


class VisionDataset(Dataset):
    """Base class. Subclasses set ``classes``, ``task``, ``items`` and implement ``raw(i)``.
    ``dataset[i]`` takes an index or a :class:`SampleKey` (seeded augmentation)."""

    task: str = "detection"
    accepts_sample_keys = True

    def __init__(self, root, split: str, strict: bool = False, transform: Optional[Callable] = None):
        self.root = root
        self.split = split
        self.strict = strict
        self.issues = Issues(strict=strict)
        self.transform = transform
        self.classes: list[str] = []
        self.items: list[Any] = []
        self._bad: set[int] = set()

    def __len__(self) -> int:
        return len(self.items)

    def select(self, part: slice) -> "VisionDataset":
        """Keep a slice of the items (``data.train: "train[:250]"``: see ``build_dataset``)."""
        self.items = self.items[part]
        return self

    def item_file(self, i: int) -> str:
        """The image file of item ``i``, relative to the data set's root (``/``-separated): the
        name a split list (``data.split_files``) gives it."""
        item = self.items[i]
        path = getattr(item, "path", None) or (item[0] if isinstance(item, tuple) else item)
        if not isinstance(path, (str, Path)):
            raise DataError(f"{self.root}: format of this data set has no image files to list in a split")
        path = Path(path)
        try:
            return path.relative_to(Path(self.root)).as_posix()
        except ValueError:
            return path.as_posix()

    def keep_files(self, files: list[str]) -> "VisionDataset":
        """Keep the items whose :meth:`item_file` is in ``files``, in the reader's order."""
        wanted = set(files)
        self.items = [it for i, it in enumerate(self.items) if self.item_file(i) in wanted]
        return self

    def raw(self, i: int):  # pragma: no cover - abstract
        """The untransformed sample ``(image, target)`` of item ``i``."""
        raise NotImplementedError

    def __getitem__(self, key: int | SampleKey):
        i, seed = (key.index, key.seed) if isinstance(key, SampleKey) else (key, None)
        n = len(self)
        for k in range(min(n, 16)):
            j = (i + k) % n
            if j in self._bad:
                continue
            try:
                image, target = self.raw(j)
            except BadFile as e:
                if self.strict:
                    raise
                self._bad.add(j)
                e.record(self.issues, "; item skipped")
                warnings.warn(f"skipping bad item: {e}", stacklevel=2)
                continue
            if self.transform is None:
                return image, target
            if seed is not None and hasattr(self.transform, "reseed"):
                self.transform.reseed(seed)
            return self.transform(image, target)
        raise DataError(f"{self.root}: no readable item near index {i} (split {self.split!r})")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(root={str(self.root)!r}, split={self.split!r}, task={self.task!r}, "
                f"items={len(self)}, classes={len(self.classes)}, issues={len(self.issues)})")


# ------------------------------------------------------------------------------ detection


from .image import read_image  # noqa: E402


class DetItem:
    """One indexed detection image: its path, annotated size and cleaned boxes."""

    __slots__ = ("path", "image_id", "size", "boxes", "labels", "difficult", "iscrowd", "masks")

    def __init__(self, path, image_id: int, size, boxes, labels, difficult=None, iscrowd=None, masks=None):
        n = len(labels)
        self.path = str(path)
        self.image_id = int(image_id)
        self.size = (int(size[0]), int(size[1])) if size else None  # (h, w) or None if unknown
        self.boxes = np.asarray(boxes, np.float32).reshape(n, 4)
        self.labels = np.asarray(labels, np.int64).reshape(n)
        self.difficult = np.zeros(n, bool) if difficult is None else np.asarray(difficult, bool).reshape(n)
        self.iscrowd = np.zeros(n, bool) if iscrowd is None else np.asarray(iscrowd, bool).reshape(n)
        self.masks = masks  # optional callable (h, w) -> N×H×W uint8, decoded on demand

    def subset(self, keep: np.ndarray) -> "DetItem":
        self.boxes, self.labels = self.boxes[keep], self.labels[keep]
        self.difficult, self.iscrowd = self.difficult[keep], self.iscrowd[keep]
        return self


class DetectionDataset(VisionDataset):
    """A detection reader: ``items`` is a list of :class:`DetItem`; ``raw(i)`` decodes the image."""

    task = "detection"
    proposals = None  # image -> boxes (a ProposalCache): samples then carry target["proposals"] (R-CNN, Fast R-CNN)

    def raw(self, i: int):
        it: DetItem = self.items[i]
        image = read_image(it.path, self.issues)
        h, w = image.shape[:2]
        boxes = it.boxes.copy()
        if it.size is not None and it.size != (h, w):
            # the annotation's size disagrees with the pixels (often an EXIF rotation the
            # annotation tool ignored): boxes stay in pixel units, re-clipped, and it is reported
            self.issues.warn("size_mismatch", it.path, f"image is {w}x{h} but its annotation says "
                             f"{it.size[1]}x{it.size[0]}; boxes clipped to the image")
            boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
            boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        target = {
            "boxes": boxes,
            "labels": it.labels.copy(),
            "difficult": it.difficult.copy(),
            "iscrowd": it.iscrowd.copy(),
            "image_id": it.image_id,
            "path": it.path,
            "orig_size": (h, w),
        }
        if it.masks is not None:
            target["masks"] = it.masks(h, w)
        if self.proposals is not None:
            target["proposals"] = self.proposals(image)
        return image, target

    def class_counts(self) -> dict[str, int]:
        """Number of boxes of each class in this split."""
        counts = np.zeros(len(self.classes) + 1, np.int64)
        for it in self.items:
            np.add.at(counts, it.labels, 1)
        return {name: int(counts[i + 1]) for i, name in enumerate(self.classes)}

    def num_boxes(self) -> int:
        return int(sum(len(it.labels) for it in self.items))
