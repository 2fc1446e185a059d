"""tools/gan_fid.py on tiny IDX files: the floor and the GAN's FID in one run, and their ratio."""

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.tools import load_tool
from visionkit.config import build_config, to_dict
from visionkit.engine.checkpoint import save_checkpoint
from visionkit.registry import MODELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
import engine_toys as T  # noqa: E402

gan_fid = load_tool("gan_fid")


def _save(path, task, model, data):
    kwargs = {k: v for k, v in model.items() if k != "name"}
    net = MODELS.build(model["name"], **kwargs)
    cfg = build_config({"task": task, "model": model, "data": data})
    save_checkpoint(path, {"model": net.state_dict(), "config": to_dict(cfg), "task": task, "classes": ["dark", "light"]})


GAN = {"name": "dcgan", "img_size": 32, "channels": 1, "z_dim": 8, "g_width": 8, "d_width": 8}


def _setup(tmp_path, n_train: int, n_test: int, batch_size: int) -> dict:
    """Tiny IDX train/test files, a LeNet-5 feature checkpoint and ``gan.yaml`` naming it; the data config."""
    T.write_idx(tmp_path / "idx", "train", n_train)
    T.write_idx(tmp_path / "idx", "t10k", n_test, seed=1)
    data = {"format": "idx", "root": str(tmp_path / "idx"), "val": "test", "img_size": 32, "resize": "stretch",
            "batch_size": batch_size, "workers": 0, "augment": {"hflip": 0.0}}
    _save(tmp_path / "clf.pt", "classification", {"name": "classifier", "network": "lenet5", "num_classes": 2}, data)
    cfg = {"task": "generation", "model": GAN, "data": data, "eval": {"fid_weights": str(tmp_path / "clf.pt")}}
    (tmp_path / "gan.yaml").write_text(yaml.safe_dump(cfg))
    return data


