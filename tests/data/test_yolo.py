import numpy as np
import pytest

from visionkit.data.yolo import YOLODetection
from visionkit.errors import DataError

from .fixtures import CLASSES, make_yolo


def test_reads_normalised_boxes(tmp_path):
    spec = make_yolo(tmp_path)
    ds = YOLODetection(tmp_path, "train")
    assert ds.classes == CLASSES and len(ds) == 3
    for i, (stem, (h, w, objs)) in enumerate(sorted(spec.items())):
        _, t = ds.raw(i)
        assert t["path"].endswith(f"{stem}.jpg") and t["orig_size"] == (h, w)
        np.testing.assert_allclose(t["boxes"], np.array([o[1] for o in objs], np.float32).reshape(-1, 4), atol=1e-3)
        assert t["labels"].tolist() == [o[0] + 1 for o in objs]


def test_bad_lines_are_reported_with_line_numbers(tmp_path):
    make_yolo(tmp_path)
    (tmp_path / "labels/train/b.txt").write_text(
        "1 0.2 0.3 0.2 0.2\n"      # fine
        "7 0.5 0.5 0.1 0.1\n"      # class index outside 0..2
        "0 0.5 0.5\n"              # too few values
        "x 0.5 0.5 0.1 0.1\n"      # not a number
        "0 0.9 0.5 0.4 0.2\n"      # crosses the right border: clipped
        "2 0.5 0.5 0.0 0.2\n")     # zero width: dropped
    ds = YOLODetection(tmp_path, "train")
    c = ds.issues.counts()
    assert c["unknown_class"] == 1 and c["malformed"] == 2 and c["box_clipped"] == 1 and c["box_dropped"] == 1
    assert [i.line for i in ds.issues.of("malformed")] == [3, 4]
    assert ds.issues.of("unknown_class")[0].line == 2
    _, t = ds.raw(1)
    assert t["labels"].tolist() == [2, 1]
    assert t["boxes"][1, 2] == pytest.approx(70.0)


def test_names_required(tmp_path):
    make_yolo(tmp_path)
    (tmp_path / "classes.txt").unlink()
    with pytest.raises(DataError, match="class names not found"):
        YOLODetection(tmp_path, "train")
    (tmp_path / "data.yaml").write_text("names:\n  0: cat\n  1: dog\n  2: bird\n")
    assert YOLODetection(tmp_path, "train", names="data.yaml").classes == CLASSES
