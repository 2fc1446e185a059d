"""Batching transformed samples: one ``collate`` for every task (the DataLoader's collate_fn).

Every batch is ``(images, targets)``, as in torchvision and Detectron2:

* ``images``: a ``Tensor[B, C, H, W]`` in [0, 1] when every image has the same size. Only
  detection batches may hold images of different sizes (``resize: longest``/``none``); they
  stay a list of CHW tensors, which the detectors pad themselves. Other tasks need a fixed
  ``data.img_size`` and get a :class:`DataError` otherwise.
* ``targets``: a ``list[dict]``, one dict per image, exactly as the transform returned it:
  detection ``boxes``, ``labels`` (...); segmentation ``masks`` (an H×W int64 class map);
  captioning ``tokens`` (1-D int64 with <start>/<end>), ``captions`` (the references),
  ``image_id``, ``meta``; classification and generation ``label``.

Models stack the dense targets they need (``models/common.py``: ``stack_masks``,
``pad_tokens``, ``stack_labels``); a GAN whose generator ends in tanh rescales the [0, 1]
images to [-1, 1] itself. Untransformed samples (numpy images) give ``(list of images,
list of targets)``.
"""

from __future__ import annotations

import torch

from ..errors import DataError


def collate(batch) -> tuple:
    """Collate a list of ``(image, target)`` samples into ``(images, targets)`` (see the
    module docstring)."""
    if not batch:
        raise DataError("collate: empty batch")
    images = [b[0] for b in batch]
    targets = [b[1] for b in batch]
    if not isinstance(images[0], torch.Tensor):
        return images, targets
    if all(im.shape == images[0].shape for im in images):
        return torch.stack(images), targets
    if "boxes" in targets[0]:
        return images, targets
    raise DataError("a batch holds images of different sizes, which only detection accepts: set data.resize "
                    "to letterbox or stretch with a fixed data.img_size")
