"""`visionkit detect` / `segment` end to end on tiny checkpoints, and their bad inputs."""

import json

import cv2
import pytest
import torch

from tests.helpers.tiny import tiny_checkpoint as _checkpoint
from visionkit.cli import main

def test_detect_folder_writes_drawings_and_json_and_lists_bad_files(tmp_path, images, capsys):
    ckpt = _checkpoint(tmp_path / "det.pt")
    out = tmp_path / "out"
    rc = main(["detect", str(images), "--weights", str(ckpt), "--out", str(out), "--conf", "0.0", "--max-det", "5"])
    cap = capsys.readouterr()
    assert rc == 1  # one bad input
    assert "broken.jpg" in cap.err and "1 input(s) could not be processed" in cap.err
    assert sorted(p.name for p in out.glob("*.jpg")) == ["a.jpg", "b.jpg"]
    preds = json.loads((out / "predictions.json").read_text())
    assert preds and {"image_id", "category_id", "bbox", "score", "file_name"} <= set(preds[0])
    per_image = {}
    for p in preds:
        per_image[p["file_name"]] = per_image.get(p["file_name"], 0) + 1
        x, y, w, h = p["bbox"]
        assert 0 <= x and 0 <= y and x + w <= 120.01 and y + h <= 90.01  # original image coordinates
        assert p["category_id"] in (1, 2, 3)
    assert max(per_image.values()) <= 5
    assert "a.jpg" in cap.out


def test_detect_class_filter_by_name(tmp_path, images, capsys):
    ckpt = _checkpoint(tmp_path / "det.pt")
    out = tmp_path / "o"
    main(["detect", str(images / "a.jpg"), "-w", str(ckpt), "--out", str(out), "--conf", "0.0", "--classes", "WBC", "-q"])
    preds = json.loads((out / "predictions.json").read_text())
    assert preds and {p["category_id"] for p in preds} == {2}
    assert main(["detect", str(images / "a.jpg"), "-w", str(ckpt), "--classes", "WCB"]) == 2
    assert "did you mean 'WBC'" in capsys.readouterr().err


def test_segment_writes_overlay_and_full_size_mask(tmp_path, images):
    ckpt = _checkpoint(tmp_path / "seg.pt", task="segmentation")
    out = tmp_path / "s"
    assert main(["segment", str(images / "b.png"), "-w", str(ckpt), "--out", str(out), "-q"]) == 0
    mask = cv2.imread(str(out / "b_mask.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (90, 120) and mask.max() <= 1


@pytest.mark.parametrize("args,needle", [
    (["detect", "nope.jpg", "--weights", "missing.pt"], "missing.pt: no such checkpoint"),
    (["detect", "x.jpg", "--model", "default-detektor"], "no such checkpoint"),
])
def test_bad_weights_are_one_line_errors(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_wrong_task_and_tampered_checkpoints_are_refused(tmp_path, images, capsys):
    seg = _checkpoint(tmp_path / "seg.pt", task="segmentation")
    assert main(["detect", str(images / "a.jpg"), "-w", str(seg)]) == 2
    assert "trained for task 'segmentation'" in capsys.readouterr().err
    evil = tmp_path / "evil.pt"

    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"model": Boom(), "config": {}, "task": "detection"}, evil)
    assert main(["detect", str(images / "a.jpg"), "-w", str(evil)]) == 2
    err = capsys.readouterr()
    assert "refused to load" in err.err and "pwned" not in err.out


def test_missing_source_is_listed_not_fatal(tmp_path, images, capsys):
    ckpt = _checkpoint(tmp_path / "det.pt")
    rc = main(["detect", str(images / "a.jpg"), str(tmp_path / "ghost.jpg"), "-w", str(ckpt), "--out", str(tmp_path / "o"), "-q"])
    assert rc == 1
    assert "ghost.jpg: no such file or folder" in capsys.readouterr().err
    assert (tmp_path / "o" / "a.jpg").is_file()


def test_detect_augment_merges_flipped_views_and_is_refused_for_segmentation(tmp_path, images, capsys):
    ckpt = _checkpoint(tmp_path / "det.pt")
    plain, aug = tmp_path / "plain", tmp_path / "aug"
    args = ["detect", str(images / "a.jpg"), "-w", str(ckpt), "--conf", "0.0", "--max-det", "20", "-q", "--no-save"]
    assert main(args + ["--out", str(plain)]) == 0
    assert main(args + ["--out", str(aug), "--augment"]) == 0
    p = json.loads((plain / "predictions.json").read_text())
    a = json.loads((aug / "predictions.json").read_text())
    assert 0 < len(a) <= 20 and a != p  # the flipped view's boxes took part in the merge
    for d in a:
        x, y, w, h = d["bbox"]
        assert 0 <= x and 0 <= y and x + w <= 120.01 and y + h <= 90.01
    seg = _checkpoint(tmp_path / "seg.pt", task="segmentation")
    assert main(["segment", str(images / "b.png"), "-w", str(seg), "--augment", "-q"]) == 2
    assert "--augment" in capsys.readouterr().err
