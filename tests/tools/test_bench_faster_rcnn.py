"""tools/bench_faster_rcnn.py at a small size: torchvision gets our RPN/RoI counts, and both
ratios printed are the printed times' ratios."""

import re

import pytest

from tests.helpers.numbers import ratio_within_rounding, within_rounding
from tests.helpers.tools import load_tool

bench = load_tool("bench_faster_rcnn")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tool's config at 192 px and its torchvision model, built once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VISIONKIT_DATA", str(tmp_path_factory.mktemp("data")))  # the config's data root is not opened
        cfg = bench.config(192)
        return cfg, bench.torchvision_tutorial(cfg, 3)


def test_torchvision_is_given_our_rpn_and_roi_counts(built):
    cfg, tv = built
    m = cfg.model
    assert tv.roi_heads.fg_bg_sampler.batch_size_per_image == m["roi_batch_size"]
    assert [tv.rpn._pre_nms_top_n["training"], tv.rpn._pre_nms_top_n["testing"]] == list(m["rpn_pre_nms_top_n"])
    assert [tv.rpn._post_nms_top_n["training"], tv.rpn._post_nms_top_n["testing"]] == list(m["rpn_post_nms_top_n"])
    assert tv.transform.min_size == (192,) and tv.transform.max_size == 192  # no resizing inside torchvision


def test_prints_both_models_and_the_ratios(built, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VISIONKIT_DATA", str(tmp_path))
    assert bench.main(["--size", "192", "--repeats", "1", "--train-batch", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    rows = {}
    for name in ("visionkit", "torchvision"):
        row = re.search(rf"^{name}\s+inference\s+([\d.]+) ms/image\s+training\s+([\d.]+) images/s\s+params ([\d.]+)M", out, re.M)
        assert row, name
        rows[name] = [float(v) for v in row.groups()]
    latency = float(re.search(r"latency ratio \(ours/torchvision\): ([\d.]+)", out).group(1))
    throughput = float(re.search(r"training throughput ratio \(ours/torchvision\): ([\d.]+)", out).group(1))
    (ms_ours, ips_ours, _), (ms_tv, ips_tv, m_tv) = rows["visionkit"], rows["torchvision"]
    assert within_rounding(m_tv, sum(p.numel() for p in built[1].parameters()) / 1e6, 0.01)
    assert ratio_within_rounding(latency, ms_ours, ms_tv, 0.1, 0.1, 0.01)
    assert ratio_within_rounding(throughput, ips_ours, ips_tv, 0.01, 0.01, 0.01)
    assert 0.05 < latency < 20 and 0.05 < throughput < 20  # same-size detectors on the same machine
