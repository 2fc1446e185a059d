"""Feature caches: the engine memoises what a frozen sub-network computes, the model does not.

A module opts in with two attributes: ``frozen`` (True while its features depend on the pixels
only) and a ``feature_cache`` slot (None by default), and computes its features as
``self.feature_cache(fn, x)`` when the slot is set, ``fn(x)`` otherwise (Show and Tell's
``ImageEncoder``). :func:`attach_feature_caches` fills the slot of every such module of a
model with a :class:`FeatureCache`; the trainer does so for the model it trains (and its EMA
copy) once the weights are loaded. Inference (``load_model``, ``evaluate_checkpoint``) runs
uncached: each image is seen once there.

Show and Tell sees each image once per reference caption per epoch; with the cache its
frozen CNN runs once per distinct image instead.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import torch
from torch import nn

DEFAULT_ENTRIES = 20000  # about 5 KB each for MobileNetV2's 1280 pooled floats: 100 MB at most


class FeatureCache:
    """``cache(fn, x) -> fn(x)`` for a batch ``x`` (N×...), computing ``fn`` only on the images
    not seen before. Images are keyed by their content (a 128-bit BLAKE2 digest of their
    bytes), so an augmented image, which has other bytes, is a new entry. At most
    ``max_entries`` are kept (the first ones; later images are computed every time).
    ``fn`` must be a pure function of each image (a frozen network in eval mode): rows computed
    together or apart are then the same numbers."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES):
        self.max_entries = max_entries
        self._memo: dict[bytes, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._memo)

    def clear(self) -> None:
        self._memo.clear()

    @staticmethod
    def key(image: torch.Tensor) -> bytes:
        return hashlib.blake2b(image.detach().contiguous().cpu().numpy().tobytes(), digest_size=16).digest()

    def __call__(self, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        keys = [self.key(img) for img in x]
        todo = [i for i, k in enumerate(keys) if k not in self._memo]
        fresh = dict(zip(todo, fn(x[todo]))) if todo else {}
        for i, f in fresh.items():
            if len(self._memo) < self.max_entries:
                self._memo[keys[i]] = f.detach()
        return torch.stack([fresh[i] if i in fresh else self._memo[k].to(x.device) for i, k in enumerate(keys)])


def attach_feature_caches(model: nn.Module, max_entries: int = DEFAULT_ENTRIES) -> list[FeatureCache]:
    """Give every module of ``model`` with a ``feature_cache`` slot and ``frozen`` features its
    own :class:`FeatureCache`, emptied whenever weights are loaded into that module (the
    cached features would be stale). Returns the caches."""
    caches = []
    for m in model.modules():
        if hasattr(m, "feature_cache") and getattr(m, "frozen", False):
            cache = FeatureCache(max_entries)
            m.feature_cache = cache
            m.register_load_state_dict_post_hook(lambda module, keys, cache=cache: cache.clear())
            caches.append(cache)
    return caches
