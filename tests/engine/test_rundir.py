"""Run folders never clobber: a second run with the same name gets runs/<name>2/, unless it
resumes or says exist_ok."""

from __future__ import annotations

import engine_toys as T
from visionkit.engine.checkpoint import load_checkpoint
from visionkit.engine.rundir import fresh_run_name
from visionkit.engine.trainer import train


def _run(tmp_path, **kw):
    return train(T.toy_config(tmp_path, epochs=1, **kw), train_set=T.ToyImages(8), val_set=T.ToyImages(4, seed=1))


def test_a_second_run_with_the_same_name_gets_a_new_folder(tmp_path, capsys):
    first = _run(tmp_path)
    before = (tmp_path / "toy" / "last.pt").read_bytes()
    second = _run(tmp_path)
    assert first["run_dir"] == str(tmp_path / "toy") and second["run_dir"] == str(tmp_path / "toy2")
    assert (tmp_path / "toy" / "last.pt").read_bytes() == before  # the first run is untouched
    assert load_checkpoint(tmp_path / "toy2" / "last.pt")["config"]["name"] == "toy2"  # resume auto finds it
    assert "holds a run: this one goes to" in capsys.readouterr().err
    assert _run(tmp_path)["run_dir"] == str(tmp_path / "toy3")


def test_exist_ok_and_resume_reuse_the_folder(tmp_path):
    _run(tmp_path)
    assert _run(tmp_path, exist_ok=True)["run_dir"] == str(tmp_path / "toy")
    assert _run(tmp_path, resume="auto")["run_dir"] == str(tmp_path / "toy")


def test_fresh_run_name(tmp_path):
    assert fresh_run_name(tmp_path, "a") == "a"
    (tmp_path / "a").mkdir()
    assert fresh_run_name(tmp_path, "a") == "a"  # an empty folder holds no run
    (tmp_path / "a" / "config.yaml").write_text("x")
    (tmp_path / "a2").mkdir()
    (tmp_path / "a2" / "last.pt").write_text("x")
    assert fresh_run_name(tmp_path, "a") == "a3"
