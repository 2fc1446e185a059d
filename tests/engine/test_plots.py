"""The run's PNG plots: loss curves, PR curves (voc_evaluate's (recall, precision) form),
confusion matrix."""

from __future__ import annotations

import numpy as np

from visionkit.engine.plots import plot_confusion, plot_losses, plot_pr_curves

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_are_pngs(tmp_path):
    rows = [{"step": s, "loss": 1 / s, "loss_cls": 0.5 / s} for s in range(1, 6)] + [{"step": 5, "val/mAP": 0.3}]
    assert plot_losses(rows, tmp_path / "loss.png").read_bytes()[:8] == PNG
    assert plot_losses([], tmp_path / "none.png") is None
    curves = {"cell": (np.array([0.1, 0.5]), np.array([1.0, 0.8])), "dot": (np.zeros(0), np.zeros(0))}
    assert plot_pr_curves(curves, tmp_path / "pr.png", {"cell": 0.7}).read_bytes()[:8] == PNG
    assert plot_confusion(np.array([[3, 1], [0, 4]]), ["a", "b"], tmp_path / "cm.png").read_bytes()[:8] == PNG


def test_validation_panel_plots_scores_not_the_f1_threshold(tmp_path, monkeypatch):
    import visionkit.engine.plots as P

    figs = []
    monkeypatch.setattr(P, "_save", lambda fig, path: figs.append(fig))
    rows = [{"step": 1, "loss": 1.0}, {"step": 1, "val/mAP": 0.3, "val/F1": 0.4, "val/F1_conf": 0.25}]
    P.plot_losses(rows, tmp_path / "loss.png")
    labels = figs[0].axes[1].get_legend_handles_labels()[1]
    assert labels == ["val/mAP", "val/F1"]
