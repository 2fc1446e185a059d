"""The detection recipes fit the data and say what to use: the yolov1 preset's automatic grid
on frame-filling objects (a 4-image overfit, seconds on CPU), the not-learning warning, the
operating point stored in the checkpoint and used by the API and `visionkit detect`, the
best.pt rule, F1_conf only with detections, and no constant loss term with one class."""

import json

import pytest
import torch
import yaml

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.engine.recipe_data import frame_filling_voc
from visionkit.config import load_config
from visionkit.engine.best import BestTracker, standard_error
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.trainer import train

PRESET = "configs/yolov1_bccd.yaml"


def recipe(root, out, name, *extra):
    """The yolov1 preset on the frame-filling set, with a tiny backbone at 128 px."""
    return load_config(PRESET, [
        f"data.root={root}", "data.train=train", "data.val=train", "data.test=train", "data.classes=[blob]",
        "data.img_size=128", "data.batch_size=4", "data.workers=0", "data.augment={}",
        "model.backbone=tiny_test", "model.pretrained=false", "model.frozen_stages=0", "model.neck_channels=16", "model.hidden=16",
        "train.lr=0.01", "train.warmup_steps=0", "train.eval_every=10", "train.device=cpu", "train.plots=false",
        f"out_dir={out}", f"name={name}", *extra])


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recipe")
    root = frame_filling_voc(tmp / "voc")
    torch.manual_seed(0)
    cfg = recipe(root, tmp / "runs", "auto", "train.epochs=30")
    assert cfg.model["grid"] == "auto"  # the preset's own value
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        out = train(cfg)
    return out, err.getvalue(), tmp / "runs" / "auto", root


def test_preset_fits_the_grid_to_frame_filling_objects_and_finds_them(auto_run):
    out, err, run, _ = auto_run
    assert "model: yolov1 grid 2:" in err  # 128 px at stride 16: a map of 8; the objects are ~0.8 of it
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["grid"] == 2
    assert load_checkpoint(run / "last.pt")["config"]["model"]["grid"] == 2  # the checkpoint rebuilds the same model
    assert out["metrics"]["mAP"] >= 0.75
    assert "not learning" not in err


def test_a_grid_too_fine_for_the_objects_is_named_in_a_warning(auto_run, tmp_path, capsys):
    *_, root = auto_run
    torch.manual_seed(0)
    out = train(recipe(root, tmp_path, "fine", "model.grid=8", "train.epochs=20"))
    err = capsys.readouterr().err
    assert out["metrics"]["mAP"] == 0.0  # one cell in 64 holds the centre of an object covering ~40 cells: nothing learnt
    assert err.count("warning: the model is not learning") == 1
    assert "of the image but the grid is 8 (cells of 0.12)" in err and "model.grid=auto (here 2)" in err
    assert yaml.safe_load((tmp_path / "fine" / "config.yaml").read_text())["model"]["grid"] == 8  # explicit: kept


def test_operating_point_is_stored_and_used_by_the_api_and_detect(auto_run, tmp_path, capsys):
    from visionkit.api import load_model
    from visionkit.cli import main

    out, _, run, root = auto_run
    last, best = load_checkpoint(run / "last.pt"), load_checkpoint(run / "best.pt")
    assert last["conf"] == out["metrics"]["F1_conf"] and 0 < last["conf"] < 1
    assert best["conf"] == best["metrics"]["F1_conf"]
    predictor = load_model(run / "last.pt")
    assert predictor.conf == last["conf"]
    images = sorted((root / "JPEGImages").glob("*.jpg"))
    results = predictor.predict([str(p) for p in images])
    assert all(float(r.scores.min()) >= last["conf"] for r in results if len(r.scores))
    assert main(["detect", str(root / "JPEGImages"), "-w", str(run / "last.pt"), "--out", str(tmp_path / "d"), "-q"]) == 0
    scores = [p["score"] for p in json.loads((tmp_path / "d" / "predictions.json").read_text())]
    assert scores and min(scores) >= last["conf"]
    assert main(["detect", str(root / "JPEGImages"), "-w", str(run / "last.pt"), "--out", str(tmp_path / "e"), "-q", "--conf", "0.001"]) == 0
    assert len(json.loads((tmp_path / "e" / "predictions.json").read_text())) > len(scores)


