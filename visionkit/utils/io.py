"""Atomic file output: write to a temporary file in the same folder, then rename.

A run killed mid-write leaves the previous file intact, never a half-written one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; give the usual mode
        os.replace(tmp, path)
    except OSError as e:  # name the file the user asked for, not the temporary one
        if e.filename in (None, str(tmp)):
            e.filename = str(path)
        raise
    except RuntimeError:  # torch.save reports a full disk as a RuntimeError of its zip writer
        tmp.unlink(missing_ok=True)
        if shutil.disk_usage(path.parent).free < FULL_BELOW:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


FULL_BELOW = 64 << 20  # bytes: below this much free space, a failed write is taken for a full disk


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save(path: str | Path, writer: Callable[[Path], None]) -> None:
    """``writer(tmp_path)`` writes the file; it lands on ``path`` only if it succeeds."""
    with atomic_path(path) as tmp:
        writer(tmp)
