"""Progress without a terminal: one line per epoch and per evaluation; none when switched off or
quiet; the ``time`` and ``epoch_time`` columns; plots refreshed at each evaluation."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

import engine_toys as T
from visionkit.config import load_config
from visionkit.errors import ConfigError
from visionkit.engine.logging import duration, epoch_line, progress_mode
from visionkit.engine.trainer import train

LINE = re.compile(r"^epoch (\d)/3  step (\d+)  loss [\d.]+  [\d.]+ img/s  elapsed \d+s  ETA \d+s$")


def _cfg(tmp_path, name="run", quiet=False, **kw):
    kw = {"epochs": 3, "eval_every": 1, "log_every": 3, **kw}
    cfg = T.toy_config(tmp_path, name=name, **kw)
    return dataclasses.replace(cfg, quiet=quiet)


def _train(cfg, **kw):
    return train(cfg, train_set=T.ToyImages(32), val_set=T.ToyImages(8, seed=1), **kw)


def test_one_line_per_epoch_and_per_evaluation_without_a_terminal(tmp_path, capsys):
    _train(_cfg(tmp_path))  # capsys: stderr is not a terminal
    err = capsys.readouterr().err.splitlines()
    epochs = [m.groups() for m in map(LINE.match, err) if m]
    assert epochs == [("1", "8"), ("2", "16"), ("3", "24")], err
    assert [x for x in err if re.match(r"^epoch \d/3 step \d+: accuracy [\d.]+$", x)] != []
    assert len(err) == 7 and err[-1].startswith("use "), err  # and which weights to use; no bar, no carriage returns


@pytest.mark.parametrize("quiet, setting", [(False, "off"), (True, "auto")])
def test_no_lines_when_off_or_quiet(tmp_path, capsys, quiet, setting):
    _train(_cfg(tmp_path, quiet=quiet, progress=setting))
    assert capsys.readouterr().err == ""


def test_bars_instead_of_lines_on_a_terminal(tmp_path, capsys):
    _train(_cfg(tmp_path, progress="bar"))  # what auto picks on a terminal
    err = capsys.readouterr().err
    assert "\r" in err and "epoch 3/3: 100%" in err and "eval" in err
    assert not any(map(LINE.match, err.replace("\r", "\n").splitlines()))


def test_progress_modes(monkeypatch):
    assert progress_mode("auto") == "lines"  # pytest's stderr is not a terminal
    assert progress_mode("auto", quiet=True) == "off"
    assert progress_mode("on", quiet=True) == "lines"
    assert progress_mode("bar", quiet=True) == "bar"
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert progress_mode("auto") == "bar"
    monkeypatch.setenv("CI", "1")
    assert progress_mode("auto") == "lines"
    assert progress_mode("False") == "off"  # `progress: off` in a YAML file
    with pytest.raises(ConfigError, match="train.progress"):
        progress_mode("sometimes")


def test_epoch_line_format():
    line = epoch_line(3, 20, 450, {"loss": 1.2345, "loss_box": 0.5, "loss_cls": 0.7345}, 12.34, 250, 1380)
    assert line == "epoch 3/20  step 450  loss 1.234 (loss_box 0.5, loss_cls 0.7345)  12.3 img/s  elapsed 4m10s  ETA 23m00s"
    assert epoch_line(1, 2, 5, {"loss_d": 0.5, "loss_g": 2.0}, 1.0, 5, None) == \
        "epoch 1/2  step 5  loss_d 0.5, loss_g 2  1.0 img/s  elapsed 5s"
    assert duration(7322) == "2h02m"


def test_time_columns_increase_and_continue_after_a_resume(tmp_path):
    _train(_cfg(tmp_path, quiet=True, epochs=2))
    first = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    _train(_cfg(tmp_path, quiet=True, epochs=3, resume="auto"))  # one more epoch from the end of the second
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[:len(first)] == first
    times = [r["time"] for r in rows]
    assert all(b >= a for a, b in zip(times, times[1:])) and times[0] > 0, times
    train_rows = [r for r in rows if "loss" in r]
    assert all("epoch_time" in r for r in train_rows) and not any("epoch_time" in r for r in rows if "loss" not in r)
    for e in (1, 2, 3):  # within an epoch, epoch_time grows; it starts again with the next epoch
        et = [r["epoch_time"] for r in train_rows if r["epoch"] == e]
        assert et == sorted(et) and et[-1] <= max(times), et
    resumed = [r for r in rows if r["epoch"] == 3]
    assert min(r["time"] for r in resumed) >= max(r["time"] for r in first)  # counted on, not from zero
    assert (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")[5:8] == ["img_s", "time", "epoch_time"]


def test_plots_exist_after_the_first_evaluation_of_a_run_that_dies(tmp_path, monkeypatch):
    from visionkit.engine import run_state

    real, calls = run_state.save_checkpoint, []

    def dies_on_the_third(path, state):  # epoch 1: best.pt, last.pt; epoch 2's first save kills it
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(path, state)

    monkeypatch.setattr(run_state, "save_checkpoint", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        _train(_cfg(tmp_path, quiet=True, plots=True))
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert (tmp_path / "run" / "confusion.png").stat().st_size > 1000


def test_cli_switch_reaches_the_engine(tmp_path, monkeypatch):
    from visionkit.cli import main
    from visionkit.config import save_config
    from visionkit.engine import trainer as trainer_mod

    path = tmp_path / "c.yaml"
    save_config(T.toy_config(tmp_path), path)
    seen = []
    monkeypatch.setattr(trainer_mod, "train", lambda cfg, resume=None: seen.append(cfg.train.progress) or
                        {"run_dir": "", "step": 0, "epoch": 0, "best": None, "metrics": {}, "exit_code": 143})
    assert main(["train", str(path), "--no-progress"]) == 143  # the engine's exit status is the command's
    assert main(["train", str(path), "--progress"]) == 143
    assert main(["train", str(path)]) == 143
    assert seen == ["off", "on", "auto"]
    assert load_config(str(path)).train.progress == "auto"
