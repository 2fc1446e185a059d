"""tools/bench_train_step.py: every numeric mode trains through the engine and is timed; bf16
rows appear only where the CPU has native bf16."""

import json
import sys
from pathlib import Path

import yaml

from tests.helpers.numbers import within_rounding
from tests.helpers.tools import load_tool
from visionkit.engine.device import cpu_has_bf16

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
import engine_toys  # noqa: E402  (write_idx)

bench_train_step = load_tool("bench_train_step")


def test_modes_are_timed_on_real_training_steps(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "task": "detection",
        "model": {"name": "yolov1", "backbone": "tiny_test", "pretrained": False, "grid": 4, "img_size": 128},
        "data": {"format": "synthetic", "root": "unused", "img_size": 128, "batch_size": 2, "workers": 0,
                 "options": {"task": "detection", "num_images": 8}},
        "train": {"lr": 0.001, "device": "cpu"},
    }))
    import tests.helpers.tiny  # noqa: F401  (registers the tiny_test backbone)

    out = tmp_path / "bench.json"
    rc = bench_train_step.main([str(config), "train.seed=1", "--steps", "1", "--modes", "fp32,fp32 channels-last,bf16", "--out", str(out)])
    assert rc == 0
    result = json.loads(out.read_text())
    expected = ["fp32", "fp32 channels-last"] + (["bf16"] if cpu_has_bf16() else [])
    assert list(result["rows"]) == expected
    assert result["skipped"] == ([] if cpu_has_bf16() else ["bf16"])
    assert result["batch_size"] == 2 and result["overrides"] == ["train.seed=1"]
    first = result["rows"]["fp32"]
    for row in result["rows"].values():
        assert row["images_s"] > 0 and row["s_per_step"] == 2 / row["images_s"]
        assert row["speed_vs_first"] == row["images_s"] / first["images_s"]
        assert row["loss_name"] == "loss" and 0 < row["loss"] < 100  # YOLOv1's summed loss on an untrained net
    assert first["speed_vs_first"] == 1.0
    printed = capsys.readouterr().out
    assert "machine:" in printed and "vs fp32" in printed
    for mode, row in result["rows"].items():  # the printed table is the JSON's, rounded
        line = next(line for line in printed.splitlines() if line.startswith(mode) and line[len(mode):].lstrip()[0].isdigit())
        ips, s_step, speed, loss = line[len(mode):].split()
        assert within_rounding(float(ips), row["images_s"], 0.01) and within_rounding(float(s_step), row["s_per_step"], 0.01)
        assert within_rounding(float(speed.rstrip("x")), row["speed_vs_first"], 0.01)
        assert within_rounding(float(loss), row["loss"], 0.0001)
    assert not list(tmp_path.glob("fp32_*"))  # the runs went to a temporary folder


def test_a_gan_reports_its_own_loss(tmp_path):
    """A two-optimizer model logs loss_d and loss_g, not "loss": the first of its losses is reported."""
    engine_toys.write_idx(tmp_path / "idx", "train", 16)
    config = tmp_path / "gan.yaml"
    config.write_text(yaml.safe_dump({
        "task": "generation",
        "model": {"name": "dcgan", "img_size": 32, "channels": 1, "z_dim": 8, "g_width": 8, "d_width": 8},
        "data": {"format": "idx", "root": str(tmp_path / "idx"), "img_size": 32, "resize": "stretch", "batch_size": 4,
                 "workers": 0, "options": {"task": "generation"}, "augment": {"hflip": 0.0}},
        "train": {"optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999], "device": "cpu"},
    }))
    out = tmp_path / "bench.json"
    assert bench_train_step.main([str(config), "--steps", "1", "--modes", "fp32", "--out", str(out)]) == 0
    row = json.loads(out.read_text())["rows"]["fp32"]
    assert row["loss_name"] == "loss_d" and row["images_s"] > 0
    assert 0.5 < row["loss"] < 3  # D's BCE on real + fake, near 2·ln 2 before it has learnt anything
