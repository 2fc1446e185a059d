"""Export parity: ONNX (onnxruntime) and TorchScript give the PyTorch model's predictions."""

import numpy as np
import pytest
import torch

from tests.helpers.tiny import tiny_checkpoint as _checkpoint
from visionkit.cli import main
from visionkit.engine.restore import build_from_checkpoint
from visionkit.export import check_export
from visionkit.exported import run_exported


@pytest.mark.parametrize("task", ["detection", "segmentation"])
@pytest.mark.parametrize("fmt,suffix", [("onnx", ".onnx"), ("torchscript", ".torchscript.pt")])
def test_export_reproduces_pytorch(task, fmt, suffix, tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "m.pt", task=task)
    assert main(["export", "-w", str(ckpt), "--format", fmt]) == 0
    out = tmp_path / f"m{suffix}"
    assert out.is_file()
    assert "max |pytorch" in capsys.readouterr().out
    model, cfg, _ = build_from_checkpoint(ckpt)
    assert check_export(model, task, out, cfg.data.img_size, seed=7) < 1e-4
    if task == "detection":
        boxes, scores, labels = run_exported(out, torch.rand(1, 3, 128, 128))
        assert boxes.shape[1] == 4 and len(scores) == len(labels) and np.all(labels >= 1)


def test_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "-w", str(tmp_path / "none.pt")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
