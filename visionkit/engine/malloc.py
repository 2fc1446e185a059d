"""Keep glibc's allocator from handing memory back to the kernel between training steps.

A CPU training step allocates and frees hundreds of megabytes of activations and gradients.
glibc returns freed memory at the top of the heap to the kernel once it exceeds
``M_TRIM_THRESHOLD`` (128 KiB .. 32 MiB, dynamic) and serves big blocks with fresh ``mmap``
calls, so the next step touches new pages and takes a page fault for every 4 KiB of them.
Measured on the 2-core development machine (FCN-8s, CamVid, batch 8): 46 s of 94 s wall time
went to the kernel; raising the trim threshold and the top pad took training from 1.6 to 1.9
images/s, and also keeping big blocks out of mmap to 2.4 (docs/RESULTS.md, "The
allocator"). ``tune_malloc`` applies the same settings from
inside the process with ``mallopt``; elsewhere (musl, macOS, Windows) it does nothing.

The settings hold for the whole process until it exits (big blocks are never returned to the
operating system), so they are opt-in: ``visionkit train`` and ``tools/train.py`` apply them,
since that process exists only to train (``VISIONKIT_MALLOC=0`` turns that off); the library's
``Trainer``/``train()`` never touch the allocator of the process that calls them (a notebook,
a service). Such a caller opts in by calling ``tune_malloc()`` before it builds the trainer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4

_done = False


def tune_malloc(trim: int = 2**31 - 1, top_pad: int = 1 << 28) -> bool:
    """Raise glibc's trim threshold and top pad, and serve big blocks from the heap instead of mmap.

    ``mallopt`` takes a C int, so 2 GiB is the largest trim threshold. Returns True when the
    settings were applied. ``VISIONKIT_MALLOC=0`` turns it off.
    """
    global _done
    if _done:
        return True
    if os.environ.get("VISIONKIT_MALLOC", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = all(
        mallopt(param, value) == 1
        for param, value in ((M_TRIM_THRESHOLD, trim), (M_TOP_PAD, top_pad), (M_MMAP_MAX, 0))
    )
    _done = ok
    return ok
