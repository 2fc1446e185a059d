"""tune_malloc: applied once on glibc, switchable off by the environment."""

import platform

import pytest

from visionkit.engine import malloc


def test_off_switch(monkeypatch):
    monkeypatch.setattr(malloc, "_done", False)
    monkeypatch.setenv("VISIONKIT_MALLOC", "0")
    assert malloc.tune_malloc() is False


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_applied_on_glibc(monkeypatch):
    monkeypatch.setattr(malloc, "_done", False)
    monkeypatch.delenv("VISIONKIT_MALLOC", raising=False)
    assert malloc.tune_malloc() is True and malloc._done
    assert malloc.tune_malloc() is True  # once is enough
