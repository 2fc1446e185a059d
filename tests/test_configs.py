"""Every shipped config parses against the schema, resolves to the pinned dict, and builds its
model; with the real data sets present, it also builds its training set."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from visionkit.config import build_config, load_config, to_dict
from visionkit.engine.build import build_model
from visionkit.registry import model_task

ROOT = Path(__file__).parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
# Each config's resolved dict (VISIONKIT_DATA unset) as the configs resolved before they were
# de-duplicated with base: files; read through migrate() (no task key, img_size under data only).
GOLDEN = json.loads((Path(__file__).parent / "golden" / "configs_resolved.json").read_text())


def test_there_are_configs():
    assert len(CONFIGS) >= 8


def test_every_config_is_pinned():
    assert sorted(GOLDEN) == [p.name for p in CONFIGS]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_resolves_to_its_pinned_dict(path, monkeypatch):
    monkeypatch.delenv("VISIONKIT_DATA", raising=False)
    resolved = to_dict(load_config(path))
    assert resolved == to_dict(build_config(GOLDEN[path.name]))
    assert resolved["data"]["root"].startswith("data/") and "base" not in resolved and "img_size" not in resolved["model"]


def test_a_config_loads_by_path_from_any_directory(tmp_path):
    code = "from visionkit.config import load_config; print(load_config('%s').data.classes)" % (ROOT / "configs" / "rcnn_bccd.yaml")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "['RBC', 'WBC', 'Platelets']"


def test_the_bccd_data_block_exists_once():
    files = [p for p in (ROOT / "configs").rglob("*.yaml") if "${VISIONKIT_DATA}/bccd" in p.read_text()]
    assert [p.relative_to(ROOT).as_posix() for p in files] == ["configs/data/bccd.yaml"]


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
