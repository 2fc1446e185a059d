"""tools/precompute_proposals.py on a tiny VOC set: the cache is filled and recall is printed."""

import re
from pathlib import Path

import pytest

from tests.data.fixtures import make_voc
from tests.helpers.tools import TOOLS, load_tool

tool = load_tool("precompute_proposals")

CONFIG = str(Path(__file__).parents[2] / "configs" / "fast_rcnn_bccd.yaml")


def test_fills_the_cache_for_training_and_evaluation_images(tmp_path, capsys, monkeypatch):
    make_voc(tmp_path / "voc", splits={"train": ["img 001", "img_002"], "test": ["ünï_004"]})
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(TOOLS))  # spawned workers import the tool by module name
    overrides = [f"data.root={tmp_path / 'voc'}", "data.train=train", "data.val=test", "data.test=test",
                 "data.classes=[cat,dog,bird]", "data.img_size=128", "model.pretrained=false"]
    assert tool.main(["--workers", "1", CONFIG, *overrides]) == 0
    out = capsys.readouterr().out
    rows = {m.group(1): m for m in re.finditer(r"^(\w+)\s+(\d+) images .* recall@0\.5 ([\d.]+)\s+recall@0\.7 ([\d.]+)", out, re.M)}
    assert set(rows) == {"train", "test"} and rows["train"].group(2) == "2" and rows["test"].group(2) == "1"
    assert float(rows["train"].group(3)) == 1.0  # solid rectangles on noise: every box is found
    assert "per class: cat" in out
    assert len(list((tmp_path / "cache" / "proposals").glob("*.npy"))) == 3  # 2 originals + 1 letterboxed


def test_refuses_a_config_without_proposals(tmp_path):
    from visionkit.errors import UserError

    with pytest.raises(UserError, match="data.proposals is empty"):
        tool.main([str(Path(__file__).parents[2] / "configs" / "faster_rcnn_bccd.yaml")])
