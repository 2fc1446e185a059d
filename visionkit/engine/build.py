"""Build what a run needs from a :class:`~visionkit.config.Config`: the model, the data sets and
their loaders.

The training loader uses :class:`ResumableSampler`: the order of epoch ``e`` is a permutation
drawn from ``seed + e`` alone (so a resumed run sees exactly the same batches), it is split
across ranks like :class:`~torch.utils.data.DistributedSampler` (rank ``r`` takes positions
``r, r+W, r+2W, ...``, so ``W`` ranks with batch ``b`` see the same global batches as one process
with batch ``W*b``), and it can skip the batches of an epoch that were already trained.
Each sample's augmentation is seeded from ``(seed, epoch, index)`` (the sampler yields
:class:`~visionkit.data.base.SampleKey` items), so two runs with one seed, and a resumed run and
an uninterrupted one, draw the same augmentation with ``workers=0`` and with worker processes.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from ..config import Config, DataConfig
from ..data.base import SampleKey, sample_seed
from ..data.build import build_dataset as data_build_dataset
from ..data.build import make_loader
from ..data.stats import BoxStats, box_stats
from ..errors import ConfigError
from ..models.detection.autofit import fit_model, is_auto, wants_data
from ..models.detection.selective_search import ProposalCache, default_cache_dir
from ..registry import MODELS
from .distributed import DistInfo


def build_model(cfg: Config, classes: list[str] | tuple[str, ...] | None = None, pretrained: bool = True) -> torch.nn.Module:
    """``MODELS.build(cfg.model["name"], **rest)``, filling in what the builder takes and the
    model section does not set from the run's single source of each fact:
    ``num_classes=len(classes)``; ``classes=list(classes)`` for builders that need the names
    themselves (a caption model's vocabulary); ``img_size=cfg.data.img_size``, the input size;
    ``ignore_index=cfg.data.ignore_index``, so a segmentation loss ignores the data's void label.
    ``pretrained=False`` skips ImageNet weights whatever the config says: a model about to
    receive a checkpoint's weights must not need them."""
    if not cfg.model or "name" not in cfg.model:
        raise ConfigError("config: the model section needs a 'name'")
    kwargs = dict(cfg.model)
    name = kwargs.pop("name")
    params = MODELS.get(name).params()
    if "num_classes" in params and "num_classes" not in kwargs and classes:
        kwargs["num_classes"] = len(classes)
    if "classes" in params and "classes" not in kwargs and classes:
        kwargs["classes"] = list(classes)
    if "img_size" in params and "img_size" not in kwargs:
        size = cfg.data.img_size
        if params["img_size"].annotation in (int, "int") and isinstance(size, (list, tuple)):
            if len(set(size)) != 1:
                raise ConfigError(f"data.img_size: model {name!r} takes a square input (one integer), got {list(size)}")
            size = size[0]
        kwargs["img_size"] = size
    if "ignore_index" in params and "ignore_index" not in kwargs:
        kwargs["ignore_index"] = cfg.data.ignore_index
    if not pretrained and "pretrained" in params:
        kwargs["pretrained"] = False
    return MODELS.build(name, where=f"model ({name})", **kwargs)


def fit_model_to_data(cfg: Config, dataset: Dataset, quiet: bool = False) -> tuple[Config, BoxStats | None]:
    """Resolve the model section's ``auto`` values (YOLOv1's ``grid``, Faster R-CNN's
    ``anchor_sizes``) from the training split's box statistics (``data.stats.box_stats`` at
    ``data.img_size`` after ``data.resize``; ``models.detection.autofit``), printing one line
    per choice. Returns the config with the values written in (what the run saves, so its
    checkpoints rebuild the same model) and the statistics (None for a section without
    ``auto`` or a data set that is not detection). Explicit values are left as they are."""
    model = dict(cfg.model or {})
    if not wants_data(model) or getattr(dataset, "task", "detection") != "detection":
        return cfg, None
    stats = box_stats(dataset, cfg.data.img_size, cfg.data.resize)
    resolved, lines = fit_model(model, stats, cfg.data.img_size)
    if not quiet:
        print(f"data: {stats.summary()}", file=sys.stderr)
        for line in lines:
            print(f"model: {line}", file=sys.stderr)
    return dataclasses.replace(cfg, model=resolved), stats


def fitted_from(cfg: Config, stored_model: dict | None) -> Config:
    """``cfg`` with each ``auto`` model value replaced by the one a checkpoint's stored config
    holds (what training fitted), so evaluating a checkpoint under its preset's config rebuilds
    the trained model."""
    model = dict(cfg.model or {})
    stored = stored_model or {}
    if stored.get("name") != model.get("name"):
        return cfg
    fitted = {k: stored[k] for k, v in model.items() if is_auto(v) and k in stored and not is_auto(stored[k])}
    return dataclasses.replace(cfg, model={**model, **fitted}) if fitted else cfg


def build_dataset(cfg: Config, split: str, train: bool) -> Dataset:
    """The data layer's reader for ``split``: a role (``train``/``val``/``test``, whose split
    name is read from ``cfg.data``) or a split name. Training samples carry the proposals of
    :func:`build_proposer`."""
    name = getattr(cfg.data, split) if split in ("train", "val", "test") else split
    return data_build_dataset(cfg.data, name, train, proposer=build_proposer(cfg.data) if train else None)


def build_proposer(data: DataConfig) -> ProposalCache | None:
    """What attaches ``target["proposals"]`` to the training samples: the on-disk selective
    search cache with ``data.proposals: selective_search`` (R-CNN, Fast R-CNN), else None."""
    return ProposalCache(default_cache_dir()) if data.proposals else None


class ResumableSampler(DistributedSampler):
    """:class:`DistributedSampler` that can start an epoch part-way (``skip`` samples of this
    rank's shard are dropped) for exact mid-epoch resume. For data sets that take them
    (``accepts_sample_keys``) it yields :class:`~visionkit.data.base.SampleKey` items whose
    augmentation seed depends on ``(seed, epoch, index)`` alone, so a run, a rerun and a resume
    draw the same augmentation for every sample, whichever worker process loads it."""

    def __init__(self, dataset: Dataset, dist: DistInfo, shuffle: bool = True, seed: int = 0):
        super().__init__(dataset, num_replicas=dist.world_size, rank=dist.rank, shuffle=shuffle, seed=seed)
        self.skip = 0
        self.keyed = bool(getattr(dataset, "accepts_sample_keys", False))

    def __iter__(self) -> Iterator[int | SampleKey]:
        indices = list(super().__iter__())[self.skip:]
        if not self.keyed:
            return iter(indices)
        return iter([SampleKey(i, sample_seed(self.seed, self.epoch, i)) for i in indices])

    def __len__(self) -> int:
        return max(self.num_samples - self.skip, 0)


class ShardSampler(Sampler[int]):
    """Evaluation sharding without padding: rank ``r`` of ``W`` takes items ``r, r+W, ...``
    (DistributedSampler would repeat items to even out the shards and bias the metrics)."""

    def __init__(self, n: int, dist: DistInfo):
        self.indices = list(range(dist.rank, n, dist.world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def make_train_loader(dataset: Dataset, batch_size: int, dist: DistInfo, seed: int, workers: int = 0) -> tuple[DataLoader, ResumableSampler]:
    """The training loader (per-rank ``batch_size``; the data layer's ``make_loader``: its
    collate, worker seeding, pinned memory) and its sampler (call ``set_epoch``)."""
    sampler = ResumableSampler(dataset, dist, shuffle=True, seed=seed)
    return make_loader(dataset, batch_size, shuffle=False, workers=workers, seed=seed + dist.rank, sampler=sampler), sampler


def make_eval_loader(dataset: Dataset, batch_size: int, dist: DistInfo, workers: int = 0) -> DataLoader:
    """The evaluation loader: this rank's :class:`ShardSampler` shard, in order."""
    return make_loader(dataset, batch_size, shuffle=False, workers=workers, sampler=ShardSampler(len(dataset), dist))


def steps_per_epoch(num_batches: int, grad_accum: int) -> int:
    return max(math.ceil(num_batches / max(grad_accum, 1)), 1)
