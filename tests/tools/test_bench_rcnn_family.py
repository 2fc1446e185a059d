"""tools/bench_rcnn_family.py end to end on one small image: the three tables and the speed-ups."""

import importlib.util
import re
from pathlib import Path

from tests.data.fixtures import rect_image, write_image

spec = importlib.util.spec_from_file_location("bench_rcnn_family", Path(__file__).parents[2] / "tools" / "bench_rcnn_family.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_given_proposals_replace_the_search_for_timing():
    import torch

    boxes = torch.arange(40.0).view(10, 4)
    given = bench.GivenProposals(boxes, 3)
    out = given(torch.zeros(2, 3, 8, 8), [(8, 8), (8, 8)], False)
    assert len(out) == 2 and torch.equal(out[0], boxes[:3])


def test_prints_every_model_size_and_proposal_count(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).parents[2])  # the configs are read from configs/
    monkeypatch.setenv("VISIONKIT_DATA", str(tmp_path))  # the configs' data roots are not opened
    image = write_image(tmp_path / "cells.jpg", rect_image(96, 128, [[10, 10, 50, 40], [70, 50, 110, 90]]))
    assert bench.main(["--image", str(image), "--size", "96", "--max-proposals", "20", "--sizes", "96,128", "--proposals", "5,20", "--repeats", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("rcnn", "fast_rcnn", "faster_rcnn"):
        assert len(re.findall(rf"^{name} ", out, re.M)) == 3  # one row in each table
    assert re.search(r"R-CNN -> Fast R-CNN: [\d.]+x .* Fast -> Faster R-CNN: [\d.]+x", out)
