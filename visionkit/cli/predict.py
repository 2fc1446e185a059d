"""``visionkit detect`` / ``segment`` / ``caption``: run a trained model on images.

    visionkit detect data/samples/BloodImage_00000.jpg
    visionkit detect photos/ --weights runs/x/best.pt --conf 0.4 --out preds/
    visionkit segment street.mp4 --out frames/

Each drawn prediction is written to ``--out`` (default ``runs/<verb>``), with a
``predictions.json`` (detection: COCO results with ``file_name``, readable by ``visionkit
score``), and a table on stdout. Bad inputs are listed at the end and make the exit status 1;
the good ones are all processed.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import UserError, unknown
from ..utils.io import atomic_write_text

DEFAULTS = {"detect": "default-detector", "segment": "default-segmenter", "caption": "default-captioner"}
TASKS = {"detect": "detection", "segment": "segmentation", "caption": "captioning"}
DEFAULT_CONF = 0.25  # api.DEFAULT_CONF, written out so that `--help` does not import the API


def _options(fn):
    options = [
        click.argument("sources", nargs=-1, required=True),
        click.option("--weights", "-w", help="A checkpoint trained with visionkit (default: the bundled model)."),
        click.option("--model", "model_name", help="A bundled model name (see `visionkit models`)."),
        click.option("--conf", type=click.FloatRange(0, 1),
                     help=f"Minimum score of a detection [default: the model's F1-optimal one when packed with it, else {DEFAULT_CONF}, "
                          "as in load_model(...).predict]; `visionkit eval` scores at eval.conf, a low one."),
        click.option("--iou", type=click.FloatRange(0, 1), help="NMS IoU threshold [default: the model's own]."),
        click.option("--max-det", type=click.IntRange(min=1), help="At most this many detections per image [default: the model's own]."),
        click.option("--imgsz", type=click.IntRange(min=32), help="Inference size (default: the training size)."),
        click.option("--classes", help="Keep only these classes: names or ids, comma-separated."),
        click.option("--augment", is_flag=True,
                     help="Detection: also run the flipped image(s) the model trained on and merge (slower, often more accurate)."),
        click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N."),
        click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Images per forward pass."),
        click.option("--workers", type=click.IntRange(min=0), default=2, show_default=True,
                     help="Threads that decode the next images while the model runs (0: one after the other)."),
        click.option("--gt", "gt_path", type=click.Path(dir_okay=False),
                     help="Detection: a COCO ground-truth JSON; predictions.json then uses its image and category ids "
                          "(images matched by file name, classes by name), ready for `visionkit score`."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default runs/<verb>)."),
        click.option("--save/--no-save", default=True, show_default=True, help="Write drawn images."),
        click.option("--quiet", "-q", is_flag=True, help="No table, no progress bar."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def _class_ids(spec: str | None, names: list[str]) -> list[int] | None:
    if not spec:
        return None
    ids = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part.isdigit():
            if not 1 <= int(part) <= len(names):
                raise UserError(f"--classes: class id {part} is not one of 1..{len(names)} ({', '.join(names[:8])})")
            ids.append(int(part))
        elif part in names:
            ids.append(names.index(part) + 1)
        else:
            raise UserError("--classes: " + unknown("class", part, names))
    return ids


def _output_name(name: str, used: set[str]) -> str:
    stem = Path(name.split("#")[0]).stem or "image"
    frame = name.split("#")[1] if "#" in name else ""
    base = f"{stem}_{int(frame):06d}" if frame else stem
    out, k = base, 1
    while out in used:
        k += 1
        out = f"{base}_{k}"
    used.add(out)
    return out


def _gt_ids(gt_path: str | None, task: str, names: list[str]):
    """``(image id of a path, category id of a label)`` from a COCO GT file, or ``None``."""
    from ..errors import DataError, UserError

    if not gt_path:
        return None
    if task != "detection":
        raise UserError("--gt is for detection: it gives predictions.json the ground truth's ids")
    from ..metrics.align import gt_image_ids
    from ..metrics.results import load_coco_gt

    gt = load_coco_gt(gt_path)
    by_name = {str(c["name"]): c["id"] for c in gt["categories"]}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise DataError(f"{gt_path}: the model's classes {missing} are not categories of this file "
                        f"({', '.join(list(by_name)[:8])})")
    return gt_image_ids(gt), [by_name[n] for n in names]


def _shown(path: str, width: int = 60) -> str:
    """A path for the table: relative to the working folder when inside it, the end kept when long."""
    try:
        path = str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        pass
    return path if len(path) <= width else "…" + path[-(width - 1):]


def run_predict(verb: str, sources, weights, model_name, conf, iou, max_det, imgsz, classes, device, batch, out_dir, save, quiet,
                workers: int = 0, augment: bool = False, gt_path: str | None = None) -> int:
    from tqdm import tqdm

    from ..api import load_model  # lazy: imports torch
    from ..sources import count_sources  # lazy: imports torch

    task = TASKS[verb]
    predictor = load_model(weights or model_name or DEFAULTS[verb], device=device, task=task)
    keep = _class_ids(classes, predictor.names)
    gt_ids = _gt_ids(gt_path, task, predictor.names)
    if not quiet:  # what the model knows, once: an image far outside it is then no surprise
        knows = (f"a vocabulary of {len(predictor.names)} words" if task == "captioning" else
                 f"{len(predictor.names)} classes ({', '.join(predictor.names[:12])}{', ...' if len(predictor.names) > 12 else ''})")
        click.echo(f"model {predictor.name}: {task}, {knows}", err=True)
    out = Path(out_dir or f"runs/{verb}")  # made at the first write: a refused run leaves no folder
    total = count_sources(list(sources))
    bar = tqdm(total=total, desc=verb, unit="img", disable=quiet or total == 1, leave=False)
    rows, bad, coco, used = [], [], [], set()
    results = predictor.stream(list(sources), conf=conf, iou=iou, max_det=max_det, imgsz=imgsz, classes=keep, batch=batch,
                                workers=workers, augment=augment)
    for image_id, res in enumerate(results, start=1):
        bar.update(1)
        if res.error:
            bad.append(res.error)
            continue
        if gt_ids is not None:
            try:
                image_id = gt_ids[0](res.path)
            except KeyError as e:
                bad.append(f"{res.path}: matches {e.args[0]} of {gt_path}")
                continue
        name = _output_name(res.path, used)
        out.mkdir(parents=True, exist_ok=True)
        if save:
            res.save(out / f"{name}.jpg")
        if task == "detection":
            coco.extend(res.to_coco(image_id, gt_ids[1] if gt_ids is not None else predictor.cat_ids))
        elif task == "captioning":
            coco.append({"image_id": image_id, "file_name": res.path, "caption": res.captions[0] if res.captions else ""})
        else:
            from ..data.image import write_image  # lazy: imports torch

            write_image(out / f"{name}_mask.png", res.mask.astype("uint8"))
        rows.append((res.path, res.summary()))
    bar.close()
    if task in ("detection", "captioning") and rows:
        atomic_write_text(out / "predictions.json", json.dumps(coco, indent=1))
    if not quiet:
        shown = [(_shown(p), summary) for p, summary in rows]
        width = max((len(p) for p, _ in shown), default=5)
        for path, summary in shown:
            click.echo(f"{path:<{width}}  {summary}")
        click.echo(f"{len(rows)} image(s) -> {out}/" + (" (predictions.json)" if task != "segmentation" else ""))
    if bad:
        click.echo(f"{len(bad)} input(s) could not be processed:", err=True)
        for msg in bad:
            click.echo(f"  {msg}", err=True)
        return 1
    return 0


@click.command()
@_options
def detect(**kw):
    """Detect objects in images, folders, globs or videos; draw them and save COCO-style JSON."""
    return run_predict("detect", **kw)


@click.command()
@_options
def segment(**kw):
    """Segment images, folders, globs or videos; save coloured overlays and class-index PNGs."""
    return run_predict("segment", **kw)


@click.command()
@_options
def caption(**kw):
    """Caption images with a Show-and-Tell model."""
    return run_predict("caption", **kw)
