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


def test_the_trainer_writes_a_models_fixed_samples_as_epoch_grids(tmp_path):
    import cv2
    import engine_toys as T

    from visionkit.engine.hook import SampleGrid, epoch_hooks
    from visionkit.engine.trainer import Trainer
    from visionkit.models.generative.dcgan import DCGAN
    from visionkit.viz import save_grid

    class Gan(T.ToyGAN):
        def fixed_samples(self):
            return self.G(torch.linspace(-1, 1, 4 * self.z).view(4, self.z)).view(4, 3, 8, 8).detach()

    assert [type(h) for h in epoch_hooks(DCGAN(32, 1, 8, 8, 8))] == [SampleGrid]
    assert not hasattr(DCGAN, "on_epoch_end")  # the model computes, the hook writes
    assert epoch_hooks(T.ToyCNN()) == []

    seen = []

    class Spy:
        def on_epoch_end(self, trainer):
            seen.append(trainer.epoch)

    cfg = T.toy_config(tmp_path, model={"name": "toy_gan"}, name="gan", epochs=2, optimizer="adam", lr=1e-2, eval_every=0)
    torch.manual_seed(0)
    trainer = Trainer(cfg, model=Gan(), train_set=T.ToyImages(8), hooks=[Spy()])
    trainer.fit()
    samples = tmp_path / "gan" / "samples"
    assert sorted(p.name for p in samples.iterdir()) == ["epoch_001.png", "epoch_002.png"] and seen == [1, 2]
    save_grid(trainer.net.fixed_samples(), tmp_path / "expected.png")  # the last grid is the trained model's
    assert (cv2.imread(str(samples / "epoch_002.png")) == cv2.imread(str(tmp_path / "expected.png"))).all()
    assert not (cv2.imread(str(samples / "epoch_001.png")) == cv2.imread(str(tmp_path / "expected.png"))).all()
    Trainer(T.toy_config(tmp_path, name="cnn", epochs=1, eval_every=0), model=T.ToyCNN(), train_set=T.ToyImages(8)).fit()
    assert not (tmp_path / "cnn" / "samples").exists()
