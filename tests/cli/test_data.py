"""``visionkit data check`` reports every kind of bad input; ``data convert`` round-trips."""

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np

from visionkit.cli import main
from visionkit.data.voc import VOCDetection

# the data layer's fixture builders (tests/data/fixtures.py), loaded by path
_spec = importlib.util.spec_from_file_location("_data_fixtures", Path(__file__).parents[1] / "data" / "fixtures.py")
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)
bad_files, exif_rotated_jpeg, make_coco, make_masks = fx.bad_files, fx.exif_rotated_jpeg, fx.make_coco, fx.make_masks
make_voc, rect_image, voc_xml, write_image = fx.make_voc, fx.rect_image, fx.voc_xml, fx.write_image


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def build_messy_voc(root):
    """A VOC set with one instance of every bad-input kind the issue lists."""
    make_voc(root)
    files = bad_files(root / "bad")
    objs = [("cat", [5, 5, 20, 20], False)]
    ids = ["img 001", "img_002", "img_003", "ünï_004"]
    for kind, path in files.items():
        iid = f"bad_{kind}"
        shutil.copy(path, root / "JPEGImages" / path.name)
        (root / "Annotations" / f"{iid}.xml").write_text(voc_xml(path.name, 60, 40, objs))
        ids.append(iid)
    displayed = rect_image(60, 40, [[10, 5, 30, 20]])
    exif_rotated_jpeg(root / "JPEGImages" / "rot.jpg", np.rot90(displayed).copy(), 6)
    (root / "Annotations" / "rot.xml").write_text(voc_xml("rot.jpg", 40, 60, [("cat", [10, 5, 30, 20], False)]))
    (root / "Annotations" / "broken.xml").write_text("<annotation>\n<size>\n</annotation>\n")
    write_image(root / "JPEGImages" / "broken.jpg", rect_image(10, 10, []))
    write_image(root / "JPEGImages" / "boxes.jpg", rect_image(50, 60, []))
    (root / "Annotations" / "boxes.xml").write_text(voc_xml("boxes.jpg", 60, 50, [
        ("cat", [-10, 5, 30, 70], False), ("dog", [10, 10, 10, 30], False), ("zebra", [1, 1, 9, 9], False)]))
    ids += ["rot", "broken", "boxes"]
    (root / "ImageSets/Main/train.txt").write_text("\n".join(ids) + "\n")
    (root / "classes.txt").write_text("bird\ncat\ndog\n")
    return files


def test_check_reports_every_bad_input_kind(tmp_path, capsys):
    root = tmp_path / "my data ü"
    build_messy_voc(root)
    code, out, err = run(capsys, "data", "check", str(root))
    assert code == 1  # some items were skipped
    assert "format voc" in out and "split train: 14 items (4 unreadable)" in out
    for needle in [
        "truncated.jpg: truncated JPEG",
        "corrupt.jpg: not an image, or a corrupt",
        "notes.jpg: not an image",
        "empty.jpg: empty file (0 bytes)",
        "zero.png: zero-size image",
        "gray.png: grayscale PNG converted to RGB",
        "palette.png: palette PNG converted to RGB",
        "rgba.png: rgba PNG: alpha channel dropped",
        "deep.png: 16-bit PNG reduced to 8 bits",
        "broken.xml:3: malformed XML",
        "extends outside the 60x50 image; clipped",
        "has zero or negative area; dropped",
        "unknown class 'zebra'",
    ]:
        assert needle in out, needle
    assert "warning box_clipped: 1" in out and "error unknown_class: 1" in out
    assert "rot.xml" not in out  # the EXIF-rotated image is fine: its box is in displayed coordinates


def test_check_strict_stops_with_one_line_error(tmp_path, capsys):
    root = tmp_path / "v"
    build_messy_voc(root)
    code, out, err = run(capsys, "data", "check", str(root), "--strict")
    assert code == 2 and err.startswith("error: ") and "(strict mode)" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_check_masks_out_of_range_and_malformed_json(tmp_path, capsys):
    make_masks(tmp_path / "seg", n=2, classes=4)
    code, out, _ = run(capsys, "data", "check", str(tmp_path / "seg"), "--classes", "a,b,c", "--ignore-index", "255")
    assert code == 0 and "warning mask_out_of_range: 2" in out and "values [3] outside 0..2" in out
    make_coco(tmp_path / "coco")
    p = tmp_path / "coco/annotations/instances_train.json"
    p.write_text(p.read_text().replace('"images": [', '"images": [,', 1))
    code, _, err = run(capsys, "data", "check", str(tmp_path / "coco"))
    assert code == 2 and "instances_train.json:2: malformed JSON: Expecting value (column 13)" in err


def test_check_clean_set_and_config(tmp_path, capsys):
    make_voc(tmp_path / "v")
    code, out, _ = run(capsys, "data", "check", str(tmp_path / "v"), "--no-decode")
    assert code == 0 and "4 items, 5 boxes, 1 images without labels" in out
    assert "cat   2 boxes" in out.replace("  ", "  ")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data:\n  format: voc\n  root: {tmp_path / 'v'}\n  val: train\n  test: train\n")
    code, out, _ = run(capsys, "data", "check", str(cfg))
    assert code == 0 and out.count("split train:") == 1


def test_convert_round_trip_voc_coco_yolo_voc(tmp_path, capsys):
    make_voc(tmp_path / "voc")
    src = VOCDetection(tmp_path / "voc", "train")
    assert run(capsys, "data", "convert", str(tmp_path / "voc"), str(tmp_path / "coco"), "--to", "coco")[0] == 0
    data = json.loads((tmp_path / "coco/annotations/instances_train.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["bird", "cat", "dog"] and len(data["annotations"]) == 5
    assert run(capsys, "data", "convert", str(tmp_path / "coco"), str(tmp_path / "yolo"), "--to", "yolo")[0] == 0
    assert (tmp_path / "yolo/classes.txt").read_text().split() == ["bird", "cat", "dog"]
    assert run(capsys, "data", "convert", str(tmp_path / "yolo"), str(tmp_path / "back"), "--to", "voc")[0] == 0
    back = VOCDetection(tmp_path / "back", "train")
    assert back.classes == src.classes
    by_name = {it.path.rsplit("/", 1)[-1]: it for it in back.items}
    for it in src.items:
        b = by_name[it.path.rsplit("/", 1)[-1]]
        assert b.labels.tolist() == it.labels.tolist()
        np.testing.assert_allclose(b.boxes, it.boxes, atol=0.02)
    assert (tmp_path / "back/JPEGImages/ünï_004.jpg").is_file()


def test_convert_refuses_segmentation(tmp_path, capsys):
    make_masks(tmp_path / "seg")
    code, _, err = run(capsys, "data", "convert", str(tmp_path / "seg"), str(tmp_path / "o"), "--to", "voc", "--from", "voc")
    assert code == 2 and err.startswith("error:")
