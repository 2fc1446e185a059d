"""Models rebuilt from checkpoint files: the builders (:mod:`.build`) meet the files
(:mod:`.checkpoint`) here, so neither of those imports the other.

``build_from_checkpoint`` is what ``load_model``, ``visionkit export``/``generate`` and
``evaluate_checkpoint`` use; ``attach_fid_extractor`` rebuilds the classifier whose features
are a generator's FID space.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..config import Config, build_config
from ..errors import ConfigError, WeightsError
from .build import build_model, fitted_from
from .checkpoint import ema_weights, load_checkpoint, load_weights


def build_from_checkpoint(ckpt: dict | str | Path, use_ema: bool = True, cfg: Config | None = None,
                          classes: list[str] | None = None):
    """Rebuild ``(model, cfg, classes)`` from a checkpoint (dict or path), weights loaded,
    in eval mode. With ``use_ema`` and an EMA in the file, the averaged weights are used.
    The model is built from the checkpoint's own config and classes, or from ``cfg`` and
    ``classes`` when given (evaluation under a run's config); no ImageNet weights are loaded,
    since the checkpoint brings every weight."""
    source = "checkpoint" if isinstance(ckpt, dict) else str(ckpt)
    if not isinstance(ckpt, dict):
        ckpt = load_checkpoint(ckpt)
    if cfg is None:
        try:
            cfg = build_config(ckpt["config"], source="checkpoint config")
        except ConfigError as e:
            raise WeightsError(f"checkpoint config no longer valid: {e}") from None
    else:  # `auto` values as training fitted them
        cfg = fitted_from(cfg, (ckpt.get("config") or {}).get("model"))
    if classes is None:
        classes = list(ckpt.get("classes") or [])
    model = build_model(cfg, classes, pretrained=False)
    weights = ema_weights(ckpt["ema"]) if use_ema and ckpt.get("ema") else ckpt["model"]
    load_weights(model, weights, source, f"model {cfg.model.get('name')!r}")
    model.eval()
    return model, cfg, classes


class _Features:
    """``images -> N×D`` penultimate features of a trained classifier, as a plain callable (not
    an ``nn.Module`` attribute, so it never enters the generator's state dict or optimizers)."""

    def __init__(self, classifier: torch.nn.Module):
        self.classifier = classifier.eval()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.classifier.to(images.device)
        return self.classifier.features(images.float())


def attach_fid_extractor(model: torch.nn.Module, cfg) -> None:
    """Give a generative ``model`` its FID feature space from ``eval.fid_weights`` (a classifier
    checkpoint trained by visionkit, e.g. LeNet-5 on Fashion-MNIST). No-op without either."""
    path = cfg.eval.fid_weights
    if not path or not hasattr(model, "fid_extractor"):
        return
    classifier, _, _ = build_from_checkpoint(path)
    if not callable(getattr(classifier, "features", None)):
        raise ConfigError(f"eval.fid_weights: {path} is not a classifier checkpoint (no penultimate features)")
    model.fid_extractor = _Features(classifier)

