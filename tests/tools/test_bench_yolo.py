"""tools/bench_yolo.py on a tiny YOLOv1: end-to-end images/s, the network's share of the GEMM
peak, and the same end-to-end path through its ONNX export."""

import importlib.util
import re
from pathlib import Path

import cv2
import numpy as np

from tests.helpers.tiny import tiny_checkpoint
from visionkit.cli import main as cli

spec = importlib.util.spec_from_file_location("bench_yolo", Path(__file__).parents[2] / "tools" / "bench_yolo.py")
bench_yolo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_yolo)


def _images(folder: Path) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(str(folder / f"{i}.jpg"), rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    return folder


def test_checkpoint_and_export_are_timed_end_to_end(tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    images = _images(tmp_path / "imgs")
    bench_yolo.main(["--weights", str(ckpt), "--images", str(images), "--n", "4"])
    out = capsys.readouterr().out
    assert "native bf16" in out and "input 128x128" in out
    assert float(re.search(r"batch 1: ([\d.]+) images/s over 4 ", out).group(1)) > 0
    share = float(re.search(r"= ([\d.]+)% of peak", out).group(1))
    assert 0 < share
    assert "oneDNN 1x1 conv" in out
    assert cli(["export", "-w", str(ckpt), "--no-check"]) == 0
    capsys.readouterr()
    bench_yolo.main(["--weights", str(tmp_path / "m.onnx"), "--images", str(images), "--n", "4"])
    out = capsys.readouterr().out
    assert re.search(r"over 4 images of", out) and re.search(r"exported graph \(network \+ NMS\): [\d.]+ ms/image", out)
