"""The evaluator per task, against hand-worked answers and the metric functions called directly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from visionkit.config import EvalConfig
from visionkit.data.collate import collate
from visionkit.data.transforms import boxes_to_input, make_meta, plan_resize
from visionkit.engine.evaluator import Evaluator, default_metric, metric_mode, save_predictions
from visionkit.errors import ConfigError
from visionkit.metrics.voc import voc_evaluate

CPU = torch.device("cpu")


class Lookup(nn.Module):
    """Returns the i-th canned prediction for the i-th image (images carry their index);
    ``calls`` records the keyword arguments of each call (a detector's thresholds)."""

    def __init__(self, preds):
        super().__init__()
        self.preds, self.calls = preds, []

    def forward(self, images, **kwargs):
        self.calls.append(kwargs)
        return [self.preds[int(im.flatten()[0])] for im in images]


def _img(i, size=(3, 4, 4)):
    return torch.full(size, float(i))


def test_defaults():
    assert default_metric("detection") == "mAP" and default_metric("generation") == "fid"
    assert metric_mode("fid") == "min" and metric_mode("mIoU") == "max"
    assert default_metric("detection", "coco") == "AP" and default_metric("detection", "voc") == "mAP"
    with pytest.raises(ConfigError, match="unknown task 'tracking'"):
        Evaluator("tracking", [])


def test_classification_accuracy():
    logits = [torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([3.0, 1.0]), torch.tensor([0.0, 5.0])]
    data = [(_img(i), {"label": lab}) for i, lab in enumerate([0, 1, 1, 1])]  # third is wrong
    loader = torch.utils.data.DataLoader(data, batch_size=3, collate_fn=collate)
    res = Evaluator("classification", ["a", "b"]).evaluate(Lookup([{"logits": z} for z in logits]), loader, CPU)
    assert res.metrics == {"accuracy": 0.75}
    assert res.matrix.tolist() == [[1, 0], [1, 2]]


def test_segmentation_miou_hand_worked():
    gt = torch.tensor([[0, 0], [1, 255]])  # 255 ignored
    pred = torch.tensor([[0, 1], [1, 0]])
    data = [(_img(0, (3, 2, 2)), {"masks": gt})]
    loader = torch.utils.data.DataLoader(data, batch_size=1, collate_fn=collate)
    res = Evaluator("segmentation", ["bg", "fg"], ignore_index=255).evaluate(Lookup([{"masks": pred}]), loader, CPU)
    # class 0: tp 1, gt 2, pred 1 -> IoU 1/2; class 1: tp 1, gt 1, pred 2 -> IoU 1/2
    assert res.metrics["mIoU"] == pytest.approx(0.5) and res.metrics["IoU/fg"] == pytest.approx(0.5)
    assert res.metrics["pixel_acc"] == pytest.approx(2 / 3)


def test_detection_maps_back_to_original_coordinates(tmp_path):
    """Predictions are made on a 64×64 letterbox of 100×50 images; the evaluator maps them back
    and scores them against the original boxes exactly as voc_evaluate does."""
    orig = [np.array([[10, 5, 40, 30], [50, 10, 90, 45]], np.float32), np.array([[0, 0, 20, 20]], np.float32)]
    labels = [np.array([1, 2]), np.array([2])]
    preds_orig = [
        {"boxes": np.array([[11, 5, 40, 31], [0, 0, 30, 30]], np.float32), "labels": np.array([1, 2]), "scores": np.array([0.9, 0.8])},
        {"boxes": np.array([[1, 0, 20, 19]], np.float32), "labels": np.array([2]), "scores": np.array([0.7])},
    ]
    data, canned = [], []
    for i in range(2):
        meta = make_meta(50, 100, plan_resize(50, 100, 64, "letterbox"))
        target = {"boxes": torch.from_numpy(boxes_to_input(orig[i], meta)), "labels": torch.as_tensor(labels[i]),
                  "meta": meta, "image_id": 7 + i, "path": f"img{i}.jpg", "orig_size": (50, 100)}
        data.append((_img(i, (3, 64, 64)), target))
        p = preds_orig[i]
        canned.append({"boxes": torch.from_numpy(boxes_to_input(p["boxes"], meta)), "labels": torch.as_tensor(p["labels"]),
                       "scores": torch.as_tensor(p["scores"])})
    loader = torch.utils.data.DataLoader(data, batch_size=2, collate_fn=collate)
    res = Evaluator("detection", ["cell", "dot"], EvalConfig(metric="voc07")).evaluate(Lookup(canned), loader, CPU)
    expected = voc_evaluate([{"boxes": b, "labels": lab} for b, lab in zip(orig, labels)], preds_orig, ["cell", "dot"])
    assert res.metrics["mAP"] == pytest.approx(expected["mAP"], abs=1e-6)
    assert res.metrics["AP/dot"] == pytest.approx(expected["per_class"]["dot"], abs=1e-6)
    np.testing.assert_allclose(res.predictions[0]["boxes"], preds_orig[0]["boxes"], atol=1e-3)
    n = save_predictions(res, tmp_path / "pred.json", cat_ids=[3, 9])
    rows = json.loads((tmp_path / "pred.json").read_text())
    assert n == 3 and rows[0]["image_id"] == 7 and rows[0]["category_id"] == 3 and rows[2]["file_name"] == "img1.jpg"
    assert rows[0]["bbox"] == pytest.approx([11, 5, 29, 26], abs=1e-3)  # xywh in the original image
    save_predictions(res, tmp_path / "by_label.json", cat_ids={2: 9, 1: 3})  # a COCO data set's {label: id}
    assert [r["category_id"] for r in json.loads((tmp_path / "by_label.json").read_text())] == [r["category_id"] for r in rows]
    coco = Evaluator("detection", ["cell", "dot"], EvalConfig(metric="coco")).evaluate(Lookup(canned), loader, CPU)
    assert {"AP", "AP50", "AR100"} <= set(coco.metrics) and 0 < coco.metrics["AP50"] <= 1


def test_detection_thresholds_come_from_eval_config():
    canned = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64), "scores": torch.zeros(0)}]
    loader = [(torch.stack([_img(0)]), [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}])]
    model = Lookup(canned)
    Evaluator("detection", ["a"]).evaluate(model, loader, CPU)
    Evaluator("detection", ["a"], EvalConfig(conf=0.2, nms_iou=0.6, max_det=7)).evaluate(model, loader, CPU)
    assert model.calls == [{"conf": 0.01, "iou": None, "max_det": None}, {"conf": 0.2, "iou": 0.6, "max_det": 7}]
    Evaluator("classification", ["a"]).evaluate(Lookup([{"logits": torch.zeros(1)}]), [(torch.stack([_img(0)]), [{"label": 0}])], CPU)


