"""tune_malloc: applied once on glibc, switchable off by the environment."""

import platform
import types

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


class _Callable:
    """A function object that accepts ``argtypes``/``restype`` as ctypes functions do."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)


class _FakeLibc:
    """Stands in for glibc: records every ``mallopt`` call instead of changing this process."""

    def __init__(self, calls):
        def mallopt(param, value):
            calls.append((param, value))
            return 1

        self.mallopt = _Callable(mallopt)


@pytest.fixture
def mallopt_calls(monkeypatch):
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(malloc, "_done", False)
    monkeypatch.delenv("VISIONKIT_MALLOC", raising=False)
    fake = types.SimpleNamespace(CDLL=lambda *a, **k: _FakeLibc(calls), util=malloc.ctypes.util, c_int=malloc.ctypes.c_int)
    monkeypatch.setattr(malloc, "ctypes", fake)  # this module's view of ctypes only: torch keeps the real one
    return calls


def test_the_library_trainer_leaves_the_host_allocator_alone(tmp_path, mallopt_calls):
    """A notebook that trains keeps glibc's defaults: the Trainer never calls mallopt."""
    import engine_toys as T
    from visionkit.engine.trainer import train

    train(T.toy_config(tmp_path, epochs=1), train_set=T.ToyImages(8), val_set=T.ToyImages(4, seed=1))
    assert mallopt_calls == []


def test_the_train_command_opts_in(tmp_path, mallopt_calls, monkeypatch):
    """``visionkit train`` owns its process, so it applies the settings once (before any loader)."""
    import engine_toys as T
    from visionkit.cli import train as cli_train

    monkeypatch.setattr("visionkit.engine.trainer.train", lambda cfg, resume=None: {
        "run_dir": "", "step": 0, "epoch": 0, "best": None, "metrics": {}})
    monkeypatch.setattr(cli_train, "load_config", lambda path, overrides: T.toy_config(tmp_path, epochs=1))
    from click.testing import CliRunner

    result = CliRunner().invoke(cli_train.train, ["unused.yaml"])
    assert result.exit_code == 0, result.output
    assert mallopt_calls == [(malloc.M_TRIM_THRESHOLD, 2**31 - 1), (malloc.M_TOP_PAD, 1 << 28), (malloc.M_MMAP_MAX, 0)]
