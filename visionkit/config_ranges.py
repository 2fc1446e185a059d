"""The numeric ranges of the fixed config sections, checked once when a config is built.

The dataclass schema types every key; these rules say which values make sense, so that
``data.batch_size=0``, ``train.lr=-1`` or ``data.augment.hflip=2`` is a one-line
``ConfigError`` naming the key, not a traceback (or a run that trains nothing) later. Model
options are checked by their builders, which know their own limits.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import ConfigError

_UNIT = (lambda v: 0 <= v <= 1, "a probability in [0, 1]")
_POS = (lambda v: v > 0, "> 0")
_NONNEG = (lambda v: v >= 0, ">= 0")
_ONE = (lambda v: v >= 1, ">= 1")
_FRACTION = (lambda v: 0 <= v < 1, "in [0, 1)")
_IOU = (lambda v: 0 < v <= 1, "in (0, 1]")

RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data.batch_size": _ONE, "data.workers": _NONNEG,
    "data.augment.hflip": _UNIT, "data.augment.vflip": _UNIT, "data.augment.rot90": _UNIT,
    "data.augment.random_crop": _UNIT, "data.augment.min_visibility": _UNIT, "data.augment.crop_border": _FRACTION,
    "data.augment.color_jitter": _NONNEG, "data.augment.hue": (lambda v: 0 <= v <= 0.5, "in [0, 0.5]"),
    "train.max_steps": _NONNEG, "train.lr": _POS, "train.momentum": _FRACTION, "train.weight_decay": _NONNEG,
    "train.gamma": _POS, "train.warmup_steps": _NONNEG, "train.grad_accum": _ONE, "train.clip_grad": _NONNEG,
    "train.ema": _FRACTION, "train.eval_every": _NONNEG, "train.ckpt_every": _NONNEG, "train.log_every": _ONE,
    "eval.iou": _IOU, "eval.conf": _UNIT, "eval.nms_iou": _IOU, "eval.max_det": _ONE, "eval.batch_size": _NONNEG,
}


def _get(cfg, dotted: str):
    obj = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def check_ranges(cfg) -> None:
    """Raise :class:`ConfigError` for the first value outside its range (``None`` means "the
    model's own" and is always allowed)."""
    for key, (ok, what) in RULES.items():
        value = _get(cfg, key)
        if value is not None and not ok(value):
            raise ConfigError(f"{key}={value!r}: must be {what}")
    if cfg.train.epochs < 1 and cfg.train.max_steps <= 0:
        raise ConfigError(f"train.epochs={cfg.train.epochs!r}: must be >= 1 (or set train.max_steps)")
    sizes = cfg.data.img_size if isinstance(cfg.data.img_size, (list, tuple)) else [cfg.data.img_size]
    if not all(isinstance(s, int) and s > 0 for s in sizes):
        raise ConfigError(f"data.img_size={cfg.data.img_size!r}: must be a positive size (or [height, width])")
    lo, hi = cfg.data.augment.scale_jitter
    if not 0 < lo <= hi:
        raise ConfigError(f"data.augment.scale_jitter={[lo, hi]!r}: must be 0 < low <= high")