def test_eval_conf_nms_iou_and_max_det_change_a_detectors_scores():
    """A real (untrained) YOLOv1 scored under different ``eval`` thresholds."""
    import tests.helpers.tiny  # noqa: F401
    from tests.helpers.detection import four_images as _four_images
    from visionkit.registry import MODELS

    torch.manual_seed(0)
    model = MODELS.build("yolov1", num_classes=3, backbone="tiny_test", pretrained=False, grid=4, img_size=128, score_thresh=0.0)
    images, targets = _four_images()
    loader = [(images, targets)]

    def counts(**kw):
        res = Evaluator("detection", ["a", "b", "c"], EvalConfig(metric="voc07", **kw)).evaluate(model, loader, CPU)
        return [len(p["scores"]) for p in res.predictions]

    everything = counts(conf=0.0)
    assert min(everything) > 5
    assert counts() == [0, 0, 0, 0]  # eval.conf 0.01 is above every score of this untrained model
    assert counts(conf=0.0, max_det=5) == [5, 5, 5, 5]
    assert sum(counts(conf=0.0, nms_iou=0.95)) > sum(everything)
    assert model.thresholds.conf == 0.0 and counts(conf=0.0) == everything  # nothing stuck


def test_captioning_bleu():
    refs = [["a cat on a mat", "the cat sits on the mat"], ["a dog in the park", "dog runs in a park"]]
    data = [(_img(i), {"captions": r}) for i, r in enumerate(refs)]
    loader = torch.utils.data.DataLoader(data, batch_size=2, collate_fn=collate)
    res = Evaluator("captioning", []).evaluate(Lookup([{"captions": [r[0]]} for r in refs]), loader, CPU)
    assert res.metrics["bleu4"] == pytest.approx(1.0) and res.metrics["bleu1"] == pytest.approx(1.0)


def test_generation_fid_hook():
    from visionkit.metrics.fid import fid_from_features

    class Gen(nn.Module):
        def forward(self, images):
            return [{"images": im * 0.5} for im in images]

        def fid_features(self, images):
            return images.flatten(1)[:, :3]

    torch.manual_seed(0)
    images = torch.rand(8, 3, 2, 2)
    loader = torch.utils.data.DataLoader([(im, {"label": 0}) for im in images], batch_size=4, collate_fn=collate)
    res = Evaluator("generation", []).evaluate(Gen(), loader, CPU)
    expected = fid_from_features(images.flatten(1)[:, :3].numpy(), (images * 0.5).flatten(1)[:, :3].numpy())
    assert res.metrics["fid"] == pytest.approx(expected, rel=1e-6)
    assert Evaluator("generation", []).evaluate(nn.Identity(), loader, CPU).metrics == {}
