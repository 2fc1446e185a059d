"""Exported files run where checkpoints do: load_model, `visionkit detect/segment`, `visionkit eval`."""

import json

import numpy as np
import pytest
import torch

from tests.helpers.tiny import tiny_checkpoint as _checkpoint
from tests.helpers.tiny import bccd_checkpoint
from visionkit.api import load_model
from visionkit.cli import main
from visionkit.errors import UserError, WeightsError
from visionkit.exported import is_exported, load_exported_model, read_meta


def _export(tmp_path, fmt="onnx", task="detection"):
    ckpt = _checkpoint(tmp_path / "m.pt", task=task)
    suffix = ".onnx" if fmt == "onnx" else ".torchscript.pt"
    assert main(["export", "-w", str(ckpt), "--format", fmt, "--no-check"]) == 0
    return ckpt, tmp_path / f"m{suffix}"


def test_is_exported_by_suffix():
    assert is_exported("a/m.onnx") and is_exported("m.torchscript.pt") and is_exported("M.ONNX")
    assert not is_exported("runs/x/best.pt")


def test_export_prints_the_whole_input_shape(tmp_path, capsys):
    _export(tmp_path)  # the checkpoint's data.img_size is one side, 128
    assert "(onnx, input 1x3x128x128)" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_stores_config_classes_and_thresholds(tmp_path, fmt):
    _, out = _export(tmp_path, fmt)
    meta = read_meta(out)
    assert meta["task"] == "detection" and meta["classes"] == ["RBC", "WBC", "Platelets"]
    assert meta["img_size"] == [128, 128] and meta["config"]["model"]["name"] == "yolov1"
    assert meta["score_thresh"] == 0.0 and meta["nms_thresh"] == 0.5 and meta["max_det"] == 100


def test_export_meta_records_the_thresholds_the_graph_holds():
    """The detector's own defaults, not the first submodule with a like-named attribute (the
    torchvision peer's RPN has ``nms_thresh`` 0.7 and ``score_thresh`` 0.0)."""
    import tests.helpers.tiny  # noqa: F401
    from visionkit.config import build_config
    from visionkit.exported import export_meta
    from visionkit.registry import MODELS

    model = MODELS.build("torchvision_faster_rcnn", num_classes=3, backbone="tiny_test", pretrained=False, img_size=128,
                         score_thresh=0.02, nms_thresh=0.45, max_det=7)
    meta = export_meta(model, build_config({"task": "detection"}), ["a", "b", "c"], {"conf": 0.3})
    assert (meta["score_thresh"], meta["nms_thresh"], meta["max_det"], meta["conf"]) == (0.02, 0.45, 7, 0.3)
    seg = MODELS.build("fcn", num_classes=2, backbone="tiny_test", pretrained=False, fc_channels=0)
    meta = export_meta(seg, build_config({"task": "segmentation"}), ["a", "b"])
    assert (meta["score_thresh"], meta["nms_thresh"], meta["max_det"]) == (None, None, None)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("task", ["detection", "segmentation"])
def test_predictor_on_an_export_matches_the_checkpoint(tmp_path, fmt, task, images):
    ckpt, out = _export(tmp_path, fmt, task)
    ref = load_model(ckpt, device="cpu").predict(images / "a.jpg", conf=0.0)[0]
    got = load_model(out).predict(images / "a.jpg", conf=0.0)[0]
    assert got.names == ref.names and got.task == task
    if task == "detection":
        assert len(ref.boxes) > 0
        np.testing.assert_allclose(got.boxes, ref.boxes, atol=1e-2)
        np.testing.assert_array_equal(got.labels, ref.labels)
        np.testing.assert_allclose(got.scores, ref.scores, atol=1e-4)
    else:
        assert got.mask.shape == ref.mask.shape == (90, 120)
        assert (got.mask == ref.mask).mean() > 0.99


def test_export_thresholds_conf_and_max_det_filter_and_iou_is_fixed(tmp_path, images):
    _, out = _export(tmp_path)
    pred = load_model(out)
    all_ = pred.predict(images / "a.jpg", conf=0.0)[0]
    assert len(all_.scores) > 3
    conf = float(np.sort(all_.scores)[-3])
    top = pred.predict(images / "a.jpg", conf=conf)[0]
    assert len(top.scores) == 3 and top.scores.min() >= conf
    assert len(pred.predict(images / "a.jpg", conf=0.0, max_det=2)[0].scores) == 2
    assert set(pred.predict(images / "a.jpg", conf=0.0, classes=[2])[0].labels) == {2}
    assert len(pred.predict(images / "a.jpg", conf=0.0)[0].scores) == len(all_.scores)  # nothing stuck
    assert len(pred.predict(images / "a.jpg", conf=0.0, iou=0.5)[0].scores) > 0  # the exported value: fine
    with pytest.raises(UserError, match="NMS IoU is fixed at export"):
        pred.predict(images / "a.jpg", iou=0.3)


def test_export_rejects_training_and_another_input_size(tmp_path):
    _, out = _export(tmp_path)
    model, cfg, classes, _ = load_exported_model(out)
    with pytest.raises(UserError, match="inference only"):
        model.train()
    with pytest.raises(UserError, match="exported for 128x128 inputs, got 96x96"):
        model([torch.rand(3, 96, 96)])
    out = model([torch.rand(3, 128, 128)])[0]
    assert out["boxes"].shape[1] == 4 and out["labels"].dtype == torch.int64


def test_detect_cli_runs_an_export_and_a_bad_file_is_one_line(tmp_path, images, capsys):
    _, out = _export(tmp_path)
    assert main(["detect", str(images / "a.jpg"), "--weights", str(out), "--out", str(tmp_path / "o"), "--conf", "0"]) == 0
    assert json.loads((tmp_path / "o" / "predictions.json").read_text())
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a graph")
    capsys.readouterr()
    assert main(["detect", str(images / "a.jpg"), "--weights", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.onnx: not a readable exported model" in err and "Traceback" not in err
    foreign = tmp_path / "plain.onnx"
    torch.onnx.export(torch.nn.Conv2d(3, 1, 1), (torch.rand(1, 3, 8, 8),), str(foreign), dynamo=False)
    assert main(["detect", str(images / "a.jpg"), "--weights", str(foreign)]) == 2
    assert "no visionkit metadata" in capsys.readouterr().err
    with pytest.raises(WeightsError, match="a detection model, not a segmentation one"):
        load_model(out, task="segmentation")


def test_eval_scores_an_export_like_its_checkpoint(tmp_path, data_dir):
    from visionkit.config import save_config

    ckpt, cfg = bccd_checkpoint(tmp_path / "m.pt", data_dir, test="test[:6]")
    save_config(cfg, tmp_path / "m.yaml")
    assert main(["export", "-w", str(ckpt), "--no-check"]) == 0
    rows = {}
    for name, weights in (("pt", ckpt), ("onnx", tmp_path / "m.onnx")):
        out = tmp_path / f"{name}.json"
        assert main(["eval", str(tmp_path / "m.yaml"), "--weights", str(weights), "--split", "test", "--out", str(out)]) == 0
        rows[name] = json.loads(out.read_text())
    assert abs(rows["pt"]["mAP"] - rows["onnx"]["mAP"]) < 1e-3
