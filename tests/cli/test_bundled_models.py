"""`visionkit models` says what the bundled models are: task, domain, data, classes, metric, size."""

import json
import warnings
from pathlib import Path

import pytest

from visionkit.api import ASSETS, BUILTIN
from visionkit.cli import main
from visionkit.engine.checkpoint import load_checkpoint


def test_bundled_models_head_the_table_without_warnings(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["models"]) == 0
    assert [str(w.message) for w in caught] == []
    out = capsys.readouterr()
    assert out.err == ""
    lines = out.out.splitlines()
    assert lines[0].startswith("bundled models")
    det = next(line for line in lines if line.startswith("default-detector "))
    seg = next(line for line in lines if line.startswith("default-segmenter "))
    for text in ("detection", "blood-smear", "BCCD", "3: RBC, WBC, Platelets", "mAP@0.5 0.860", "5.9 MB"):
        assert text in det
    for text in ("segmentation", "road scenes", "CamVid", "11: Sky,", "mIoU 0.613", "17.0 MB"):
        assert text in seg
    assert lines.index(seg) < next(i for i, line in enumerate(lines) if line.startswith("resnet50 "))


def test_bundled_models_json_and_task_filter(capsys):
    assert main(["models", "--task", "bundled", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["default-detector", "default-segmenter"]
    det = rows[0]
    assert det["kind"] == "bundled" and det["classes"] == ["RBC", "WBC", "Platelets"] and det["data"] == "BCCD"
    assert det["size_mb"] == round((ASSETS / "default_detector.pt").stat().st_size / 1e6, 1)
    assert main(["models", "--task", "segmentation", "--json"]) == 0
    names = [r["name"] for r in json.loads(capsys.readouterr().out)]
    assert "default-segmenter" in names and "default-detector" not in names and "smp_unet" in names


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_bundled_facts_match_the_shipped_file(name):
    """The classes listed are the ones the packed checkpoint holds, and its config exists."""
    b = BUILTIN[name]
    ckpt = load_checkpoint(ASSETS / b.file)
    assert tuple(ckpt["classes"]) == b.classes
    assert ckpt["task"] == b.task
    root = Path(__file__).parents[2]
    assert (root / b.config).is_file() and (root / b.card).is_file()
