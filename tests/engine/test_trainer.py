"""The trainer on tiny CPU models: learning happens, run folder, accumulation, resume, NaN stop,
the train_step hook, EMA and freezing."""

from __future__ import annotations

import json

import pytest
import torch

import engine_toys as T
from visionkit.config import load_config
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.trainer import Trainer, TrainingError, train
from visionkit.errors import ConfigError


def _weights(run_dir, name="last.pt"):
    return load_checkpoint(run_dir / name)["model"]


def _same(a, b, atol=1e-6):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=atol), k


def test_learns_and_writes_run_folder(tmp_path):
    cfg = T.toy_config(tmp_path, epochs=4, plots=True)
    out = train(cfg, train_set=T.ToyImages(32), val_set=T.ToyImages(24, seed=1))
    run = tmp_path / "toy"
    assert out["metrics"]["accuracy"] >= 0.9 and out["best"] >= 0.9  # chance is 1/3
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert len(losses) == 4 * 8 and sum(losses[-4:]) < 0.5 * sum(losses[:4])
    assert [r["val/accuracy"] for r in rows if "val/accuracy" in r][-1] == out["metrics"]["accuracy"]
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"epoch", "step", "lr", "loss", "loss_cls", "img_s", "val/accuracy"} <= set(header)
    assert load_config(run / "config.yaml").train.epochs == 4
    assert any(p.name.startswith("events.out.tfevents") for p in (run / "tb").iterdir())
    for png in ("loss.png", "confusion.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    last, best = load_checkpoint(run / "last.pt"), load_checkpoint(run / "best.pt")
    assert last["step"] == 32 and last["epoch"] == 4 and last["task"] == "classification"
    assert last["classes"] == T.CLASSES and best["metrics"]["accuracy"] == out["best"]
    scores = [(r["epoch"], r["val/accuracy"]) for r in rows if "val/accuracy" in r]
    first_best = next(e for e, v in scores if v == max(v for _, v in scores))
    assert (best["epoch"], best["epoch_batch"]) == (first_best, 0)  # the epochs finished, as last.pt counts


def test_grad_accum_matches_big_batch(tmp_path):
    big = T.toy_config(tmp_path, name="big", epochs=2, eval_every=0)
    train(big, train_set=T.ToyImages(32))
    small = T.toy_config(tmp_path, name="small", epochs=2, eval_every=0, grad_accum=2)
    small.data.batch_size = 2
    train(small, train_set=T.ToyImages(32))
    _same(_weights(tmp_path / "big"), _weights(tmp_path / "small"))
    assert load_checkpoint(tmp_path / "small" / "last.pt")["step"] == 16


def test_resume_after_crash_matches_uninterrupted(tmp_path):
    """A crash at training call 13 (mid-epoch 2) after last.pt was written at step 12; the
    resumed run (same data order, restored dropout RNG) ends on the same weights."""
    model = {"name": "toy_cnn", "dropout": 0.3}
    ref = T.toy_config(tmp_path, model=model, name="ref", epochs=3, ckpt_every=3, eval_every=0)
    train(ref, train_set=T.ToyImages(32))
    crash = T.toy_config(tmp_path, model={**model, "fail_at": 13}, name="run", epochs=3, ckpt_every=3, eval_every=0)
    with pytest.raises(RuntimeError, match="injected crash"):
        train(crash, train_set=T.ToyImages(32))
    mid = load_checkpoint(tmp_path / "run" / "last.pt")
    assert (mid["step"], mid["epoch"], mid["epoch_batch"]) == (12, 1, 4)
    again = T.toy_config(tmp_path, model=model, name="run", epochs=3, ckpt_every=3, eval_every=0, resume="auto")
    out = train(again, train_set=T.ToyImages(32))
    assert out["step"] == 24
    _same(_weights(tmp_path / "ref"), _weights(tmp_path / "run"))
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 25))  # rows after the checkpoint were dropped, not duplicated


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    cfg = T.toy_config(tmp_path, model={"name": "toy_cnn", "nan_after": 6}, epochs=3, ckpt_every=2, log_every=4)
    with pytest.raises(TrainingError, match=r"NaN/inf.*last good checkpoint is .*last\.pt"):
        train(cfg, train_set=T.ToyImages(32))
    ckpt = load_checkpoint(tmp_path / "toy" / "last.pt")
    assert ckpt["step"] == 4
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())


def test_train_step_hook_two_optimizers_and_resume(tmp_path):
    def cfg(name, epochs, resume=""):
        return T.toy_config(tmp_path, model={"name": "toy_gan"}, name=name, epochs=epochs, lr=1e-2, eval_every=0, resume=resume)

    out = train(cfg("gan", 2), train_set=T.ToyImages(16))
    ckpt = load_checkpoint(tmp_path / "gan" / "last.pt")
    assert out["step"] == 8 and isinstance(ckpt["optimizer"], list) and len(ckpt["optimizer"]) == 2
    rows = [json.loads(x) for x in (tmp_path / "gan" / "metrics.jsonl").read_text().splitlines()]
    assert {"loss_d", "loss_g"} <= set(rows[0])
    train(cfg("gan2", 1), train_set=T.ToyImages(16))  # stop after epoch 1, then resume to 2
    train(cfg("gan2", 2, resume="auto"), train_set=T.ToyImages(16))
    _same(ckpt["model"], _weights(tmp_path / "gan2"))


