"""An exported model's metadata comes from the file, so from anyone: malformed or out-of-range
values are one WeightsError line before any of them sizes an allocation."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from visionkit.cli import main
from visionkit.errors import WeightsError
from visionkit.exported import TORCHSCRIPT_META, check_meta, load_exported_model

GOOD = {"config": {"name": "x", "model": {"name": "yolov1"}, "data": {"img_size": 64}}, "task": "detection",
        "classes": ["a", "b"], "img_size": [64, 64], "score_thresh": 0.01, "nms_thresh": 0.5, "max_det": 100,
        "conf": None, "cat_ids": None}


def _torchscript(path, meta: dict) -> None:
    scripted = torch.jit.script(torch.nn.Conv2d(3, 1, 1))
    torch.jit.save(scripted, str(path), _extra_files={TORCHSCRIPT_META: json.dumps(meta)})


@pytest.mark.parametrize("key, value, message", [
    ("img_size", [20000, 20000], "'img_size' [20000, 20000] is not a size"),
    ("img_size", "big", "'img_size'"),
    ("classes", "abc", "'classes' is not a list of names"),
    ("score_thresh", "0.5", "'score_thresh'"),
    ("nms_thresh", 7, "'nms_thresh' 7"),
    ("max_det", -1, "'max_det' -1"),
    ("config", [1, 2], "'config' is not a mapping"),
])
def test_bad_values_are_refused_before_use(tmp_path, capsys, key, value, message):
    path = tmp_path / "m.torchscript.pt"
    _torchscript(path, {**GOOD, key: value})
    with pytest.raises(WeightsError) as e:
        load_exported_model(path)
    assert message in str(e.value)
    img = tmp_path / "a.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(img), np.zeros((8, 8, 3), np.uint8))
    assert main(["detect", str(img), "--weights", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message.split()[0] in err and err.count("\n") == 1


def test_metadata_that_is_not_json(tmp_path):
    path = tmp_path / "m.torchscript.pt"
    scripted = torch.jit.script(torch.nn.Conv2d(3, 1, 1))
    torch.jit.save(scripted, str(path), _extra_files={TORCHSCRIPT_META: "{not json"})
    with pytest.raises(WeightsError, match="metadata is not JSON"):
        load_exported_model(path)


values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(), st.text(max_size=8),
                   st.lists(st.integers(-10, 10**6), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(sorted(GOOD)), value=values)
def test_any_value_is_accepted_or_refused_with_a_weights_error(key, value):
    meta = {**GOOD, key: value}
    try:
        check_meta(meta, "m.onnx")
    except WeightsError as e:
        assert "m.onnx: bad visionkit metadata" in str(e)
        return
    sides = meta["img_size"] if isinstance(meta["img_size"], list) else [meta["img_size"]]
    assert all(v is None or 1 <= v <= 8192 for v in sides)
