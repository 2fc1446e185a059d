"""A full disk or a read-only output folder: one line naming the file and the cause, a non-zero
exit, and the previous outputs intact."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

import engine_toys as T
from visionkit.cli import main
from visionkit.utils import io


def _toy_config(tmp_path):
    import yaml

    T.write_idx(tmp_path / "idx", "train", 16)
    cfg = {"name": "w", "out_dir": str(tmp_path / "runs"), "quiet": True, "model": {"name": "toy_cnn", "in_ch": 1},
           "data": {"format": "idx", "root": str(tmp_path / "idx"), "val": "", "classes": ["dark", "light"], "img_size": 8,
                    "resize": "stretch", "batch_size": 4, "workers": 0, "options": {"task": "classification"}},
           "train": {"epochs": 2, "lr": 0.1, "device": "cpu", "plots": False, "eval_every": 0}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path / "c.yaml"


def test_a_full_disk_during_training_is_one_line_and_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    config = _toy_config(tmp_path)
    assert main(["train", str(config), "train.epochs=1"]) == 0
    last = tmp_path / "runs" / "w" / "last.pt"
    before = last.read_bytes()
    real = io.atomic_save

    def full(path, writer):
        if str(path).endswith("last.pt"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, writer)

    monkeypatch.setattr("visionkit.engine.checkpoint.atomic_save", full)
    capsys.readouterr()
    assert main(["train", str(config), "train.epochs=2", "--resume", "auto"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{last}: No space left on device" in err
    assert last.read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a tiny tmpfs")
def test_torch_save_on_a_really_full_disk_is_reported_as_one(tmp_path):
    import torch

    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(OSError) as e:
            io.atomic_save(small / "x.pt", lambda p: torch.save({"a": torch.zeros(100_000)}, p))
        assert e.value.errno == errno.ENOSPC and e.value.filename == str(small / "x.pt")
        assert list(small.iterdir()) == []  # no temporary file left behind
    finally:
        import gc

        gc.collect()  # torch's failed zip writer may still hold its file open
        subprocess.run(["umount", "-l", str(small)], capture_output=True, check=True)  # -l: even if still busy
