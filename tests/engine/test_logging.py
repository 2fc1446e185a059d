"""Run logs: JSONL/CSV rewritten atomically with the union of columns, TensorBoard scalars,
resume trimming."""

from __future__ import annotations

import csv
import json

from visionkit.engine.logging import RunLogger, quiet_mode


def test_rows_files_and_resume_trim(tmp_path):
    log = RunLogger(tmp_path, tensorboard=True)
    log.log({"epoch": 1, "step": 1, "loss": 2.0})
    log.log({"epoch": 1, "step": 2, "loss": 1.5, "loss_cls": 1.0})
    log.log({"epoch": 1, "step": 2, "val/mAP": float("nan")}, flush=True)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows[2] == {"epoch": 1, "step": 2, "val/mAP": None}
    with open(tmp_path / "metrics.csv") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["epoch", "step", "loss", "loss_cls", "val/mAP"]
    assert table[1]["loss_cls"] == "1.0" and table[0]["loss_cls"] == ""
    log.log({"epoch": 1, "step": 3, "loss": 1.0})
    log.close()
    assert len(RunLogger.read_rows(tmp_path)) == 4
    assert [r["step"] for r in RunLogger.read_rows(tmp_path, max_step=2)] == [1, 2, 2]
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())


def test_disabled_logger_writes_nothing(tmp_path):
    log = RunLogger(tmp_path / "r1", enabled=False)
    log.log({"step": 1, "loss": 1.0}, flush=True)
    log.close()
    assert not (tmp_path / "r1").exists()


def test_quiet_mode_when_asked_or_in_ci(monkeypatch):
    assert quiet_mode(True)
    monkeypatch.setenv("CI", "1")
    assert quiet_mode(False)


def test_rows_reach_disk_by_count_or_after_flush_seconds(tmp_path, monkeypatch):
    log = RunLogger(tmp_path, tensorboard=False)
    log.log({"epoch": 1, "step": 1, "loss": 2.0})
    assert not (tmp_path / "metrics.csv").exists()  # buffered: one row, just now
    monkeypatch.setattr(RunLogger, "FLUSH_SECONDS", 0.0)  # a slow model: the next row is "late"
    log.log({"epoch": 1, "step": 2, "loss": 1.5})
    assert [r["step"] for r in RunLogger.read_rows(tmp_path)] == [1, 2]
