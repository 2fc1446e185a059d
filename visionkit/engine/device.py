"""Devices, mixed precision and moving nested batches.

``resolve_device("auto")`` picks CUDA when present, else the CPU. Mixed precision (AMP) runs the
forward pass in bfloat16 or float16 on CUDA inside :func:`torch.autocast`; float16 has a narrow
exponent range, so its gradients are scaled up before ``backward`` and unscaled before the
optimizer step (:class:`torch.amp.GradScaler`). bfloat16 keeps float32's range and needs no
scaler. On the CPU only bfloat16 is used, and only where the CPU has native bfloat16
arithmetic (AVX-512 BF16 or AMX, as oneDNN reports it): there convolutions and matmuls run at
about twice float32's rate (docs/RESULTS.md); elsewhere bfloat16 would be emulated and slower,
so the setting is ignored with a warning, as fp16 on the CPU is.
"""

from __future__ import annotations

import contextlib
import random
import warnings
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, DataError

_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(spec: str = "auto", local_rank: int | None = None) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a :class:`torch.device`.

    Under torchrun each process uses ``cuda:LOCAL_RANK`` when the spec is ``auto`` or ``cuda``.
    """
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"train.device: {spec!r} requested but CUDA is not available; use 'cpu' or 'auto'")
        if spec == "cuda":
            return torch.device("cuda", local_rank or 0)
        try:
            index = int(spec.split(":", 1)[1])
        except ValueError:
            raise ConfigError(f"train.device: bad device {spec!r}; expected auto, cpu, cuda or cuda:N") from None
        if index >= torch.cuda.device_count():
            raise ConfigError(f"train.device: {spec!r} but only {torch.cuda.device_count()} CUDA device(s) exist")
        return torch.device("cuda", index)
    raise ConfigError(f"train.device: bad device {spec!r}; expected auto, cpu, cuda or cuda:N")


def amp_dtype(amp: str, device: torch.device, key: str = "train.amp") -> torch.dtype | None:
    """The autocast dtype for the setting ``key`` (``train.amp`` or ``eval.amp``) = ``amp`` on
    ``device``, or None when AMP is off."""
    amp = (amp or "off").lower()
    if amp in ("off", "none", "false", ""):
        return None
    if amp not in _AMP_DTYPES:
        raise ConfigError(f"{key}: bad value {amp!r}; expected off, bf16 or fp16")
    if device.type == "cpu" and amp == "bf16" and cpu_has_bf16():
        return torch.bfloat16
    if device.type != "cuda":
        why = "this CPU has no native bfloat16" if amp == "bf16" else "fp16 AMP needs CUDA"
        warnings.warn(f"{key}={amp} is ignored on {device.type} ({why}); running in float32", stacklevel=2)
        return None
    return _AMP_DTYPES[amp]


def cpu_has_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic natively (oneDNN's own check)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast(device: torch.device, dtype: torch.dtype | None):
    """A context manager running the forward pass in ``dtype`` (a no-op when ``dtype`` is None)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def to_device(obj: Any, device: torch.device, channels_last: bool = False, non_blocking: bool = True) -> Any:
    """Move every tensor in a nested structure (tuple, list, dict) to ``device``.

    Other leaves (strings, numbers, None, numpy arrays) are returned unchanged. With
    ``channels_last`` 4-D float tensors (image batches) are stored NHWC, which convolutions on
    recent GPUs run faster.
    """
    if isinstance(obj, torch.Tensor):
        t = obj.to(device, non_blocking=non_blocking and device.type == "cuda")
        if channels_last and t.dim() == 4 and t.is_floating_point():
            t = t.contiguous(memory_format=torch.channels_last)
        return t
    if isinstance(obj, dict):
        return {k: to_device(v, device, channels_last, non_blocking) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(to_device(v, device, channels_last, non_blocking) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device, channels_last, non_blocking) for v in obj)
    return obj


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (all devices). ``deterministic`` also asks torch for
    deterministic kernels (slower; warns where none exists) and turns off cuDNN autotuning."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def split_batch(batch: Any) -> tuple[Any, Any]:
    """``(images, targets)`` from a loader batch, checked against the one batch contract
    (``data/collate.py``): a pair of images (a tensor or a list of tensors) and targets (a
    list of per-image dicts, or None)."""
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        images, targets = batch
        if isinstance(targets, (list, tuple)) or targets is None:
            return images, targets
        raise DataError(f"a batch's targets are a list of per-image dicts, not {type(targets).__name__} "
                        "(use visionkit.data.collate as the loader's collate_fn)")
    raise DataError(f"a batch is a pair (images, targets), not {type(batch).__name__} "
                    "(use visionkit.data.collate as the loader's collate_fn)")


def batch_size_of(images: Any) -> int:
    """Number of images in a batch (a B×C×H×W tensor or a list of C×H×W tensors)."""
    if isinstance(images, torch.Tensor):
        return int(images.shape[0]) if images.dim() == 4 else 1
    if isinstance(images, (list, tuple)):
        return len(images)
    return 1
