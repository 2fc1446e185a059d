"""tools/make_heldout_sets.py writes the annotation-tool layout that train --data recognises."""

from __future__ import annotations

import pytest

from tests.helpers.tools import load_tool
from visionkit.data.layout import detect_layout

pytestmark = pytest.mark.data


def test_builds_one_class_sets_without_splits(data_dir, tmp_path):
    counts = load_tool("make_heldout_sets").build(data_dir, tmp_path)
    assert counts["wbc"] == 358 and 50 <= counts["person"] <= 128
    for name in ("wbc", "person"):
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["annotations", "images"]
        assert len(list((tmp_path / name / "annotations").glob("*.xml"))) == counts[name]
    text = next((tmp_path / "wbc" / "annotations").glob("*.xml")).read_text()
    assert "<name>WBC</name>" in text and "RBC" not in text
    layout = detect_layout(tmp_path / "wbc")
    assert layout.format == "voc" and "annotations" in layout.description
