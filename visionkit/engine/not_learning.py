"""The epoch hook that says when a detector is not learning, and why it likely is not.

A detector whose validation mAP is 0 at two evaluations in a row, or 0 once with its highest
score still at or below the confidence prior its head starts from (``model.confidence_prior``,
YOLOv1's 0.01), learns nothing: more epochs will not help. :class:`NotLearning` then prints one
warning (once per run) naming the likely cause and the setting to change, from the training
boxes' statistics (``data.stats``) and the model's config (``models.detection.autofit``), e.g.
"objects are ~0.80 of the image but the grid is 28 (cells of 0.04): set model.grid=auto (here 7)
or a coarser grid".
"""

from __future__ import annotations

import math
import sys

from ..data.stats import box_stats
from ..models.detection.autofit import not_learning_hint


class NotLearning:
    """Watches each evaluation of a detection run (see the module docstring)."""

    def __init__(self):
        self.zeros = 0  # evaluations in a row with a zero metric
        self.seen = None
        self.warned = False

    @staticmethod
    def applies(model) -> bool:
        return getattr(model, "task", "") == "detection"

    @staticmethod
    def top_score(res) -> float:
        tops = [float(max(p["scores"])) for p in (res.predictions or []) if len(p["scores"])]
        return max(tops, default=0.0)

    def on_epoch_end(self, trainer) -> None:
        res = getattr(trainer, "_last_eval", None)
        if res is None or res is self.seen or self.warned:
            return
        self.seen = res
        value = res.metrics.get("mAP", res.metrics.get("AP"))
        if value is None or not math.isfinite(value):
            return
        self.zeros = self.zeros + 1 if value <= 0 else 0
        top, prior = self.top_score(res), getattr(trainer.net, "confidence_prior", None)
        stuck = prior is not None and top <= prior
        if self.zeros >= 2 or (self.zeros and stuck):
            self.warned = True
            print(self.message(trainer, top, prior if stuck else None), file=sys.stderr)

    def message(self, trainer, top: float, prior: float | None) -> str:
        cfg = trainer.cfg
        try:
            stats = box_stats(trainer.train_set, cfg.data.img_size, cfg.data.resize)
        except Exception:  # a data set without readable boxes: the generic hint
            stats = None
        what = f"validation mAP is 0 at {self.zeros} evaluation{'s' if self.zeros > 1 else ''} in a row"
        if prior is not None:
            what += f" and the highest score, {top:.4f}, is still at or below the prior {prior} the head starts from"
        return f"warning: the model is not learning: {what}. Likely cause: {not_learning_hint(dict(cfg.model or {}), stats, cfg.data.img_size)}"