def test_one_class_logs_no_constant_class_loss(auto_run):
    _, _, run, _ = auto_run
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"loss", "loss_coord", "loss_obj", "loss_noobj"} <= set(header) and "loss_cls" not in header


def test_yolov1_leaves_out_the_class_loss_only_when_it_is_constant():
    from visionkit.registry import MODELS

    images = torch.rand(1, 3, 64, 64)
    targets = [{"boxes": torch.tensor([[4.0, 4.0, 60.0, 60.0]]), "labels": torch.tensor([1])}]
    for classes, activation, has in ((1, "sigmoid", False), (2, "sigmoid", True), (1, "linear", True)):
        net = MODELS.build("yolov1", num_classes=classes, backbone="tiny_test", pretrained=False, grid=2, img_size=64,
                           hidden=8, activation=activation).train()
        assert ("loss_cls" in net(images, targets)) is has


def test_best_pt_follows_the_later_weights_within_one_standard_error():
    # the case: a lucky evaluation on 20 images, then the model keeps improving on test
    small = BestTracker("mAP", "max", 20)
    assert [small.update(v, e) for e, v in enumerate([0.50, 0.70, 0.65, 0.66], 1)] == [True, True, True, True]
    assert small.advice(4)[0] == "last.pt" and small.value == 0.66 and small.peak == 0.70
    large = BestTracker("mAP", "max", 2000)  # the same numbers on 2000 images are real differences
    assert [large.update(v, e) for e, v in enumerate([0.50, 0.70, 0.65, 0.66], 1)] == [True, True, False, False]
    file, why = large.advice(4)
    assert file == "best.pt" and "epoch 2" in why
    fid = BestTracker("fid", "min", 20)  # not a proportion: the plain best
    assert [fid.update(v, e) for e, v in enumerate([30.0, 20.0, 21.0], 1)] == [True, True, False]
    assert standard_error(0.6, 20) == pytest.approx(0.1006, abs=1e-3) and standard_error(1.0, 4) > 0.1


def test_end_of_run_says_which_weights_to_use(auto_run):
    out, err, run, _ = auto_run
    assert out["weights"] in (str(run / "last.pt"), str(run / "best.pt"))
    assert f"use {out['weights']}:" in err


def test_f1_conf_only_when_something_is_detected():
    from visionkit.config import EvalConfig
    from visionkit.engine.evaluator import Evaluator

    class Blind(torch.nn.Module):
        def forward(self, images, **_):
            return [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long), "scores": torch.zeros(0)} for _ in images]

    batch = (torch.rand(2, 3, 32, 32), [{"boxes": torch.tensor([[1.0, 1.0, 30.0, 30.0]]), "labels": torch.tensor([1])}] * 2)
    res = Evaluator("detection", ["blob"], EvalConfig()).evaluate(Blind(), [batch], torch.device("cpu"))
    assert res.metrics["mAP"] == 0.0 and res.metrics["F1"] == 0.0 and "F1_conf" not in res.metrics


def test_a_checkpoint_evaluates_under_its_preset_config_with_the_fitted_grid(auto_run):
    from visionkit.engine.evaluator import evaluate_checkpoint

    out, _, run, root = auto_run
    cfg = recipe(root, run.parent, "auto", "quiet=true")  # grid: auto, as the preset says; training fitted 2
    res, _ = evaluate_checkpoint(cfg, run / "last.pt", "val")
    assert res.metrics["mAP"] == pytest.approx(out["metrics"]["mAP"])
