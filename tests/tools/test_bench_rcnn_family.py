"""tools/bench_rcnn_family.py end to end on one small image: the three tables (one row per model,
one column per size and proposal count, totals that add up) and the speed-ups recomputed from them."""

import re
from pathlib import Path

from tests.data.fixtures import rect_image, write_image
from tests.helpers.numbers import ratio_within_rounding, within_rounding
from tests.helpers.tools import load_tool

bench = load_tool("bench_rcnn_family")


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
    table1 = {m.group(1): [float(v) for v in m.groups()[1:]] for m in re.finditer(
        r"^(rcnn|fast_rcnn|faster_rcnn)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)}
    assert set(table1) == {"rcnn", "fast_rcnn", "faster_rcnn"}
    for name, (proposals, search, network, total) in table1.items():
        assert proposals == 20, name  # every config's count, capped by --max-proposals
        assert within_rounding(total, search + network, 0.021)  # three numbers rounded to 0.01, 0.01, 0.001
    assert table1["faster_rcnn"][1] == 0 and table1["rcnn"][1] == table1["fast_rcnn"][1] > 0  # one search, timed once
    speedups = re.search(r"R-CNN -> Fast R-CNN: ([\d.]+)x .* Fast -> Faster R-CNN: ([\d.]+)x", out)
    assert ratio_within_rounding(float(speedups.group(1)), table1["rcnn"][2], table1["fast_rcnn"][2], 0.001, 0.001, 0.1)
    assert ratio_within_rounding(float(speedups.group(2)), table1["fast_rcnn"][3], table1["faster_rcnn"][3], 0.01, 0.01, 0.1)
    for columns, header in ((["96", "128"], "2. Network time"), (["5", "20"], "3. Network time")):
        lines = out[out.index(header):].splitlines()[1:5]
        assert lines[0].split() == ["model", *columns]
        for line, name in zip(lines[1:], ("rcnn", "fast_rcnn", "faster_rcnn")):
            cells = line.split()
            assert cells[0] == name and len(cells) == 3 and all(float(c) >= 0 for c in cells[1:])
