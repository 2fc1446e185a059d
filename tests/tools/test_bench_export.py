"""tools/bench_export.py on a tiny detector and segmenter: every runtime timed, outputs equal to PyTorch's."""

import json

import pytest

from tests.helpers.numbers import within_rounding
from tests.helpers.tiny import tiny_checkpoint
from tests.helpers.tools import load_tool

bench_export = load_tool("bench_export")


@pytest.mark.parametrize("task", ["detection", "segmentation"])
def test_every_runtime_is_timed_and_agrees_with_pytorch(task, tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "m.pt", task=task)
    out = tmp_path / "bench.json"
    assert bench_export.main(["--weights", str(ckpt), "--repeats", "2", "--threads", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["task"] == task and result["input"] == [1, 3, 128, 128]
    rows = result["rows"]
    assert list(rows) == ["pytorch", "pytorch channels-last", "torchscript", "onnxruntime"]
    assert rows["pytorch"]["speed_vs_pytorch"] == 1.0 and rows["pytorch"]["max_diff"] == 0.0
    for name, row in rows.items():
        assert row["ms"] > 0 and row["images_s"] == pytest.approx(1000 / row["ms"])
        assert row["speed_vs_pytorch"] == pytest.approx(rows["pytorch"]["ms"] / row["ms"])
        assert row["max_diff"] < 1e-4, name  # the same boxes / logits in every runtime
    printed = capsys.readouterr().out
    assert "vs pytorch" in printed
    for name, row in rows.items():  # the printed table is the JSON's, rounded
        line = next(line for line in printed.splitlines() if line.startswith(f"{name} ") and line[len(name):].lstrip()[0].isdigit())
        ms, ips, speed, diff = line[len(name):].split()
        assert within_rounding(float(ms), row["ms"], 0.1) and within_rounding(float(ips), row["images_s"], 0.01)
        assert within_rounding(float(speed.rstrip("x")), row["speed_vs_pytorch"], 0.01)
        assert float(diff) == pytest.approx(row["max_diff"], rel=0.01, abs=1e-12)


def test_unknown_format_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as e:
        bench_export.main(["--weights", str(tmp_path / "m.pt"), "--formats", "tflite"])
    assert e.value.code == 2
