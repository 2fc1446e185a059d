"""tools/gpu_check.py: its CPU quick mode on a subset (the machine, the tiny data, LeNet-5's
training matrix) writes the summary with the right structure and states; a failing, a hanging and
an over-budget step are recorded and the run goes on."""

import json
import sys
from pathlib import Path

import pytest

from tests.helpers.tools import load_tool

gpu_check = load_tool("gpu_check")


@pytest.mark.slow
def test_quick_cpu_subset_writes_the_summary(tmp_path, capsys):
    out = tmp_path / "out"
    rc = gpu_check.main(["--device", "cpu", "--quick", "--only", "machine", "data", "train:lenet5*",
                         "--out", str(out), "--work", str(tmp_path / "work")])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["device"] == "cpu" and s["quick"] is True and s["bench"] == []
    assert s["machine"]["torch"] and s["machine"]["cuda_available"] in (True, False)
    steps = {r["name"]: r for r in s["steps"]}
    assert list(steps) == ["machine", "data", "train:lenet5_fashion_mnist:off",
                           "train:lenet5_fashion_mnist:fp16", "train:lenet5_fashion_mnist:bf16"]
    for name in ("machine", "data", "train:lenet5_fashion_mnist:off"):
        assert steps[name]["status"] == "PASS", steps[name]
        assert 0 < steps[name]["seconds"] <= steps[name]["timeout"] and steps[name]["error"] == ""
    assert steps["train:lenet5_fashion_mnist:off"]["note"].startswith("accuracy ")  # the trainer's val evaluation
    assert steps["train:lenet5_fashion_mnist:fp16"]["status"] == "SKIP"
    assert "needs CUDA" in steps["train:lenet5_fashion_mnist:fp16"]["note"]
    bf16 = steps["train:lenet5_fashion_mnist:bf16"]["status"]
    assert bf16 == ("PASS" if s["machine"]["cpu_native_bf16"] else "SKIP")
    assert (tmp_path / "work" / "runs" / "lenet5_fashion_mnist_off" / "last.pt").is_file()
    assert s["counts"] == {"PASS": 3 + (bf16 == "PASS"), "FAIL": 0, "SKIP": 1 + (bf16 == "SKIP")}
    md = (out / "summary.md").read_text()
    assert "| step | status | s | limit s | error / note |" in md and "| train:lenet5_fashion_mnist:fp16 | SKIP |" in md
    assert f"torch {s['machine']['torch']}" in md and md in capsys.readouterr().out
    assert "===== train:lenet5_fashion_mnist:off: PASS" in (out / "logs.txt").read_text()


def _check(tmp_path, budget=60.0):
    args = gpu_check.parse_args(["--device", "cpu", "--budget", str(budget), "--work", str(tmp_path)])
    return gpu_check.Check(args)


def test_failures_are_recorded_with_their_error_line(tmp_path):
    check = _check(tmp_path)
    Step = gpu_check.Step
    bad = check.run(Step("bad", [sys.executable, "-c", "print('working'); raise ValueError('bad thing')"], 30))
    hung = check.run(Step("hung", [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"], 1))
    empty = check.run(Step("empty", [sys.executable, "-c", "pass"], 30, expect=[tmp_path / "never.json"]))
    good = check.run(Step("good", [sys.executable, "-c", "pass"], 30))
    assert (bad.status, bad.error) == ("FAIL", "ValueError: bad thing")
    assert hung.status == "FAIL" and hung.error.startswith("killed: over its time limit of 1 s") and hung.seconds < 30
    assert empty.status == "FAIL" and "never.json is missing" in empty.error
    assert good.status == "PASS" and list(check.results) == ["bad", "hung", "empty", "good"]


def test_steps_past_the_budget_are_skipped(tmp_path):
    check = _check(tmp_path, budget=1.0)
    r = check.run(gpu_check.Step("late", [sys.executable, "-c", "pass"], 30))
    assert r.status == "SKIP" and "--budget" in r.note
    assert check.run(gpu_check.Step("no", [], 30, skip=lambda: "a reason")).note == "a reason"


def test_error_line_skips_pips_generic_trailers():
    text = "Collecting x\nerror: invalid command 'bdist_wheel'\nerror: subprocess-exited-with-error\n× Encountered error\nhint: see above"
    assert gpu_check.error_line(text) == "error: invalid command 'bdist_wheel'"
    assert gpu_check.error_line("just a line\n\n") == "just a line"


def test_gpu_defaults_and_the_benchmark_table():
    a = gpu_check.parse_args([])
    assert (a.device, a.install, a.jobs, a.steps, a.budget) == ("cuda", True, 4, 5, 450.0)
    row = {"model": "default-detector", "batch": 32, "path": "network fp16", "input": "448x448",
           "ms_per_batch": 8.0, "images_per_s": 4000.0}
    s = {"device": "cuda", "quick": False, "seconds": 300.0, "budget_s": 450.0, "machine": {"gpu": "H100"},
         "counts": {"PASS": 0, "FAIL": 0, "SKIP": 0}, "steps": [], "bench": [row]}
    md = gpu_check.markdown(s)
    assert "machine: gpu H100" in md and "| default-detector | 32 | network fp16 | 448x448 | 8.0 | 4000.0 |" in md


@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_cuda_trains_every_preset_in_both_amp_modes(name, tmp_path):
    check = gpu_check.Check(gpu_check.parse_args(["--work", str(tmp_path)]))
    check.machine = {"gpu_bf16": True}
    steps = {s.name: s for s in check.work_steps()}
    for preset in gpu_check.PRESETS:
        step = steps[f"train:{preset}:{name}"]
        cmd = [str(c) for c in step.cmd()]
        assert f"train.amp={name}" in cmd and "train.device=cuda" in cmd and "train.channels_last=true" in cmd
        assert cmd[1].endswith("tools/train.py") and cmd[2].endswith(f"configs/{preset}.yaml")
    assert {"detect", "segment", "ddp:yolov1_bccd", "export:onnx", "bench:default-segmenter"} <= set(steps)


def test_the_tiny_data_serves_every_preset(tmp_path, monkeypatch):
    """Every preset's train, val and test splits read the generated stand-ins (the GPU machine
    has no shared data), with the overrides the check passes."""
    from visionkit.config import load_config
    from visionkit.engine.build import build_dataset
    from visionkit.registry import model_task

    tasks = load_tool("gpu_check_tasks")
    made = tasks.make_data(tmp_path)
    assert sorted(made) == ["bccd", "camvid", "coco-captions", "fashion-mnist"]
    monkeypatch.setenv("VISIONKIT_DATA", str(tmp_path))
    configs = Path(__file__).parents[2] / "configs"
    for preset, overrides in gpu_check.PRESETS.items():
        cfg = load_config(configs / f"{preset}.yaml", overrides)
        for role in ("train", "val", "test"):
            ds = build_dataset(cfg, role, role == "train")
            assert len(ds) >= 2 and ds.task == model_task(cfg), (preset, role)
