"""Checkpoint files: atomic save, safe load, RNG state for exact resume. Rebuilding a model
from a checkpoint is :mod:`visionkit.engine.restore`'s.

A checkpoint is a plain dict of tensors and plain Python values (the project-wide contract)::

    model, optimizer, scheduler, scaler, ema      state dicts (or None)
    epoch, epoch_batch, step                      where the run stands (epoch_batch = batches of
                                                  ``epoch`` already trained, for mid-epoch resume)
    rng                                           torch / cuda / numpy / python generator states
    config, classes, task, visionkit_version, metrics

Because it holds nothing but tensors, numbers, strings, lists and dicts, it loads with
``torch.load(weights_only=True)``, whose unpickler refuses every other class: a checkpoint
from a stranger cannot run code on load (a pickle's ``__reduce__`` can name any function).
Files are written through :mod:`visionkit.utils.io`, so a run killed mid-write leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..errors import WeightsError
from ..utils.io import atomic_save

REQUIRED_KEYS = ("model", "config", "task")


# ------------------------------------------------------------------------------- RNG state


def rng_state() -> dict:
    """Every generator's state as tensors and plain types (loadable with weights_only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": {"version": int(version), "state": list(internal), "gauss_next": gauss_next},
    }


def set_rng_state(state: dict) -> None:
    """Restore the generators saved by :func:`rng_state`."""
    if not state:
        return
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and torch.cuda.is_available():
        cuda = list(state["cuda"])[: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))


# ------------------------------------------------------------------------------ save / load


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically (a temporary file renamed into place)."""
    state = dict(state)
    state.setdefault("visionkit_version", __version__)
    atomic_save(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path, map_location: Any = "cpu", task: str | None = None) -> dict:
    """Load a visionkit checkpoint safely (``weights_only=True``).

    Raises :class:`WeightsError` with one clear line when the file is missing, truncated or
    corrupt, would execute code, is not a visionkit checkpoint, or (with ``task``) was trained
    for another task.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such checkpoint file")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        if found:  # the file names a Python callable/class: the weights-only unpickler refused it
            raise WeightsError(
                f"{path}: refused to load: the file asks for the Python object {found.group(1)!r}, "
                "not only tensors and plain values (loading it could run code). Only load files you trust."
            ) from None
        raise WeightsError(f"{path}: corrupt, or not a plain PyTorch checkpoint (unsupported pickle content)") from None
    except (MemoryError, torch.OutOfMemoryError):
        raise  # not the file's fault
    except Exception as e:  # noqa: BLE001 - any failure to parse a user's file is a user error
        # truncated archives surface as RuntimeError, EOFError, BadZipFile, even KeyError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WeightsError(f"{path}: corrupt or truncated checkpoint ({first[:160]})") from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        have = sorted(ckpt)[:8] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise WeightsError(
            f"{path}: not a visionkit checkpoint (needs keys {', '.join(REQUIRED_KEYS)}; found {have})"
        )
    if task and ckpt.get("task") and ckpt["task"] != task:
        raise WeightsError(f"{path}: checkpoint was trained for task {ckpt['task']!r}, not {task!r}")
    return ckpt


def ema_weights(ema_state: dict) -> dict:
    """The plain model state dict inside an :class:`AveragedModel` state dict."""
    return {k[len("module."):]: v for k, v in ema_state.items() if k.startswith("module.")}


def load_weights(module: torch.nn.Module, state: dict, path, what: str = "model") -> None:
    """``module.load_state_dict(state)`` with a mismatch as one :class:`WeightsError` line naming
    the file and the first concrete difference (a missing key, an unexpected key or a size
    mismatch), instead of PyTorch's multi-line message whose first line says nothing."""
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        details = [ln.strip() for ln in str(e).splitlines()[1:] if ln.strip()]
        first = details[0] if details else str(e).splitlines()[0]
        more = f" (and {len(details) - 1} more difference(s))" if len(details) > 1 else ""
        raise WeightsError(f"{path}: the checkpoint's weights do not fit this {what} "
                           f"({type(module).__name__}): {first[:300]}{more}") from None
