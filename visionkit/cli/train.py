"""``visionkit train`` and ``visionkit eval``: thin wrappers over :mod:`visionkit.engine`.

torch is imported inside the commands so that ``visionkit --help`` stays fast.
"""

from __future__ import annotations

import json
import os

import click

from ..config import load_config
from ..utils.io import atomic_write_text


def _json(obj) -> str:
    """JSON with undefined metrics (nan) written as null, as everywhere in visionkit."""
    import math

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(obj), indent=2)


@click.command("train", context_settings={"ignore_unknown_options": False})
@click.argument("config", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--resume", default=None, metavar="PATH|auto",
              help="Continue from a last.pt (or 'auto': runs/<name>/last.pt when it exists).")
@click.option("--exist-ok", is_flag=True,
              help="Write into runs/<name>/ even if a run is there (default: a new runs/<name>2/, 3, ...).")
@click.option("--progress/--no-progress", default=None,
              help="Progress even when quiet (bars on a terminal, else a line per epoch), or none [default: train.progress].")
def train(config: str, overrides: tuple[str, ...], resume: str | None, exist_ok: bool, progress: bool | None):
    """Train a model from a YAML CONFIG, with optional key=value OVERRIDES.

    \b
    Examples:
      visionkit train configs/faster_rcnn_bccd.yaml train.epochs=3 data.batch_size=4
      visionkit train configs/fcn8s_camvid.yaml --resume auto
      torchrun --nproc_per_node 4 tools/train.py configs/faster_rcnn_bccd.yaml
    """
    from ..engine.malloc import tune_malloc  # lazy: the engine imports torch
    from ..engine.trainer import train as run  # lazy: imports torch

    extra = ("train.exist_ok=true",) if exist_ok else ()
    extra += () if progress is None else (f"train.progress='{'on' if progress else 'off'}'",)
    cfg = load_config(config, (*overrides, *extra))
    # This process belongs to the command, so it may tune glibc's allocator for the whole run
    # (before the loaders fork); the library's train() never does (engine/malloc.py).
    tune_malloc()
    summary = run(cfg, resume=resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        click.echo(_json({k: summary[k] for k in ("run_dir", "step", "epoch", "best", "metrics")}))
    return summary.get("exit_code", 0)  # 130/143 when SIGINT/SIGTERM stopped the run


@click.command("eval")
@click.argument("config", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--weights", "-w", required=True, type=click.Path(dir_okay=False), help="Checkpoint (last.pt / best.pt).")
@click.option("--split", default="", help="Split to score: train, val, test or a split name [default: eval.split].")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Also write the metrics JSON here.")
@click.option("--predictions", default=None, type=click.Path(dir_okay=False),
              help="Detection: write the predictions as COCO results JSON here.")
@click.option("--no-ema", is_flag=True, help="Use the raw weights even when the checkpoint holds an EMA.")
def evaluate(config: str, overrides: tuple[str, ...], weights: str, split: str, out: str | None,
             predictions: str | None, no_ema: bool):
    """Evaluate a trained checkpoint on a data split; print (and save) the metrics JSON.

    \b
    Example:
      visionkit eval configs/faster_rcnn_bccd.yaml --weights runs/faster_rcnn_bccd/best.pt --split test
    """
    from ..engine.distributed import cleanup, info  # lazy: imports torch
    from ..engine.evaluator import evaluate_checkpoint, save_predictions  # lazy: imports torch

    cfg = load_config(config, overrides)
    try:
        res, dataset = evaluate_checkpoint(cfg, weights, split, use_ema=not no_ema)
        main_rank = info().is_main
    finally:
        cleanup()
    if not main_rank:
        return
    text = _json(res.metrics)
    click.echo(text)
    if out:
        atomic_write_text(out, text + "\n")
    if predictions:
        n = save_predictions(res, predictions, getattr(dataset, "cat_ids", None))
        click.echo(f"wrote {n} predictions to {predictions}", err=True)
