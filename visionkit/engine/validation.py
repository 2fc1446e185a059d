"""Validation during training: score the model, track the metric that picks ``best.pt``, keep
the operating point (``conf``) and refresh the plots (a mixin of the
:class:`~visionkit.engine.trainer.Trainer`, apart from the training loop)."""

from __future__ import annotations

import math
import sys

from ..errors import ConfigError, closest
from .build import make_eval_loader
from .evaluator import EvalResult, Evaluator, save_predictions
from .logging import progress
from .plots import plot_confusion, plot_losses, plot_pr_curves


class Validation:
    """Mixin of :class:`~visionkit.engine.trainer.Trainer`: evaluation, best.pt and plots."""

    def _evaluate_and_track(self) -> EvalResult | None:
        if self.val_set is None:
            return None
        res = self.evaluate(self.val_set)
        self.last_metrics = dict(res.metrics)
        if res.metrics and self.metric not in res.metrics:
            hint = closest(self.metric, res.metrics)
            raise ConfigError(f"train.metric: {self.metric!r} is not among the evaluation's metrics"
                              + (f"; did you mean {hint!r}?" if hint else f" ({', '.join(list(res.metrics)[:8])})"))
        value = res.metrics.get(self.metric)
        self.logger.log({"epoch": self.epoch, "step": self.step, **{f"val/{k}": v for k, v in res.metrics.items()},
                         "time": round(self._now(), 3)}, flush=True)
        if self.show != "off":
            shown = ", ".join(f"{k} {v:.4f}" for k, v in list(res.metrics.items())[:4])
            print(f"epoch {self.epoch}/{self.epochs} step {self.step}: {shown}", file=sys.stderr, flush=True)
        self.conf = res.metrics.get("F1_conf")  # the operating point travels with the weights (ckpt["conf"])
        if value is not None and math.isfinite(value) and self.best_rule.update(float(value), self.epoch):
            self.save("best.pt")
        self._last_eval = res
        if self.is_main:
            self._write_plots(res)  # refreshed at each evaluation: a long or killed run has them too
        return res

    def evaluate(self, dataset) -> EvalResult:
        """Score the current model (the EMA weights when EMA is on) on ``dataset``."""
        bs = self.cfg.eval.batch_size or self.cfg.data.batch_size
        loader = make_eval_loader(dataset, bs, self.dist, self.cfg.data.workers)
        model = self.ema.module if self.ema is not None else self.net
        ev = Evaluator(self.task, self.classes, self.cfg.eval, self.cfg.data.ignore_index, getattr(dataset, "cat_ids", None))
        bar = lambda it: progress(it, total=len(it), desc="eval", disable=self.show != "bar")  # noqa: E731
        return ev.evaluate(model, loader, self.device, self.eval_amp, self.cfg.train.channels_last, bar)

    def _write_outputs(self) -> None:
        """Rank 0, at the end: detection predictions JSON and the PNG plots."""
        res = self._last_eval
        if res is not None and res.predictions:
            save_predictions(res, self.run_dir / "predictions.json", getattr(self.val_set, "cat_ids", None))
        self._write_plots(res if res is not self._plotted else None)  # the last evaluation's are there already

    def _write_plots(self, res: EvalResult | None) -> None:
        """``loss.png`` from the rows so far, and the PR curves / confusion matrix of ``res``."""
        if not self.cfg.train.plots:
            return
        self._plotted = res
        plot_losses(self.logger.rows, self.run_dir / "loss.png")
        if res is not None and res.curves:
            plot_pr_curves(res.curves, self.run_dir / "pr_curves.png", res.per_class)
        if res is not None and res.matrix is not None:
            plot_confusion(res.matrix, self.classes, self.run_dir / "confusion.png")
