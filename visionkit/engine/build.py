"""Build what a run needs from a :class:`~visionkit.config.Config`: the model, the data sets and
their loaders.

The training loader uses :class:`ResumableSampler`: the order of epoch ``e`` is a permutation
drawn from ``seed + e`` alone (so a resumed run sees exactly the same batches), it is split
across ranks like :class:`~torch.utils.data.DistributedSampler` (rank ``r`` takes positions
``r, r+W, r+2W, ...``, so ``W`` ranks with batch ``b`` see the same global batches as one process
with batch ``W*b``), and it can skip the batches of an epoch that were already trained.
With ``workers=0`` a resumed run is bit-exact, augmentation included (the global RNG states are
in the checkpoint); with worker processes the batches are the same but the augmentation draws
are not, since which worker loads which batch shifts after the skipped ones.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from ..config import Config, DataConfig
from ..data.build import build_dataset as data_build_dataset
from ..data.build import make_loader
from ..errors import ConfigError
from ..models.detection.selective_search import ProposalCache, default_cache_dir
from ..registry import MODELS
from .distributed import DistInfo


def build_model(cfg: Config, classes: list[str] | tuple[str, ...] | None = None, pretrained: bool = True) -> torch.nn.Module:
    """``MODELS.build(cfg.model["name"], **rest)``, adding ``num_classes=len(classes)`` when the
    builder takes ``num_classes`` and the config does not set it (and likewise
    ``ignore_index=cfg.data.ignore_index``, so a segmentation loss ignores the data's void label;
    and ``classes=list(classes)`` for builders that need the names themselves, such as a caption
    model whose classes are its vocabulary). ``pretrained=False`` skips ImageNet weights whatever
    the config says: a model about to receive a checkpoint's weights must not need them."""
    if not cfg.model or "name" not in cfg.model:
        raise ConfigError("config: the model section needs a 'name'")
    kwargs = dict(cfg.model)
    name = kwargs.pop("name")
    entry = MODELS.get(name)
    if "num_classes" in entry.params() and "num_classes" not in kwargs and classes:
        kwargs["num_classes"] = len(classes)
    if "classes" in entry.params() and "classes" not in kwargs and classes:
        kwargs["classes"] = list(classes)  # e.g. a caption model's vocabulary
    if "ignore_index" in entry.params() and "ignore_index" not in kwargs:
        kwargs["ignore_index"] = cfg.data.ignore_index
    if not pretrained and "pretrained" in entry.params():
        kwargs["pretrained"] = False
    return MODELS.build(name, where=f"model ({name})", **kwargs)


def model_task(cfg: Config, model: Any = None, dataset: Any = None) -> str:
    """The run's task: ``cfg.task``, else the model's ``task`` attribute, else the registry
    entry's, else the data set's."""
    if cfg.task:
        return cfg.task
    for obj in (model, dataset):
        t = getattr(obj, "task", "")
        if isinstance(t, str) and t:
            return t
    name = (cfg.model or {}).get("name")
    if name and name in MODELS and MODELS.get(name).task:
        return MODELS.get(name).task
    return ""


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
    rank's shard are dropped) for exact mid-epoch resume."""

    def __init__(self, dataset: Dataset, dist: DistInfo, shuffle: bool = True, seed: int = 0):
        super().__init__(dataset, num_replicas=dist.world_size, rank=dist.rank, shuffle=shuffle, seed=seed)
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        return iter(list(super().__iter__())[self.skip:])

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
