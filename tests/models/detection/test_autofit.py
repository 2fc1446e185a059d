"""Settings fitted to the training boxes (``models/detection/autofit.py``): YOLOv1's grid and
Faster R-CNN's anchors on small and large synthetic boxes; explicit values are kept."""

import numpy as np
import pytest

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from visionkit.config import build_config
from visionkit.data.stats import BoxStats
from visionkit.engine.build import build_model
from visionkit.models.detection.autofit import anchor_coverage, fit_anchors, fit_model, fit_yolo_grid, not_learning_hint


def stats(rel, n=20, size=448, label=1):
    side = rel * size
    return BoxStats(np.full((n, 2), side), np.full(n, label), np.ones(n, np.int64), (size, size))


def test_grid_follows_the_smallest_class():
    assert fit_yolo_grid(stats(0.06), 28)[0] == 28  # BCCD's Platelets at 448: 1/0.06 = 16.7 cells
    assert fit_yolo_grid(stats(0.3), 28)[0] == 7  # large cells
    assert fit_yolo_grid(stats(0.85), 28)[0] == 7  # frame-filling: the coarsest the head can make
    assert fit_yolo_grid(stats(0.85), 28, head="fc")[0] == 2
    assert fit_yolo_grid(None, 28)[0] == 28
    mixed = BoxStats(np.array([[20, 20]] * 6 + [[400, 400]] * 6, float), np.array([1] * 6 + [2] * 6), np.ones(12, np.int64), (448, 448))
    assert fit_yolo_grid(mixed, 28)[0] == 28


def test_anchors_kept_when_they_cover_the_boxes_else_derived():
    ratios = [[0.5, 1.0, 2.0]] * 3
    sizes, why = fit_anchors(stats(0.16, size=768), [16, 32, 64], ratios)
    assert sizes == [[32, 64], [64, 128], [128, 256]] and "cover 100%" in why
    big = BoxStats(np.array([[600 + i, 620 - i] for i in range(30)], float), np.ones(30, np.int64), np.ones(30, np.int64), (768, 768))
    sizes, why = fit_anchors(big, [16, 32, 64], ratios)
    assert anchor_coverage(big.wh, [[32, 64], [64, 128], [128, 256]], ratios) == 0.0
    assert all(600 <= a <= 620 for level in sizes for a in level) and anchor_coverage(big.wh, sizes, ratios) == 1.0
    assert "covered 0%" in why


def test_explicit_values_are_kept_and_auto_is_written_in():
    explicit = {"name": "yolov1", "backbone": "tiny_test", "grid": 4, "fpn_levels": ["c4", "c5"]}
    assert fit_model(explicit, stats(0.85, size=128), 128) == (explicit, [])
    auto, lines = fit_model({**explicit, "grid": "auto"}, stats(0.85, size=128), 128)
    assert auto["grid"] == 2 and lines and "grid 2" in lines[0]  # 128 px at stride 16: a map of 8, grids 8, 4, 2, 1
    frcnn = {"name": "faster_rcnn", "backbone": "tiny_test", "fpn": True, "fpn_levels": ["c4", "c5"], "anchor_sizes": "auto"}
    out, _ = fit_model(frcnn, stats(0.9, size=128), 128)
    assert len(out["anchor_sizes"]) == 3 and max(max(s) for s in out["anchor_sizes"]) > 100


def test_auto_without_data_builds_the_finest_grid_and_stride_anchors():
    cfg = build_config({"task": "detection", "model": {"name": "yolov1", "backbone": "tiny_test", "pretrained": False, "grid": "auto",
                                                       "fpn_levels": ["c4", "c5"], "neck_channels": 8, "hidden": 8},
                        "data": {"img_size": 128}})
    assert build_model(cfg, ["a"]).grid == 8
    cfg = build_config({"task": "detection", "model": {"name": "faster_rcnn", "backbone": "tiny_test", "pretrained": False, "fpn": True,
                                                       "fpn_levels": ["c4", "c5"], "neck_channels": 8, "head_hidden": 8,
                                                       "anchor_sizes": "auto"}, "data": {"img_size": 128}})
    assert build_model(cfg, ["a"]).rpn.anchor_generator.sizes == [(32, 64), (64, 128), (128, 256)]
    with pytest.raises(Exception, match="grid"):
        build_model(build_config({"task": "detection", "model": {"name": "yolov1", "backbone": "tiny_test", "grid": "seven"}}), ["a"])


def test_not_learning_hint_names_the_grid_for_large_objects():
    hint = not_learning_hint({"name": "yolov1", "grid": 28}, stats(0.8))
    assert "objects are ~0.80 of the image but the grid is 28" in hint and "model.grid=auto" in hint
    assert "model.grid" not in not_learning_hint({"name": "yolov1", "grid": 28}, stats(0.06))
    assert "anchor_sizes=auto" in not_learning_hint({"name": "faster_rcnn", "anchor_sizes": [[16, 32]]}, stats(0.9, size=768))
