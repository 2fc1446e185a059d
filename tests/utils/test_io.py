import os
import stat

import pytest

from visionkit.utils.io import atomic_save, atomic_write_text


def test_atomic_write_replaces_and_uses_normal_permissions(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]  # no temporary left behind


def test_a_failed_write_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "ckpt.pt"
    atomic_write_text(path, "good")

    def crash(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt  # killed mid-write

    with pytest.raises(KeyboardInterrupt):
        atomic_save(path, crash)
    assert path.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