def _run(tmp_path, weights: str, *extra: str) -> dict:
    """``tools/gan_fid.py`` on ``tmp_path/gan.yaml`` and ``tmp_path/weights``; its JSON output."""
    out = tmp_path / "f.json"
    assert gan_fid.main([str(tmp_path / "gan.yaml"), "--weights", str(tmp_path / weights), "--out", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_floor_gan_and_ratio(tmp_path, capsys):
    data = _setup(tmp_path, 40, 16, 8)
    _save(tmp_path / "gan.pt", "generation", GAN, data)

    out = _run(tmp_path, "gan.pt")
    assert out["n"] == out["n_test"] == 16
    assert 0 < out["fid_floor_train_vs_test"] < out["fid_gan_vs_test"]  # untrained noise is further from the data
    assert out["ratio"] == pytest.approx(out["fid_gan_vs_test"] / out["fid_floor_train_vs_test"])
    for terms, total in ((out["floor_terms"], out["fid_floor_train_vs_test"]), (out["gan_terms"], out["fid_gan_vs_test"])):
        assert terms["mean_term"] >= 0 and terms["mean_term"] + terms["cov_term"] == pytest.approx(total)
    assert sum(out["class_share_test"]) == pytest.approx(1) and sum(out["class_share_generated"]) == pytest.approx(1)
    assert len(out["class_share_test"]) == len(out["class_share_generated"]) == 2  # the classifier's classes
    tv = 0.5 * sum(abs(a - b) for a, b in zip(out["class_share_generated"], out["class_share_test"]))
    assert out["class_share_tv"] == pytest.approx(tv)
    printed = capsys.readouterr().out
    assert "ratio GAN / floor" in printed and "mean term" in printed and "total-variation distance" in printed


def test_without_fid_weights_is_a_one_line_error(tmp_path):
    (tmp_path / "gan.yaml").write_text(yaml.safe_dump({"task": "generation", "model": {"name": "dcgan"}}))
    with pytest.raises(gan_fid.UserError, match="eval.fid_weights is empty"):
        gan_fid.main([str(tmp_path / "gan.yaml"), "--weights", str(tmp_path / "x.pt")])


def test_bn_statistics_modes():
    import torch

    from visionkit.models.generative.dcgan import DCGAN

    torch.manual_seed(0)
    gan = DCGAN(img_size=32, channels=1, z_dim=8, g_width=8, d_width=8).eval()
    bns = [m for m in gan.generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:  # stale running statistics, as an EMA of them can leave
        m.running_mean.fill_(3.0)
        m.running_var.fill_(0.01)
    z = torch.randn(256, 8, generator=torch.Generator().manual_seed(5))

    assert gan_fid.with_bn_statistics(gan, "running") is gan
    recal = gan_fid.with_bn_statistics(gan, "recalibrated", batches=20, batch_size=64)
    assert bns[0].running_mean[0] == 3.0  # the original is untouched
    rb = [m for m in recal.generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert not recal.generator.training and rb[0].momentum is None and int(rb[0].num_batches_tracked) == 20
    # the recalibrated statistics are those of the first BN's inputs over fresh noise
    pre = recal.generator.net[0](z.view(256, 8, 1, 1))
    assert torch.allclose(rb[0].running_mean, pre.mean((0, 2, 3)), atol=0.05)

    batch = gan_fid.with_bn_statistics(gan, "batch")
    x = batch.sample(256, z=z)
    # training-mode BN normalises each batch by itself: the first BN's output has zero mean per channel
    h = batch.generator.net[1](batch.generator.net[0](z.view(256, 8, 1, 1)))
    assert torch.allclose(h.mean((0, 2, 3)), batch.generator.net[1].bias, atol=1e-4)
    assert x.shape == (256, 1, 32, 32) and not torch.allclose(x, gan.sample(256, z=z))


def test_raw_samples_the_trained_weights_and_the_default_their_ema(tmp_path):
    data = _setup(tmp_path, 24, 12, 6)
    cfg = build_config({"task": "generation", "model": GAN, "data": data})
    trained, averaged = (MODELS.build("dcgan", **{k: v for k, v in GAN.items() if k != "name"}) for _ in range(2))
    ckpt = {"config": to_dict(cfg), "task": "generation"}
    save_checkpoint(tmp_path / "both.pt", dict(ckpt, model=trained.state_dict(),
                                               ema={f"module.{k}": v for k, v in averaged.state_dict().items()}))
    save_checkpoint(tmp_path / "trained.pt", dict(ckpt, model=trained.state_dict()))
    save_checkpoint(tmp_path / "averaged.pt", dict(ckpt, model=averaged.state_dict()))

    ema, raw = _run(tmp_path, "both.pt"), _run(tmp_path, "both.pt", "--raw")
    assert raw["raw"] and not ema["raw"]
    assert ema["fid_gan_vs_test"] == pytest.approx(_run(tmp_path, "averaged.pt")["fid_gan_vs_test"])
    assert raw["fid_gan_vs_test"] == pytest.approx(_run(tmp_path, "trained.pt")["fid_gan_vs_test"])
    assert raw["fid_gan_vs_test"] != pytest.approx(ema["fid_gan_vs_test"])


def test_several_seeds_report_the_ratio_of_the_means(tmp_path, capsys):
    data = _setup(tmp_path, 40, 16, 8)
    _save(tmp_path / "gan.pt", "generation", GAN, data)

    one, two, both = (_run(tmp_path, "gan.pt", "--seed", *seeds) for seeds in (["0"], ["1"], ["0", "1"]))
    assert one["fid_floor_train_vs_test"] != pytest.approx(two["fid_floor_train_vs_test"])  # the seed picks the real images
    assert [r["seed"] for r in both["per_seed"]] == [0, 1]
    for key in ("fid_floor_train_vs_test", "fid_gan_vs_test"):
        assert both[key] == pytest.approx((one[key] + two[key]) / 2)
    assert both["ratio"] == pytest.approx(both["fid_gan_vs_test"] / both["fid_floor_train_vs_test"])
    assert both["per_seed"][1]["ratio"] == pytest.approx(two["ratio"])
    assert both["gan_terms"]["mean_term"] + both["gan_terms"]["cov_term"] == pytest.approx(both["fid_gan_vs_test"])
    assert sum(both["class_share_generated"]) == pytest.approx(1)
    assert "means over the 2 seeds" in capsys.readouterr().out
