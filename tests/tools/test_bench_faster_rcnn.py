"""tools/bench_faster_rcnn.py at a small size: torchvision gets our RPN/RoI counts, and both
ratios are printed."""

import importlib.util
import re
from pathlib import Path

spec = importlib.util.spec_from_file_location("bench_faster_rcnn", Path(__file__).parents[2] / "tools" / "bench_faster_rcnn.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_torchvision_is_given_our_rpn_and_roi_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONKIT_DATA", str(tmp_path))  # the config's data root is not opened
    cfg = bench.config(192)
    m = cfg.model
    tv = bench.torchvision_tutorial(cfg, 3)
    assert tv.roi_heads.fg_bg_sampler.batch_size_per_image == m["roi_batch_size"]
    assert [tv.rpn._pre_nms_top_n["training"], tv.rpn._pre_nms_top_n["testing"]] == list(m["rpn_pre_nms_top_n"])
    assert [tv.rpn._post_nms_top_n["training"], tv.rpn._post_nms_top_n["testing"]] == list(m["rpn_post_nms_top_n"])
    assert tv.transform.min_size == (192,) and tv.transform.max_size == 192  # no resizing inside torchvision


def test_prints_both_models_and_the_ratios(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VISIONKIT_DATA", str(tmp_path))
    assert bench.main(["--size", "192", "--repeats", "1", "--train-batch", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("visionkit", "torchvision"):
        row = re.search(rf"^{name}\s+inference\s+([\d.]+) ms/image\s+training\s+([\d.]+) images/s", out, re.M)
        assert row and float(row.group(1)) > 0 and float(row.group(2)) > 0
    ratios = re.findall(r"ratio \(ours/torchvision\): ([\d.]+)", out)
    assert len(ratios) == 2 and all(float(r) > 0 for r in ratios)
