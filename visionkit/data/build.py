"""From a config to a DataLoader: ``build_dataset`` and ``make_loader``.

``build_dataset(cfg.data, "train", train=True)`` looks ``cfg.format`` up in
:data:`visionkit.registry.DATASETS`, checks ``cfg.options`` against that reader's typed
signature (unknown keys are errors naming the closest valid key), builds the split and
attaches the transforms. ``split`` is a split *name* as the reader knows it (the engine passes
``cfg.train``/``cfg.val``/``cfg.test``: ``train``, ``trainval``, ``train2017``...).

``make_loader`` is the fast path to the GPU: worker processes decode and augment in parallel
(OpenCV's own threads are switched off in them, since the workers already use every core),
workers persist across epochs (no re-fork, no re-indexing), ``pin_memory`` lets the copy to
CUDA run asynchronously, and a ``DistributedSampler`` gives each DDP rank its own shard.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..config import DataConfig, check_kwargs
from ..errors import ConfigError, DataError
from ..registry import DATASETS
from .collate import collate
from .split import read_split_file
from .transforms import build_transforms

# keyword arguments that build_dataset fills from the DataConfig itself (not from options)
COMMON = ("root", "split", "classes", "strict", "train", "ignore_index", "vocab_split")


def reader_kwargs(cfg: DataConfig, split_name: str, train: bool) -> dict:
    """The reader's keyword arguments: the common ones it accepts + its checked ``options``."""
    entry = DATASETS.get(cfg.format)
    params = entry.params()
    for k in cfg.options:
        if k in COMMON:
            raise ConfigError(f"data.options.{k}: set data.{'train' if k == 'vocab_split' else k} instead")
    kwargs = check_kwargs(entry.builder, dict(cfg.options), f"data.options (format {cfg.format!r})")
    common = {"root": cfg.root, "split": split_name, "classes": cfg.classes, "strict": cfg.strict,
              "train": train, "ignore_index": cfg.ignore_index, "vocab_split": parse_split(cfg.train)[0]}
    kwargs.update({k: v for k, v in common.items() if k in params})
    return kwargs


def parse_split(split: str) -> tuple[str, slice | None]:
    """``"train[:250]"`` -> ``("train", slice(None, 250))``; a plain name has no slice. Python
    slice syntax over the reader's items in their file order (images, for captions), so a
    data set without a validation split can hold one out: ``train: "train[:-50]"``,
    ``val: "train[-50:]"``."""
    m = re.fullmatch(r"(.+?)\[(-?\d*):(-?\d*)\]", split.strip())
    if not m:
        return split, None
    return m.group(1), slice(int(m.group(2)) if m.group(2) else None, int(m.group(3)) if m.group(3) else None)


def build_dataset(cfg: DataConfig, split: str, train: bool,
                  proposer: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> Dataset:
    """Build the ``split`` of the data set described by ``cfg``, with its transforms.

    The dataset has ``classes``, ``task``, ``issues`` (problems found while indexing) and
    ``raw(i)`` (the untransformed sample); ``dataset[i]`` is the transformed sample. ``split``
    may end in a slice (:func:`parse_split`); a split named in ``cfg.split_files`` keeps only
    the images its list file names (:mod:`visionkit.data.split`). ``proposer`` (HWC uint8 RGB image -> M×4 boxes)
    attaches ``target["proposals"]`` to each training sample when ``cfg.proposals`` is set:
    the engine passes the selective-search cache (:func:`visionkit.engine.build.build_proposer`).
    """
    if not cfg.format:
        raise ConfigError(f"data.format is empty; valid: {', '.join(DATASETS.names())}")
    if not cfg.root:
        raise ConfigError("data.root is empty: the folder of the data set")
    split_name, part = parse_split(split)
    ds = DATASETS.build(cfg.format, f"data (format {cfg.format!r})", **reader_kwargs(cfg, split_name, train))
    if split_name in cfg.split_files:
        ds.keep_files(read_split_file(cfg.split_files[split_name]))
    if part is not None:
        ds.select(part)
    if len(ds) == 0:
        summary = "; ".join(str(i) for i in list(ds.issues)[:3])
        raise DataError(f"{cfg.root}: split {split_name!r} has no usable items" + (f" ({summary})" if summary else ""))
    if cfg.proposals:
        if cfg.proposals != "selective_search" or ds.task != "detection":
            raise ConfigError(f"data.proposals: {cfg.proposals!r} is not valid here; the one proposal method is "
                              "'selective_search', for detection data")
        if train and proposer is not None:  # evaluation images get theirs from the model, as any new image would
            ds.proposals = proposer
    ds.transform = build_transforms(cfg, train, ds.task)
    return ds


def _worker_init(worker_id: int) -> None:
    import cv2

    cv2.setNumThreads(0)  # one process per core already; OpenCV threads would oversubscribe
    info = torch.utils.data.get_worker_info()
    np.random.seed((info.seed if info else worker_id) % 2**32)  # albumentations draws from numpy


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, workers: int, distributed: bool = False,
                drop_last: bool = False, seed: int = 0, sampler: Optional[torch.utils.data.Sampler] = None) -> DataLoader:
    """A DataLoader with :func:`collate`, pinned memory on CUDA, persistent workers, and a
    ``DistributedSampler`` (which then does the shuffling) when ``distributed``. Call
    ``loader.sampler.set_epoch(epoch)`` each epoch in distributed runs."""
    if distributed and sampler is None:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=drop_last)
    g = torch.Generator()
    g.manual_seed(seed)
    kwargs = {}
    if workers > 0:
        kwargs.update(persistent_workers=True, prefetch_factor=2, worker_init_fn=_worker_init)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
                      num_workers=workers, collate_fn=collate, pin_memory=torch.cuda.is_available(),
                      drop_last=drop_last, generator=g, **kwargs)


__all__ = ["build_dataset", "make_loader", "reader_kwargs", "COMMON"]
