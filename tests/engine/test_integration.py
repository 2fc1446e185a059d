"""The engine on the real data sets (skipped without $VISIONKIT_DATA): the evaluator's
coordinate mapping on BCCD against voc_evaluate on the raw annotations, and a short FCN run on
CamVid through the whole pipeline (data layer -> trainer -> evaluator -> run folder)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from visionkit.config import build_config
from visionkit.engine.build import build_dataset, make_eval_loader
from visionkit.engine.distributed import DistInfo
from visionkit.engine.evaluator import Evaluator
from visionkit.engine.trainer import train
from visionkit.metrics.voc import voc_evaluate

pytestmark = pytest.mark.data
CAMVID = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"]


class WholeImage(nn.Module):
    """Predicts, for every class, one box covering the whole (letterboxed) input."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, images, **thresholds):  # scores 0.9..0.5, above eval.conf: no threshold changes them
        out = []
        for im in images:
            h, w = im.shape[-2:]
            out.append({"boxes": torch.tensor([[0.0, 0.0, w, h]]).repeat(self.k, 1),
                        "labels": torch.arange(1, self.k + 1), "scores": torch.linspace(0.9, 0.5, self.k)})
        return out


def test_bccd_detection_eval_maps_back_to_original_pixels(data_dir):
    cfg = build_config({"data": {"format": "voc", "root": str(data_dir / "bccd"), "img_size": 96, "batch_size": 8, "workers": 0}})
    ds = build_dataset(cfg, "val", False)
    k = len(ds.classes)
    res = Evaluator("detection", ds.classes).evaluate(WholeImage(k), make_eval_loader(ds, 8, DistInfo()), torch.device("cpu"))
    gts, preds = [], []
    for i in range(len(ds)):
        _, t = ds.raw(i)  # original annotations and size
        h, w = t["orig_size"]
        gts.append({"boxes": t["boxes"], "labels": t["labels"], "difficult": t["difficult"]})
        preds.append({"boxes": [[0.0, 0.0, w, h]] * k, "labels": list(range(1, k + 1)), "scores": torch.linspace(0.9, 0.5, k).tolist()})
    expected = voc_evaluate(gts, preds, ds.classes, metric="voc07")
    assert len(res.predictions) == len(ds) == 87
    assert res.metrics["mAP"] == pytest.approx(expected["mAP"], abs=1e-4)
    assert res.predictions[0]["boxes"][0].tolist() == pytest.approx([0, 0, 640, 480], abs=1e-3)


def test_camvid_fcn_short_run(data_dir, tmp_path):
    torch.manual_seed(0)
    cfg = build_config({
        "name": "fcn_camvid", "out_dir": str(tmp_path), "quiet": True, "task": "segmentation",
        "model": {"name": "fcn", "backbone": "resnet18", "pretrained": False, "variant": 32, "fc_channels": 16},
        "data": {"format": "masks", "root": str(data_dir / "camvid"), "img_size": 64, "resize": "stretch", "classes": CAMVID,
                 "batch_size": 2, "workers": 0, "ignore_index": 11},
        "train": {"epochs": 1, "max_steps": 2, "lr": 0.01, "device": "cpu", "log_every": 1},
    })
    val = torch.utils.data.Subset(build_dataset(cfg, "val", False), range(16))  # keep the test short
    out = train(cfg, val_set=val)
    run = tmp_path / "fcn_camvid"
    assert out["step"] == 2 and 0.0 <= out["metrics"]["mIoU"] <= 1.0
    assert {"pixel_acc", "IoU/Sky"} <= set(out["metrics"])
    assert (run / "confusion.png").is_file() and (run / "loss.png").is_file()
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2]


def test_eval_tta_wraps_the_detector_and_scores_bccd(data_dir, tmp_path):
    from tests.helpers.tiny import bccd_checkpoint
    from visionkit.config import to_dict
    from visionkit.engine.evaluator import evaluate_checkpoint

    _, cfg = bccd_checkpoint(tmp_path / "w.pt", data_dir, val="val[:4]")
    cfg = build_config({**to_dict(cfg), "eval": {"conf": 0.0}})  # an untrained model's scores are all below the default 0.01
    plain, _ = evaluate_checkpoint(cfg, tmp_path / "w.pt", "val")
    cfg_tta = build_config({**to_dict(cfg), "eval": {"conf": 0.0, "tta": ["h", "v"]}})
    tta, _ = evaluate_checkpoint(cfg_tta, tmp_path / "w.pt", "val")
    assert len(tta.predictions) == len(plain.predictions) == 4
    assert 0.0 <= tta.metrics["mAP"] <= 1.0
    # three views, each capped at max_det, merged back under the cap; boxes differ from one view's
    assert all(len(p["boxes"]) <= 100 for p in tta.predictions)
    assert any(not torch.equal(torch.as_tensor(a["boxes"]), torch.as_tensor(b["boxes"]))
               for a, b in zip(tta.predictions, plain.predictions))


def test_evaluation_autocasts_by_eval_amp_not_train_amp(data_dir, tmp_path, monkeypatch):
    """Training in bf16 must not make the scores bf16: evaluation follows eval.amp (off by default)."""
    from tests.helpers.tiny import bccd_checkpoint
    from visionkit.config import to_dict
    from visionkit.engine import device as device_mod
    from visionkit.engine.evaluator import Evaluator, evaluate_checkpoint

    monkeypatch.setattr(device_mod, "cpu_has_bf16", lambda: True)
    seen = []
    real = Evaluator.evaluate

    def spy(self, model, loader, device, amp=None, *args, **kwargs):
        seen.append(amp)
        return real(self, model, loader, device, amp, *args, **kwargs)

    monkeypatch.setattr(Evaluator, "evaluate", spy)
    _, cfg = bccd_checkpoint(tmp_path / "w.pt", data_dir, val="val[:2]")
    bf16_training = build_config({**to_dict(cfg), "train": {"amp": "bf16"}})
    evaluate_checkpoint(bf16_training, tmp_path / "w.pt", "val")
    evaluate_checkpoint(build_config({**to_dict(cfg), "eval": {"amp": "bf16"}}), tmp_path / "w.pt", "val")
    assert seen == [None, torch.bfloat16]
