"""Build held-out detection sets from the shared data in the layout annotation tools export
(``annotations/*.xml`` beside ``images/*.jpg``, lowercase, no split files, no class list), to
check that a recipe works on data it was not tuned on:

* ``wbc``: BCCD's WBC class alone: one large cell per image (objects ~0.3 of the frame);
* ``person``: COCO128's ``person`` class, converted to VOC XML (people of every size).

    python tools/make_heldout_sets.py --data $VISIONKIT_DATA --out /tmp/heldout
    visionkit train --data /tmp/heldout/wbc --model yolov1 --name wbc

Only images with at least one object of the class are written. Boxes keep the readers' pixel
frame; the XML is written by the project's own VOC writer (``data.convert.write_voc``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from visionkit.data.coco import COCODetection
from visionkit.data.convert import write_voc
from visionkit.data.voc import VOCDetection


def _keep_labelled(ds):
    ds.items = [it for it in ds.items if len(it.labels)]
    return ds


def _as_tool_export(ds, out: Path) -> int:
    """``ds`` written as ``out/annotations`` + ``out/images`` with no split lists or class file."""
    with tempfile.TemporaryDirectory() as tmp:
        n = write_voc(ds, Path(tmp), "all")
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        shutil.move(str(Path(tmp) / "Annotations"), out / "annotations")
        shutil.move(str(Path(tmp) / "JPEGImages"), out / "images")
    return n


def build(data: Path, out: Path) -> dict[str, int]:
    wbc = _keep_labelled(VOCDetection(data / "bccd", "trainval", classes=["WBC"]))
    test = _keep_labelled(VOCDetection(data / "bccd", "test", classes=["WBC"]))
    wbc.items += test.items
    person = _keep_labelled(COCODetection(data / "coco128", "train2017", classes=["person"]))
    return {"wbc": _as_tool_export(wbc, out / "wbc"), "person": _as_tool_export(person, out / "person")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (VISIONKIT_DATA)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    for name, n in build(args.data, args.out).items():
        print(f"{args.out / name}: {n} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
