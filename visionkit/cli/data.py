"""``visionkit data check PATH``, ``data convert SRC DST --to FORMAT`` and ``data split PATH``."""

from __future__ import annotations

import click

from ..config import load_config
from ..errors import ConfigError

FORMATS = ("voc", "coco", "yolo", "masks", "voc_masks", "coco_captions", "idx")


def _options(items) -> dict:
    """``-o key=value`` pairs -> the reader's options (values parsed as YAML)."""
    import yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"-o {item!r}: expected key=value")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = yaml.safe_load(v) if v.strip() else ""
        except yaml.YAMLError:  # not YAML (``list_file={split}.txt``, a brace pattern): the text as given
            out[k.strip()] = v
    return out


def _classes(value):
    if not value:
        return None
    from pathlib import Path

    if Path(value).is_file():
        from ..data.voc import read_class_file  # lazy: imports torch

        return read_class_file(Path(value))
    return [c.strip() for c in value.split(",") if c.strip()]


@click.group("data")
def data():
    """Check, split and convert data sets (VOC, COCO, YOLO, masks, captions, IDX).

    \b
    Examples:
      visionkit data check $VISIONKIT_DATA/bccd
      visionkit data check configs/faster_rcnn_bccd.yaml          the config's data section
      visionkit data check $VISIONKIT_DATA/camvid --classes classes.txt --ignore-index 11
      visionkit data convert $VISIONKIT_DATA/bccd bccd_yolo --to yolo
      visionkit data split my_photos --val 0.1 --test 0.1 --seed 0 --out my_photos_split
    """


@data.command("check")
@click.argument("path", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Data set format (default: guessed from the layout).")
@click.option("--split", "splits", multiple=True, help="Split(s) to check (default: every split found).")
@click.option("--classes", default=None, help="Class names, comma-separated, or a file with one per line.")
@click.option("--ignore-index", type=int, default=255, show_default=True, help="Segmentation label to ignore.")
@click.option("-o", "--option", "opts", multiple=True, help="A reader option key=value (repeatable).")
@click.option("--strict", is_flag=True, help="Stop at the first problem, as an error.")
@click.option("--no-decode", is_flag=True, help="Check annotations only; do not decode every image.")
@click.option("--max-examples", type=int, default=10, show_default=True, help="Examples listed per kind of problem.")
def check(path, fmt, splits, classes, ignore_index, opts, strict, no_decode, max_examples):
    """Read every item of the data set at PATH (a folder or a YAML config) and report
    counts per class, images without labels and every problem found.

    Exit status: 0 if clean or only repaired warnings, 1 if some items were skipped, 2 on
    a fatal problem (or any problem with --strict)."""
    from pathlib import Path

    from ..data.check import check_dataset, format_report  # lazy: imports torch

    root, options, classes_ = Path(path), _options(opts), _classes(classes)
    if root.is_file() and root.suffix in (".yaml", ".yml"):
        d = load_config(root).data
        root, fmt = Path(d.root), fmt or d.format
        splits = splits or tuple(dict.fromkeys(s for s in (d.train, d.val, d.test) if s))
        classes_, options = classes_ or d.classes, {**d.options, **options}
        ignore_index = d.ignore_index if ignore_index == 255 else ignore_index
        strict = strict or d.strict
    fmt, reports, issues = check_dataset(root, fmt, list(splits) or None, classes_, strict, not no_decode,
                                         options, ignore_index, progress=True)
    click.echo(format_report(fmt, root, reports, issues, max_examples))
    return 1 if issues.skipped_files else 0


@data.command("convert")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.argument("dst", type=click.Path(file_okay=False))
@click.option("--to", "dst_format", type=click.Choice(("coco", "voc", "yolo")), required=True, help="Output format.")
@click.option("--from", "src_format", type=click.Choice(("coco", "voc", "yolo")), default=None,
              help="Input format (default: guessed from the layout).")
@click.option("--split", "splits", multiple=True, help="Split(s) to convert (default: every split found).")
@click.option("--classes", default=None, help="Class names, comma-separated, or a file (YOLO input needs them).")
@click.option("-o", "--option", "opts", multiple=True, help="A reader option key=value (repeatable).")
@click.option("--link", is_flag=True, help="Hard-link images instead of copying them.")
def convert(src, dst, dst_format, src_format, splits, classes, opts, link):
    """Convert the detection data set SRC (COCO, VOC or YOLO) into DST in another format."""
    from ..data.check import detect_splits  # lazy: imports torch
    from ..data.convert import convert as run  # lazy: imports torch
    from ..data.layout import reader_setup

    src_format, options, splits = reader_setup(src, src_format, _options(opts), list(splits))
    splits = splits or detect_splits(src, src_format)
    written, issues = run(src, src_format, dst, dst_format, splits, _classes(classes), options, link)
    for split, n in written.items():
        click.echo(f"{split}: {n} images written to {dst} ({dst_format})")
    if len(issues):
        click.echo("problems in the source (skipped or repaired):")
        click.echo("\n".join("  " + ln for ln in issues.report().splitlines()))
    return 1 if issues.skipped_files else 0


@data.command("split")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--val", type=float, default=0.1, show_default=True, help="Fraction of the images for validation.")
@click.option("--test", type=float, default=0.1, show_default=True, help="Fraction of the images for testing.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random split.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Folder for train.txt/val.txt/test.txt [default: ./<folder name>_split].")
def split(path, val, test, seed, out):
    """Write a seeded random train/val/test split of the data set at PATH as list files (one
    image path per line, relative to PATH), outside PATH unless --out says otherwise. Use them
    with `visionkit train --data PATH --splits OUT` or `data.split_files` in a config."""
    from pathlib import Path

    from ..data.layout import POOL, detect_layout, read_pool  # lazy: imports torch
    from ..data.split import random_split, write_split_files

    root = Path(path).resolve()
    layout = detect_layout(root)
    source = layout.splits[0] if layout.splits else POOL
    if layout.splits:
        click.echo(f"{root} already has splits ({', '.join(layout.splits)}); splitting {source!r}", err=True)
    ds = read_pool(root, layout, source)
    parts = random_split([ds.item_file(i) for i in range(len(ds))], val, test, seed)
    out = Path(out) if out else Path.cwd() / f"{root.name}_split"
    for name, file in write_split_files(parts, out).items():
        click.echo(f"{name}: {len(parts[name])} images -> {file}")
    click.echo(f"train on it: visionkit train --data {path} --splits {out} --model yolov1")
