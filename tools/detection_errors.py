"""Where a detector's errors come from, on a split of its config's data.

    python tools/detection_errors.py configs/faster_rcnn_bccd.yaml --weights runs/faster_rcnn_bccd/last.pt \\
        [--split test] [--conf 0.5] [key=value ...]

Prints, per class, AP at IoU 0.3 / 0.5 / 0.7 (VOC07 11-point: if AP hardly moves from 0.5 to
0.3, the boxes are placed well enough and the errors are elsewhere) and the detections scoring
``>= --conf`` put in bins: TP, duplicate, poor localisation, class confusion, background, and
the GTs missed (:mod:`visionkit.metrics.diagnosis`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.config import load_config  # noqa: E402
from visionkit.errors import run_script  # noqa: E402
from visionkit.metrics.diagnosis import BINS, error_breakdown  # noqa: E402
from visionkit.metrics.voc import voc_evaluate  # noqa: E402


def main(argv=None) -> int:
    from visionkit.cli._table import format_table
    from visionkit.engine.evaluator import evaluate_checkpoint

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--conf", type=float, default=0.5, help="score threshold of the binned detections")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, [*args.overrides, "quiet=true", "eval.metric=voc07"])
    if args.conf < cfg.eval.conf:  # the model must keep every detection that the bins count
        cfg = load_config(args.config, [*args.overrides, "quiet=true", "eval.metric=voc07", f"eval.conf={args.conf}"])
    res, ds = evaluate_checkpoint(cfg, args.weights, args.split)
    classes = list(ds.classes)
    aps = {t: voc_evaluate(res.gts, res.predictions, classes, iou_thr=t, metric="voc07")["per_class"] for t in (0.3, 0.5, 0.7)}
    bins = error_breakdown(res.gts, res.predictions, classes, conf=args.conf)
    rows = [[c, *(f"{aps[t][c]:.3f}" for t in aps), *(str(bins[c][b]) for b in BINS)] for c in classes]
    print(f"{args.weights} on {args.split} ({len(res.gts)} images); detections scoring >= {args.conf}:")
    print(format_table(["class", "AP@0.3", "AP@0.5", "AP@0.7", *BINS], rows))
    return 0


if __name__ == "__main__":
    run_script(main)
