"""int8 export: calibrated static quantisation keeps the metadata, leaves the first and last
layers in float, stays close to the float model, and runs where any export runs."""

import cv2
import numpy as np
import onnx
import pytest
import torch

from tests.helpers.tiny import tiny_checkpoint
from visionkit.api import load_model
from visionkit.cli import main
from visionkit.exported import run_exported
from visionkit.exported import read_meta


@pytest.fixture
def calib(tmp_path):
    folder = tmp_path / "calib"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (100, 140, 3), dtype=np.uint8))
    return folder


@pytest.mark.parametrize("task", ["detection", "segmentation"])
def test_int8_export_is_quantised_calibrated_and_close(task, tmp_path, calib, capsys):
    ckpt = tiny_checkpoint(tmp_path / "m.pt", task=task)
    assert main(["export", "-w", str(ckpt), "--int8", "--calib", str(calib), "--calib-n", "4"]) == 0
    assert "calibrated on 4 images" in capsys.readouterr().out
    fp32, int8 = tmp_path / "m.onnx", tmp_path / "m.int8.onnx"
    graph = onnx.load(str(int8)).graph
    assert any(n.op_type == "QuantizeLinear" for n in graph.node) and any(n.op_type == "DequantizeLinear" for n in graph.node)
    meta = read_meta(int8)
    assert meta["classes"] == read_meta(fp32)["classes"] and meta["int8"]["calibration_images"] == 4
    source_convs = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "Conv"]
    assert meta["int8"]["float_layers"] == [source_convs[0], source_convs[-1]]  # the first and the last
    from_dq = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    quantised = {n.name: n.input[1] in from_dq for n in graph.node if n.op_type == "Conv"}  # int8 weights
    assert not any(quantised[name] for name in meta["int8"]["float_layers"])
    assert all(q for name, q in quantised.items() if name not in meta["int8"]["float_layers"])
    x = torch.from_numpy(cv2.resize(cv2.imread(str(calib / "0.png")), (128, 128)).transpose(2, 0, 1).copy()).float()[None] / 255
    ref, got = run_exported(fp32, x), run_exported(int8, x)
    if task == "segmentation":
        scale = np.abs(ref[0]).mean()
        assert np.abs(ref[0] - got[0]).mean() < 0.1 * scale  # logits within 10% of their size
    r = load_model(int8).predict(calib / "1.png")[0]
    assert r.error == "" and r.task == task


def test_int8_needs_onnx_and_readable_calibration_images(tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "m.pt")
    assert main(["export", "-w", str(ckpt), "--format", "torchscript", "--int8"]) == 2
    assert "--int8 needs --format onnx" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "bad.jpg").write_bytes(b"not an image")
    assert main(["export", "-w", str(ckpt), "--int8", "--calib", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "no readable calibration images" in err and "Traceback" not in err
