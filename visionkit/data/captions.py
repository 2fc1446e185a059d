"""COCO captions reader (``format: coco_captions``) for image captioning (Show and Tell).

Layout::

    root/captions_<split>.json     COCO captions: images (id, file_name), annotations (image_id, caption)
    root/images/<file_name>.jpg

Every image has several human captions (five in COCO). Training iterates over
(image, caption) *pairs* -- each caption is one training example -- while evaluation iterates
over *images* and scores the generated caption against all of that image's references
(BLEU/CIDEr). ``per_caption`` chooses (default: pairs for the training split, images otherwise).

Sample target: ``tokens`` (int64 ids of the chosen caption, with ``<start>``/``<end>``),
``caption`` (that caption's text), ``captions`` (all references), ``image_id``, ``path``,
``orig_size``. ``dataset.vocab`` is built from the *training* split's captions (words seen at
least ``min_freq`` times); replace it with the checkpoint's vocabulary when evaluating a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..registry import DATASETS
from .base import VisionDataset
from .coco import _require, read_json
from .image import read_image
from .validate import BadFile, inside, resolve
from .vocab import Vocabulary


def load_captions(path: Path) -> tuple[list[dict], dict[int, list[str]]]:
    """-> (images, {image_id: [captions]}) from a COCO captions JSON."""
    data = read_json(path)
    images, anns = _require(data, "images", path), _require(data, "annotations", path)
    caps: dict[int, list[str]] = {}
    for a in anns:
        if isinstance(a, dict) and isinstance(a.get("caption"), str) and "image_id" in a:
            caps.setdefault(int(a["image_id"]), []).append(a["caption"].strip())
    return images, caps


class CocoCaptions(VisionDataset):
    """Images with their reference captions. See the module docstring."""

    task = "captioning"

    def __init__(self, root, split: str = "train", train: bool = False, strict: bool = False,
                 ann_file: str = "captions_{split}.json", images: str = "images", min_freq: int = 5,
                 vocab_split: str = "train", per_caption: Optional[bool] = None):
        super().__init__(root, split, strict)
        root = Path(root)
        img_dir = resolve(root, images)
        imgs, caps = load_captions(resolve(root, ann_file.format(split=split)))
        self.images: list[tuple[int, str, list[str]]] = []
        for im in imgs:
            try:
                image_id, path = int(im["id"]), inside(img_dir, str(im["file_name"]), ann_file)
            except (KeyError, TypeError, ValueError):
                self.issues.error("malformed", ann_file, f"image entry {str(im)[:80]} lacks id/file_name; skipped")
                continue
            except BadFile as e:
                e.record(self.issues, "; skipped")
                continue
            if not path.is_file() or path.stat().st_size == 0:
                self.issues.error("missing_file", path, "image missing or empty; skipped")
                continue
            if not caps.get(image_id):
                self.issues.warn("no_labels", path, "image has no caption; skipped")
                continue
            self.images.append((image_id, str(path), caps[image_id]))
        vocab_file = resolve(root, ann_file.format(split=vocab_split))
        if vocab_split == split or not vocab_file.is_file():
            train_caps = [c for _, _, cs in self.images for c in cs]
        else:
            train_caps = [c for cs in load_captions(vocab_file)[1].values() for c in cs]
        self.vocab = Vocabulary.build(train_caps, min_freq=min_freq)
        self.classes = list(self.vocab.itos)  # a caption model's "classes" are its vocabulary
        self.per_caption = train if per_caption is None else per_caption
        self._index()

    def _index(self) -> None:
        if self.per_caption:
            self.items = [(i, k) for i, (_, _, cs) in enumerate(self.images) for k in range(len(cs))]
        else:
            self.items = [(i, 0) for i in range(len(self.images))]

    def select(self, part: slice) -> "CocoCaptions":
        """Keep a slice of the *images* (all captions of an image stay on one side)."""
        self.images = self.images[part]
        self._index()
        return self

    @property
    def num_images(self) -> int:
        return len(self.images)

    @property
    def num_captions(self) -> int:
        return sum(len(cs) for _, _, cs in self.images)

    def raw(self, i: int):
        j, k = self.items[i]
        image_id, path, captions = self.images[j]
        image = read_image(path, self.issues)
        target = {
            "tokens": np.asarray(self.vocab.encode(captions[k]), np.int64),
            "caption": captions[k],
            "captions": list(captions),
            "image_id": image_id,
            "path": path,
            "orig_size": image.shape[:2],
        }
        return image, target


@DATASETS.register("coco_captions", task="captioning")
def coco_captions(root: str, split: str = "train", train: bool = False, strict: bool = False,
                  ann_file: str = "captions_{split}.json", images: str = "images", min_freq: int = 5,
                  vocab_split: str = "train", per_caption: Optional[bool] = None) -> CocoCaptions:
    """COCO captions JSON. Options: ann_file (``{split}`` replaced), images folder, min_freq
    (vocabulary threshold), vocab_split (the split whose captions build the vocabulary),
    per_caption (items are (image, caption) pairs; default: on for training)."""
    return CocoCaptions(root, split, train, strict, ann_file, images, min_freq, vocab_split, per_caption)

