"""Presets (visionkit.cli.presets): every shipped config is one, found through the package
(visionkit/configs links to configs/, and the wheel's package data holds them), and a preset's
recipe carries no data set."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from visionkit.cli.presets import DATA_SET_KEYS, PRESET_DIR, find_preset, preset_recipe, presets, presets_of
from visionkit.config import read_config
from visionkit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_presets_are_the_repository_configs_shipped_as_package_data():
    assert PRESET_DIR.resolve() == (ROOT / "configs").resolve()
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["visionkit"]
    for path in (ROOT / "configs").rglob("*.yaml"):
        rel = "configs/" + path.relative_to(ROOT / "configs").as_posix()
        assert any(fnmatch(rel, g) and rel.count("/") == g.count("/") for g in globs), rel


def test_each_model_has_its_default_preset_first():
    assert presets()["yolov1_paper_bccd"] == "yolov1"
    assert presets_of("yolov1") == ["yolov1_bccd", "yolov1_paper_bccd"]
    assert presets_of("faster_rcnn")[0] == "faster_rcnn_bccd"
    assert find_preset("yolov1").name == "yolov1_bccd.yaml"
    assert find_preset("yolov1_paper_bccd").name == "yolov1_paper_bccd.yaml"
    assert find_preset("fcn").name == "fcn8s_camvid.yaml"
    with pytest.raises(ConfigError, match="unknown model 'yolo1'; did you mean 'yolov1'"):
        find_preset("yolo1")


def test_a_recipe_keeps_the_model_and_training_but_not_the_data_set():
    r = preset_recipe("faster_rcnn")
    assert r["model"]["name"] == "faster_rcnn" and r["train"]["optimizer"] == "sgd"
    full = read_config(ROOT / "configs" / "faster_rcnn_bccd.yaml")
    assert full["data"]["format"] == "voc" and "root" in full["data"]
    assert r["data"] == {k: v for k, v in full["data"].items() if k not in DATA_SET_KEYS}
    assert {"img_size", "batch_size", "augment"} <= set(r["data"]) and not set(r["data"]) & {"format", "root", "classes"}
