"""Batching transformed samples: one ``collate`` for every task (the DataLoader's collate_fn).

The task is recognised from the target's keys:

* **detection** (``boxes``) -> ``(images, targets)``: ``images`` is a ``Tensor[B, 3, H, W]``
  when every image has the same size (letterbox/stretch), else a list of CHW tensors
  (``resize: longest``/``none``; two-stage detectors batch them themselves); ``targets`` is
  the list of per-image dicts, since each image has a different number of boxes.
* **segmentation** (``mask``) -> ``(Tensor[B, 3, H, W], Tensor[B, H, W] int64)``.
* **captioning** (``tokens``) -> ``(Tensor[B, 3, H, W], {"tokens": LongTensor[B, L] padded
  with <pad> = 0, "lengths": LongTensor[B] (with <start>/<end>), "captions": list of the
  reference captions of each image, "image_id": list[int], "meta": list[dict]})``.
* **generation / classification** (``label``) -> ``(Tensor[B, C, H, W] in [0, 1],
  LongTensor[B])``. Images stay in [0, 1]: a GAN whose generator ends in tanh rescales to
  [-1, 1] itself.

Untransformed samples (numpy images) are returned as ``(list of images, list of targets)``.
"""

from __future__ import annotations

import torch

from ..errors import DataError


def _same_size(images) -> bool:
    return all(im.shape == images[0].shape for im in images)


def collate(batch):
    """Collate a list of ``(image, target)`` samples (see the module docstring)."""
    images = [b[0] for b in batch]
    targets = [b[1] for b in batch]
    if not batch:
        raise DataError("collate: empty batch")
    if not isinstance(images[0], torch.Tensor):
        return images, targets
    t0 = targets[0]
    if "boxes" in t0:
        return (torch.stack(images) if _same_size(images) else images), targets
    if "mask" in t0:
        if not _same_size(images):
            raise DataError("segmentation batch with images of different sizes: set data.resize "
                            "to letterbox or stretch with a fixed data.img_size")
        return torch.stack(images), torch.stack([t["mask"] for t in targets]).long()
    if "tokens" in t0:
        if not _same_size(images):
            raise DataError("captioning batch with images of different sizes: set data.resize: stretch")
        lengths = torch.tensor([len(t["tokens"]) for t in targets], dtype=torch.int64)
        tokens = torch.zeros(len(batch), int(lengths.max()), dtype=torch.int64)  # <pad> = 0
        for i, t in enumerate(targets):
            tokens[i, : len(t["tokens"])] = t["tokens"]
        return torch.stack(images), {
            "tokens": tokens,
            "lengths": lengths,
            "captions": [t["captions"] for t in targets],
            "image_id": [t["image_id"] for t in targets],
            "meta": [t.get("meta") for t in targets],
        }
    if "label" in t0:
        return torch.stack(images), torch.tensor([t["label"] for t in targets], dtype=torch.int64)
    raise DataError(f"collate: cannot tell the task from target keys {sorted(t0)}")
