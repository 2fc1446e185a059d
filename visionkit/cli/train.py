"""``visionkit train`` and ``visionkit eval``: thin wrappers over :mod:`visionkit.engine`.

torch is imported inside the commands so that ``visionkit --help`` stays fast.
"""

from __future__ import annotations

import json
import os

import click

from ..config import load_config
from ..errors import ConfigError
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


def _config_and_overrides(args: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """Split ``[CONFIG] [key=value ...]``: the first argument is the config file unless it is a
    ``key=value`` override."""
    if args and "=" not in args[0]:
        return args[0], args[1:]
    if args and args[0].endswith((".yaml", ".yml")) and os.path.isfile(args[0]):
        return args[0], args[1:]
    return None, args


def _from_folder(data: str, model: str, name: str | None, val: float, test: float, seed: int,
                 splits: str | None, overrides: tuple[str, ...], fresh: bool):
    """The config of ``train --data DIR --model NAME``: the preset's recipe, the data section
    from the folder; a random split is written into the run folder."""
    from pathlib import Path

    from ..config import build_config, merge
    from ..data.layout import data_section  # lazy: imports torch
    from ..data.split import read_split_dir
    from ..engine.rundir import fresh_run_name
    from .presets import preset_recipe

    recipe = preset_recipe(model)
    run_name = name or f"{recipe.get('model', {}).get('name', model)}_{Path(data).resolve().name}"
    cfg0 = build_config(merge(recipe, {"name": run_name}), overrides)  # name=/out_dir= overrides count
    run_name, out = cfg0.name, cfg0.out_dir
    if fresh:  # the folder the trainer will write: a new one unless resuming or --exist-ok
        run_name = fresh_run_name(out, run_name)
    split_dir = Path(out) / run_name / "splits"
    section, layout, how = data_section(data, split_dir, val, test, seed, read_split_dir(splits) if splits else None,
                                        cfg0.data.classes)
    click.echo(f"data: {section['root']} is {layout.description}; {len(section.get('classes') or [])} classes "
               f"{section.get('classes')}; {how}", err=True)
    return build_config(merge(recipe, {"name": run_name, "data": section}), [o for o in overrides if not o.startswith("name=")])


@click.command("train", context_settings={"ignore_unknown_options": False})
@click.argument("args", nargs=-1, metavar="[CONFIG] [KEY=VALUE]...")
@click.option("--data", "data", default=None, type=click.Path(exists=True, file_okay=False),
              help="A data set folder (VOC, COCO, YOLO, mask PNGs): its format and classes are read from it.")
@click.option("--model", "model", default=None, help="With --data: a model or preset name (visionkit models --presets).")
@click.option("--name", default=None, help="With --data: the run's name, runs/<name>/ [default: <model>_<folder>].")
@click.option("--val", type=float, default=0.1, show_default=True, help="With --data, a set without splits: validation fraction.")
@click.option("--test", type=float, default=0.1, show_default=True, help="With --data, a set without splits: test fraction.")
@click.option("--seed", type=int, default=0, show_default=True, help="With --data: seed of the random split.")
@click.option("--splits", default=None, type=click.Path(exists=True, file_okay=False),
              help="With --data: a folder of train/val/test.txt lists (visionkit data split) instead of a random split.")
@click.option("--resume", default=None, metavar="PATH|auto",
              help="Continue from a last.pt (or 'auto': runs/<name>/last.pt when it exists).")
@click.option("--exist-ok", is_flag=True,
              help="Write into runs/<name>/ even if a run is there (default: a new runs/<name>2/, 3, ...).")
@click.option("--progress/--no-progress", default=None,
              help="Progress even when quiet (bars on a terminal, else a line per epoch), or none [default: train.progress].")
def train(args: tuple[str, ...], data: str | None, model: str | None, name: str | None, val: float, test: float,
          seed: int, splits: str | None, resume: str | None, exist_ok: bool, progress: bool | None):
    """Train a model from a YAML CONFIG, or from a data folder with --data DIR --model NAME;
    optional key=value overrides either way.

    \b
    Examples:
      visionkit train --data my_photos --model yolov1 --name pets
      visionkit train --data my_photos --model faster_rcnn train.epochs=10
      visionkit train configs/faster_rcnn_bccd.yaml train.epochs=3 data.batch_size=4
      visionkit train configs/fcn8s_camvid.yaml --resume auto
      torchrun --nproc_per_node 4 tools/train.py configs/faster_rcnn_bccd.yaml
    """
    from ..engine.malloc import tune_malloc  # lazy: the engine imports torch
    from ..engine.trainer import train as run  # lazy: imports torch

    config, overrides = _config_and_overrides(args)
    overrides = (*overrides, "train.exist_ok=true") if exist_ok else overrides
    if progress is not None:
        overrides = (*overrides, f"train.progress='{'on' if progress else 'off'}'")
    if config and (data or model):
        raise ConfigError(f"give a CONFIG file ({config}) or --data/--model, not both")
    ctx = click.get_current_context()
    folder_only = [f"--{n}" for n in ("name", "val", "test", "seed", "splits")
                   if ctx.get_parameter_source(n) is click.core.ParameterSource.COMMANDLINE]
    if config and folder_only:
        raise ConfigError(f"{', '.join(folder_only)} go with --data; with a CONFIG set name=... or data.* keys")
    if config:
        cfg = load_config(config, overrides)
    elif data and model:
        cfg = _from_folder(data, model, name, val, test, seed, splits, overrides, fresh=not (resume or exist_ok))
    elif data or model:
        raise ConfigError("--data DIR and --model NAME go together (visionkit models --presets lists the models)")
    else:
        raise ConfigError("nothing to train: give a CONFIG file, or --data DIR --model NAME")
    # This process belongs to the command, so it may tune glibc's allocator for the whole run
    # (before the loaders fork); the library's train() never does (engine/malloc.py).
    tune_malloc()
    summary = run(cfg, resume=resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        click.echo(_json({k: summary[k] for k in ("run_dir", "step", "epoch", "best", "metrics")}))
    return summary.get("exit_code", 0)  # 130/143 when SIGINT/SIGTERM stopped the run


def _stored_config(weights: str, overrides: tuple[str, ...]):
    """The config a checkpoint was trained under, with ``overrides`` applied."""
    from ..config import build_config
    from ..engine.checkpoint import load_checkpoint  # lazy: imports torch
    from ..exported import is_exported, read_meta

    if is_exported(weights):  # a `visionkit export` file keeps its config in its metadata
        stored = read_meta(weights).get("config")
    else:
        stored = load_checkpoint(weights, map_location="cpu").get("config")
    if not stored:
        raise ConfigError(f"{weights} holds no config: pass the CONFIG it was trained with")
    return build_config(stored, overrides, source=f"{weights} config")


@click.command("eval")
@click.argument("args", nargs=-1, metavar="[CONFIG] [KEY=VALUE]...")
@click.option("--weights", "-w", required=True, type=click.Path(dir_okay=False), help="Checkpoint (last.pt / best.pt).")
@click.option("--split", default="", help="Split to score: train, val, test or a split name [default: eval.split].")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Also write the metrics JSON here.")
@click.option("--predictions", default=None, type=click.Path(dir_okay=False),
              help="Detection: write the predictions as COCO results JSON here.")
@click.option("--no-ema", is_flag=True, help="Use the raw weights even when the checkpoint holds an EMA.")
def evaluate(args: tuple[str, ...], weights: str, split: str, out: str | None, predictions: str | None, no_ema: bool):
    """Evaluate a trained checkpoint on a data split; print (and save) the metrics JSON.
    Without CONFIG, the config stored in the checkpoint says which data and split (a run
    trained with --data scores its own test split).

    \b
    Examples:
      visionkit eval --weights runs/pets/last.pt --split test
      visionkit eval configs/faster_rcnn_bccd.yaml --weights runs/faster_rcnn_bccd/best.pt --split test
    """
    from ..engine.distributed import cleanup, info  # lazy: imports torch
    from ..engine.evaluator import evaluate_checkpoint, save_predictions  # lazy: imports torch

    config, overrides = _config_and_overrides(args)
    cfg = load_config(config, overrides) if config else _stored_config(weights, overrides)
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
