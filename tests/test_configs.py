"""Every shipped config parses against the schema and builds its model; with the real data
sets present, it also builds its training set."""

from pathlib import Path

import pytest

from visionkit.config import load_config
from visionkit.engine.build import build_model
from visionkit.registry import model_task

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


def test_there_are_configs():
    assert len(CONFIGS) >= 8


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_builds_its_model(path):
    cfg = load_config(path, ["model.pretrained=false"] if "pretrained" in load_config(path).model else [])
    classes = cfg.data.classes or [f"c{i}" for i in range(80)]
    if cfg.model["name"] == "show_tell":
        classes = ["<pad>", "<start>", "<end>", "<unk>", "a", "cat"]
    import torch

    with torch.device("meta"):
        model = build_model(cfg, classes)
    assert getattr(model, "task", "") == model_task(cfg) != ""


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_reads_its_data(path, data_dir, monkeypatch):
    from visionkit.data import build_dataset

    monkeypatch.setenv("VISIONKIT_DATA", str(data_dir))
    cfg = load_config(path)
    ds = build_dataset(cfg.data, cfg.data.train, train=True)
    assert len(ds) > 0 and ds.task == model_task(cfg)
