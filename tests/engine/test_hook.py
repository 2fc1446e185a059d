"""StepContext, the trainer's half of the train_step hook, on a stand-in trainer."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from visionkit.engine.hook import StepContext


def test_backward_scales_and_step_clips_then_zeroes():
    net = torch.nn.Linear(2, 1, bias=False)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=8.0)
    calls = []

    def clip_and_step(optimizer, params):  # the trainer's: unscale, clip, scaler.step
        scaler.unscale_(optimizer)
        calls.append(float(params[0].grad.norm()))
        scaler.step(optimizer)

    trainer = SimpleNamespace(device=torch.device("cpu"), step=5, epoch=1, amp=None, scaler=scaler, _clip_and_step=clip_and_step)
    ctx = StepContext(trainer)
    assert (ctx.global_step, ctx.epoch) == (5, 1)
    before = net.weight.detach().clone()
    loss = net(torch.ones(1, 2)).sum()
    ctx.backward(loss)
    assert torch.allclose(net.weight.grad, torch.full((1, 2), 8.0))  # scaled by the scaler
    ctx.step(opt)
    assert calls == [torch.full((1, 2), 1.0).norm().item()]  # unscaled before the step
    assert torch.allclose(net.weight, before - 1.0) and net.weight.grad is None
