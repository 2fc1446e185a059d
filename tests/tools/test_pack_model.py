import torch

from tests.helpers.tiny import tiny_checkpoint
from tests.helpers.tools import load_tool
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.restore import build_from_checkpoint

pack_model = load_tool("pack_model")


def test_packed_model_is_half_size_and_predicts_the_same(tmp_path):
    src = tiny_checkpoint(tmp_path / "full.pt")
    pack_model.main([str(src), str(tmp_path / "packed.pt")])
    packed = load_checkpoint(tmp_path / "packed.pt")
    assert all(v.dtype != torch.float32 for v in packed["model"].values())
    assert (tmp_path / "packed.pt").stat().st_size < 0.6 * src.stat().st_size
    full, _, _ = build_from_checkpoint(src)
    small, _, classes = build_from_checkpoint(tmp_path / "packed.pt")
    assert classes == ["RBC", "WBC", "Platelets"]
    assert next(small.parameters()).dtype == torch.float32  # cast back on load
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        a = full.head(full.backbone(full.normalize(x))["c5"])
        b = small.head(small.backbone(small.normalize(x))["c5"])
    assert torch.allclose(a, b, atol=2e-2, rtol=1e-2)


def test_calibrate_stores_the_f1_optimal_conf_that_detect_then_starts_from(data_dir, tmp_path, monkeypatch):
    import json

    from tests.helpers.tiny import bccd_checkpoint
    from visionkit.cli import main

    import pytest

    from visionkit.engine import evaluator
    from visionkit.errors import UserError

    src, _ = bccd_checkpoint(tmp_path / "w.pt", data_dir, val="val[:3]")
    with pytest.raises(UserError, match="no operating point"):  # untrained: nothing right, so no F1_conf
        pack_model.main([str(src), str(tmp_path / "packed.pt"), "--calibrate", "val"])
    real = evaluator.evaluate_checkpoint

    def scored(*args, **kwargs):  # the real evaluation, as if it had found something at 0.3
        res, out = real(*args, **kwargs)
        res.metrics.update(F1_conf=0.3, F1=0.5)
        return res, out

    monkeypatch.setattr(evaluator, "evaluate_checkpoint", scored)
    pack_model.main([str(src), str(tmp_path / "packed.pt"), "--calibrate", "val"])
    packed = load_checkpoint(tmp_path / "packed.pt")
    assert packed["conf"] == 0.3 and packed["conf_calibration"]["split"] == "val"
    assert 0.0 <= packed["conf_calibration"]["F1"] <= 1.0

    image = str(data_dir / "bccd" / "JPEGImages" / "BloodImage_00000.jpg")

    def detect(weights, *extra):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        assert main(["detect", image, "-w", str(weights), "--out", str(out), "-q", "--no-save", *extra]) == 0
        return json.loads((out / "predictions.json").read_text())

    assert detect(tmp_path / "packed.pt") == detect(tmp_path / "packed.pt", "--conf", str(packed["conf"]))
    scores = [p["score"] for p in detect(tmp_path / "packed.pt")]
    assert not scores or min(scores) >= packed["conf"] - 1e-3
    assert detect(src) == detect(src, "--conf", "0.25")  # no calibration: Ultralytics' 0.25



def test_calibration_scores_at_the_nms_and_cap_that_prediction_uses(tmp_path, monkeypatch):
    """A checkpoint whose stored config says eval.nms_iou 0.5 / max_det 100 (every checkpoint
    written before those keys were read) is calibrated at the model's own NMS and cap."""
    from visionkit.engine import evaluator
    from visionkit.engine.evaluator import EvalResult

    src = tiny_checkpoint(tmp_path / "full.pt")
    ckpt = load_checkpoint(src)
    ckpt["config"]["eval"].update(conf=0.001, nms_iou=0.5, max_det=100)
    torch.save(ckpt, src)
    seen = []
    monkeypatch.setattr(evaluator, "evaluate_checkpoint", lambda cfg, weights, split: (
        seen.append(cfg.eval) or EvalResult({"F1_conf": 0.3, "F1": 0.5, "mAP": 0.4}), None))
    assert pack_model.calibrate(src, "val")["conf"] == 0.3
    assert (seen[0].nms_iou, seen[0].max_det, seen[0].conf, seen[0].metric) == (None, None, 0.001, "voc07")
