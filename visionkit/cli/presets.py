"""Presets: the shipped configs as recipes for ``visionkit train --data DIR --model NAME``.

The configs live in the repository's ``configs/``; ``visionkit/configs`` is a link to it, so
the package data of a wheel holds them too (``pyproject.toml``) and presets are found however
visionkit is installed. ``--model NAME`` takes a model name (its default preset below, else
its only config) or a preset name (a config's file stem, e.g. ``yolov1_paper_bccd``).
"""

from __future__ import annotations

from pathlib import Path

from ..config import read_config
from ..errors import ConfigError, unknown

PRESET_DIR = Path(__file__).resolve().parent.parent / "configs"
# model name -> its default preset where a model has several configs
DEFAULT = {"yolov1": "yolov1_bccd", "faster_rcnn": "faster_rcnn_bccd", "fast_rcnn": "fast_rcnn_bccd",
           "rcnn": "rcnn_bccd", "dcgan": "dcgan_fashion_mnist"}
# data keys that describe the data set, replaced by what the folder says; the rest (input size,
# batch, augmentation, proposals) is the recipe's
DATA_SET_KEYS = ("format", "root", "train", "val", "test", "classes", "options", "ignore_index", "split_files")


def presets() -> dict[str, str]:
    """``{preset name: model name}`` of every shipped config."""
    out = {}
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        out[path.stem] = (read_config(path).get("model") or {}).get("name", "")
    return out


def presets_of(model: str) -> list[str]:
    """The presets of ``model``, its default first."""
    names = [p for p, m in presets().items() if m == model]
    return sorted(names, key=lambda p: (p != DEFAULT.get(model), p))


def find_preset(name: str) -> Path:
    """The config file of the preset ``name`` (a preset or model name)."""
    every = presets()
    if name in every:
        return PRESET_DIR / f"{name}.yaml"
    mine = presets_of(name)
    if not mine:
        raise ConfigError(unknown("model", name, sorted({*every, *every.values()})) +
                          " (visionkit models lists the presets)")
    return PRESET_DIR / f"{mine[0]}.yaml"


def preset_recipe(name: str) -> dict:
    """The preset's config dict (bases merged) without its data set: the model, training and
    evaluation recipe, and the data keys that are the recipe's (img_size, batch, augmentation)."""
    path = find_preset(name)
    data = read_config(path)
    data["data"] = {k: v for k, v in (data.get("data") or {}).items() if k not in DATA_SET_KEYS}
    return data
