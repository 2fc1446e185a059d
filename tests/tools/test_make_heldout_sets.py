"""tools/make_heldout_sets.py writes the annotation-tool layout that train --data recognises."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from visionkit.data.layout import detect_layout

pytestmark = pytest.mark.data


def _tool():
    path = Path(__file__).resolve().parents[2] / "tools" / "make_heldout_sets.py"
    spec = importlib.util.spec_from_file_location("make_heldout_sets", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_builds_one_class_sets_without_splits(data_dir, tmp_path):
    counts = _tool().build(data_dir, tmp_path)
    assert counts["wbc"] == 358 and 50 <= counts["person"] <= 128
    for name in ("wbc", "person"):
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["annotations", "images"]
        assert len(list((tmp_path / name / "annotations").glob("*.xml"))) == counts[name]
    text = next((tmp_path / "wbc" / "annotations").glob("*.xml")).read_text()
    assert "<name>WBC</name>" in text and "RBC" not in text
    layout = detect_layout(tmp_path / "wbc")
    assert layout.format == "voc" and "annotations" in layout.description
