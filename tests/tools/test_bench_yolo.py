"""tools/bench_yolo.py on a tiny YOLOv1: end-to-end images/s, the network's share of the GEMM
peak, and the same end-to-end path through its ONNX export."""

import re
from pathlib import Path

import cv2
import numpy as np

from tests.helpers.numbers import ratio_within_rounding, within_rounding
from tests.helpers.tiny import tiny_checkpoint
from tests.helpers.tools import load_tool
from visionkit.cli import main as cli

bench_yolo = load_tool("bench_yolo")


def _images(folder: Path) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):  # one more than --n
        cv2.imwrite(str(folder / f"{i}.jpg"), rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    return folder


def test_checkpoint_and_export_are_timed_end_to_end(tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    images = _images(tmp_path / "imgs")
    bench_yolo.main(["--weights", str(ckpt), "--images", str(images), "--n", "4"])
    out = capsys.readouterr().out
    assert "native bf16" in out and "input 128x128" in out
    assert re.search(r"batch 1: ([\d.]+) images/s over 4 images", out)  # all the images given, no more
    ms, ips, gflops = map(float, re.search(r"network only: ([\d.]+) ms/image = ([\d.]+) images/s; ([\d.]+) GFLOPs/image", out).groups())
    assert ratio_within_rounding(ips, 1000, ms, 0, 0.1, 0.1)
    gflop = 2 * _macs(ckpt) / 1e9
    assert within_rounding(gflops, gflop, 0.01)
    peak, mm, conv, achieved, share = map(float, re.search(
        r"fp32 GEMM peak (\d+) GFLOP/s \(torch.mm (\d+), oneDNN 1x1 conv (\d+)\); network achieves ([\d.]+) GFLOP/s = ([\d.]+)% of peak",
        out).groups())
    assert peak == max(mm, conv) and 0 < share < 100
    assert ratio_within_rounding(achieved, 1000 * gflop, ms, 0, 0.1, 0.1)  # FLOPs / network time
    assert ratio_within_rounding(share, 100 * achieved, peak, 100 * 0.1, 1, 0.1)
    assert cli(["export", "-w", str(ckpt), "--no-check"]) == 0
    capsys.readouterr()
    bench_yolo.main(["--weights", str(tmp_path / "m.onnx"), "--images", str(images), "--n", "4"])
    out = capsys.readouterr().out
    assert re.search(r"over 4 images of", out)
    ms, ips = map(float, re.search(r"exported graph \(network \+ NMS\): ([\d.]+) ms/image = ([\d.]+) images/s", out).groups())
    assert ratio_within_rounding(ips, 1000, ms, 0, 0.1, 0.1)


def _macs(ckpt):
    """Multiply-accumulates of the network the tool times (normalisation, backbone, neck, head)."""
    import torch

    from visionkit.engine.restore import build_from_checkpoint
    from visionkit.summary import summarize

    model, _, _ = build_from_checkpoint(ckpt)
    body = torch.nn.Sequential(model.normalize, bench_yolo._Body(model))
    return summarize(body, (3, 128, 128)).macs
