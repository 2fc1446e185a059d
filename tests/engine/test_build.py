"""Building from a config: num_classes/ignore_index filled from the data, the resumable and
sharded samplers' index arithmetic."""

from __future__ import annotations

import pytest
import torch

import engine_toys as T
from visionkit.config import build_config
from visionkit.engine.build import ResumableSampler, ShardSampler, build_model, steps_per_epoch
from visionkit.engine.distributed import DistInfo
from visionkit.errors import ConfigError
from visionkit.registry import MODELS, model_task


def _seg(num_classes: int = 2, ignore_index: int = 255) -> torch.nn.Module:
    m = torch.nn.Conv2d(3, num_classes, 1)
    m.ignore_index = ignore_index
    return m


MODELS.register("toy_seg_build", task="segmentation")(_seg)


def test_build_model_fills_num_classes_and_ignore_index():
    cfg = build_config({"model": {"name": "toy_seg_build"}, "data": {"ignore_index": 11}})
    m = build_model(cfg, ["a", "b", "c", "d"])
    assert m.out_channels == 4 and m.ignore_index == 11
    cfg = build_config({"model": {"name": "toy_seg_build", "num_classes": 7, "ignore_index": 0}})
    m = build_model(cfg, ["a", "b"])
    assert m.out_channels == 7 and m.ignore_index == 0  # the config wins
    with pytest.raises(ConfigError, match="unknown key 'widht'; did you mean 'width'"):
        build_model(build_config({"model": {"name": "toy_cnn", "widht": 3}}), T.CLASSES)
    with pytest.raises(ConfigError, match="needs a 'name'"):
        build_model(build_config({}), T.CLASSES)


def test_model_task_is_the_registry_entrys():
    assert model_task(build_config({"model": {"name": "toy_seg_build"}})) == "segmentation"
    assert model_task("toy_cnn") == "classification" and model_task({"name": "toy_gan"}) == "generation"
    assert model_task(build_config({"task": "detection"})) == ""  # a stored legacy task key is dropped


def test_resumable_sampler_is_seeded_per_epoch_and_skips():
    data = list(range(10))
    a = ResumableSampler(data, DistInfo(), seed=3)
    a.set_epoch(2)
    order = list(a)
    b = ResumableSampler(data, DistInfo(), seed=3)
    b.set_epoch(2)
    b.skip = 4
    assert list(b) == order[4:] and len(b) == 6
    a.set_epoch(3)
    assert list(a) != order and sorted(a) == data


def test_two_ranks_see_the_global_batches_of_one_process():
    data = list(range(16))
    one = ResumableSampler(data, DistInfo(0, 1, 0), seed=1)
    ranks = [ResumableSampler(data, DistInfo(r, 2, r), seed=1) for r in (0, 1)]
    for s in [one, *ranks]:
        s.set_epoch(5)
    big = list(one)
    shards = [list(s) for s in ranks]
    for i in range(4):  # global batch i: 4 samples for one process = 2 + 2 for the ranks
        assert sorted(big[4 * i: 4 * i + 4]) == sorted(shards[0][2 * i: 2 * i + 2] + shards[1][2 * i: 2 * i + 2])


def test_shard_sampler_covers_each_item_once():
    shards = [list(ShardSampler(7, DistInfo(r, 3, r))) for r in range(3)]
    assert shards == [[0, 3, 6], [1, 4], [2, 5]]
    assert steps_per_epoch(7, 2) == 4 and steps_per_epoch(0, 1) == 1