def test_ema_is_saved_and_evaluated(tmp_path):
    cfg = T.toy_config(tmp_path, epochs=1, ema=0.5)
    trainer = Trainer(cfg, train_set=T.ToyImages(16), val_set=T.ToyImages(8, seed=1))
    trainer.fit()
    ckpt = load_checkpoint(tmp_path / "toy" / "last.pt")
    ema = {k[len("module."):]: v for k, v in ckpt["ema"].items() if k.startswith("module.")}
    assert ema.keys() == ckpt["model"].keys()
    assert not torch.allclose(ema["fc.weight"], ckpt["model"]["fc.weight"])  # an average, not a copy
    assert int(ckpt["ema"]["n_averaged"]) == 4


def test_freeze_and_max_steps(tmp_path):
    cfg = T.toy_config(tmp_path, epochs=5, max_steps=3, freeze=["conv."], eval_every=0)
    trainer = Trainer(cfg, train_set=T.ToyImages(32))
    before = {k: v.clone() for k, v in trainer.net.state_dict().items()}
    out = trainer.fit()
    after = trainer.net.state_dict()
    assert out["step"] == 3
    assert torch.equal(before["conv.weight"], after["conv.weight"])
    assert not torch.equal(before["fc.weight"], after["fc.weight"])


def test_bad_config_values_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="train.optimizer"):
        Trainer(T.toy_config(tmp_path, optimizer="adamm"), train_set=T.ToyImages(8))
    with pytest.raises(ConfigError, match="train.device"):
        Trainer(T.toy_config(tmp_path, device="tpu"), train_set=T.ToyImages(8))
    with pytest.raises(ConfigError, match="train.metric: 'acuracy' is not among .*did you mean 'accuracy'"):
        train(T.toy_config(tmp_path, epochs=1, metric="acuracy"), train_set=T.ToyImages(8), val_set=T.ToyImages(4))


def test_clip_grad_bounds_the_step(tmp_path):
    cfg = T.toy_config(tmp_path, max_steps=1, lr=1.0, clip_grad=1e-3, eval_every=0)
    trainer = Trainer(cfg, train_set=T.ToyImages(32))
    before = [p.detach().clone() for p in trainer.net.parameters()]
    trainer.fit()
    change = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(trainer.net.parameters(), before)))
    assert 0 < change <= 1e-3 * 1.0001  # plain SGD, lr 1: the update is the clipped gradient


def test_channels_last_trains_the_same(tmp_path):
    a = T.toy_config(tmp_path, name="a", epochs=1, eval_every=0)
    b = T.toy_config(tmp_path, name="b", epochs=1, eval_every=0, channels_last=True)
    train(a, train_set=T.ToyImages(16))
    train(b, train_set=T.ToyImages(16))
    _same(_weights(tmp_path / "a"), _weights(tmp_path / "b"), atol=1e-5)


def test_mixed_precision_paths_with_scaler_and_clipping(tmp_path):
    """The CUDA AMP code path run on the CPU: bf16 autocast + an enabled GradScaler (as fp16
    would use) + clipping after unscale_; the scaler's state lands in the checkpoint."""
    cfg = T.toy_config(tmp_path, epochs=3, clip_grad=5.0, eval_every=0)
    trainer = Trainer(cfg, train_set=T.ToyImages(32))
    trainer.amp = torch.bfloat16
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=4)
    trainer.fit()
    rows = [json.loads(x) for x in (tmp_path / "toy" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["loss"] < rows[0]["loss"]
    scaler = load_checkpoint(tmp_path / "toy" / "last.pt")["scaler"]
    assert scaler["scale"] == trainer.scaler.get_scale() and scaler["scale"] > 2.0**10  # grew: no inf steps


def test_model_defined_loss_total_is_what_is_optimised_and_logged(tmp_path):
    class Weighted(T.ToyCNN):
        def forward(self, images, targets=None):
            out = super().forward(images, targets)
            if self.training:
                out["aux"] = out["cls"].detach() * 0 + 2.0  # a constant extra term
            return out

        def loss_total(self, losses):
            return losses["cls"] + 0.5 * losses["aux"]

    cfg = T.toy_config(tmp_path, epochs=1, eval_every=0)
    train(cfg, model=Weighted(), train_set=T.ToyImages(8))
    rows = [json.loads(x) for x in (tmp_path / "toy" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["loss"] == pytest.approx(r["loss_cls"] + 0.5 * r["loss_aux"]) for r in rows)
    assert rows[0]["loss_aux"] == 2.0


def test_evaluation_precision_is_eval_amp_checked_at_start(tmp_path, monkeypatch):
    from visionkit.config import build_config, to_dict
    from visionkit.engine import device as device_mod

    monkeypatch.setattr(device_mod, "cpu_has_bf16", lambda: True)
    cfg = T.toy_config(tmp_path, epochs=1, amp="bf16")
    trainer = Trainer(cfg, train_set=T.ToyImages(8))
    assert trainer.amp is torch.bfloat16 and trainer.eval_amp is None  # trains in bf16, scores in float32
    bad = build_config({**to_dict(cfg), "eval": {"amp": "fp8"}})
    with pytest.raises(ConfigError, match="eval.amp: bad value"):
        Trainer(bad, train_set=T.ToyImages(8))
