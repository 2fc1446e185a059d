"""Optimizers, schedules (hand-worked values) and EMA (against the formula)."""

from __future__ import annotations

import math

import pytest
import torch

from visionkit.config import TrainConfig
from visionkit.engine.optim import build_ema, build_optimizer, build_scheduler, lr_factor, param_groups
from visionkit.errors import ConfigError


def _net():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4, 2))


def test_weight_decay_only_on_matrices_and_kernels():
    groups = param_groups(_net(), 1e-4)
    assert [p.ndim for p in groups[0]["params"]] == [4, 2] and groups[0]["weight_decay"] == 1e-4
    assert all(p.ndim == 1 for p in groups[1]["params"]) and groups[1]["weight_decay"] == 0.0
    assert len(param_groups(_net(), 0.0)) == 1


def test_build_optimizer_kinds():
    net = _net()
    assert isinstance(build_optimizer(net, TrainConfig(optimizer="sgd", momentum=0.8)), torch.optim.SGD)
    opt = build_optimizer(net, TrainConfig(optimizer="adamw", lr=3e-4, betas=(0.5, 0.99)))
    assert isinstance(opt, torch.optim.AdamW) and opt.param_groups[0]["betas"] == (0.5, 0.99)
    with pytest.raises(ConfigError, match="unknown optimizer 'rmsprop'"):
        build_optimizer(net, TrainConfig(optimizer="rmsprop"))
    net.requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable parameters"):
        build_optimizer(net, TrainConfig())


def test_schedules_hand_worked():
    warm = TrainConfig(scheduler="constant", warmup_steps=10)
    assert lr_factor(0, warm, 100, 10) == pytest.approx(0.001)
    assert lr_factor(5, warm, 100, 10) == pytest.approx(0.001 + 0.999 * 0.5)
    assert lr_factor(10, warm, 100, 10) == 1.0
    step = TrainConfig(scheduler="step", step_milestones=[2, 4], gamma=0.1)
    assert [lr_factor(s, step, 60, 10) for s in (19, 20, 39, 40)] == pytest.approx([1, 0.1, 0.1, 0.01])
    cos = TrainConfig(scheduler="cosine", warmup_steps=0)
    assert [lr_factor(s, cos, 100, 10) for s in (0, 50, 100)] == pytest.approx([1, 0.5, 0])
    assert lr_factor(25, cos, 100, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    with pytest.raises(ConfigError, match="unknown schedule 'poly'"):
        lr_factor(0, TrainConfig(scheduler="poly"), 10, 1)


def test_scheduler_drives_the_optimizer():
    net = _net()
    cfg = TrainConfig(lr=0.1, scheduler="cosine", warmup_steps=2)
    opt = build_optimizer(net, cfg)
    sched = build_scheduler(opt, cfg, total_steps=10, steps_per_epoch=5)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1 * 0.001) and lrs[2] == pytest.approx(0.1)
    assert lrs[6] == pytest.approx(0.1 * 0.5)  # half-way through the 8 cosine steps


def test_ema_decay_warms_up_then_holds():
    from visionkit.engine.optim import ema_decay

    assert ema_decay(0.999, 1) == pytest.approx(2 / 11)
    assert ema_decay(0.999, 90) == pytest.approx(91 / 100)
    assert ema_decay(0.999, 100_000) == 0.999
    # the first update's share after n steps falls far faster than 0.999 ** n
    share = 1.0
    for n in range(1, 1877):
        share *= ema_decay(0.999, n)
    assert share < 1e-3 < 0.999 ** 1876


def test_ema_follows_the_formula():
    net = torch.nn.Linear(2, 1, bias=False)
    ema = build_ema(net, 0.9)
    w0 = net.weight.detach().clone()
    ema.update_parameters(net)  # the first update copies the weights
    assert torch.allclose(ema.module.weight, w0)
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update_parameters(net)  # n = 1: the warmed-up decay (1 + 1) / (10 + 1)
    d = 2 / 11
    assert torch.allclose(ema.module.weight, d * w0 + (1 - d) * (w0 + 1.0))
    for _ in range(200):  # past the warm-up the decay is the configured 0.9
        ema.update_parameters(net)
    w1 = ema.module.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update_parameters(net)
    assert torch.allclose(ema.module.weight, 0.9 * w1 + 0.1 * net.weight)
    assert build_ema(net, 0.0) is None
    with pytest.raises(ConfigError, match="train.ema"):
        build_ema(net, 1.5)
