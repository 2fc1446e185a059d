import yaml

from tests.helpers.tiny import bccd_checkpoint
from tests.helpers.tools import load_tool
from visionkit.config import to_dict
from visionkit.data.build import build_dataset

tool = load_tool("detection_errors")


def test_prints_every_class_with_ap_at_three_ious_and_the_error_bins(data_dir, tmp_path, capsys):
    weights, cfg = bccd_checkpoint(tmp_path / "w.pt", data_dir, test="test[:2]")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(to_dict(cfg)))
    assert tool.main([str(tmp_path / "c.yaml"), "--weights", str(weights), "--conf", "0.0"]) == 0
    out = capsys.readouterr().out
    assert "(2 images)" in out
    header = next(line for line in out.splitlines() if line.startswith("class"))
    assert header.split() == ["class", "AP@0.3", "AP@0.5", "AP@0.7", "tp", "duplicate", "localisation", "confusion",
                              "background", "missed"]
    gts = [0, 0, 0]  # non-difficult GT boxes per class in the two images (annotations only: no decoding)
    for item in build_dataset(cfg.data, "test[:2]", train=False).items:
        for label, hard in zip(item.labels.tolist(), item.difficult.tolist()):
            gts[label - 1] += not hard
    assert gts[0] > 20  # the two images hold many RBC
    binned = 0
    for name, n_gt in zip(("RBC", "WBC", "Platelets"), gts):
        row = next(line for line in out.splitlines() if line.startswith(name)).split()
        assert all(0.0 <= float(v) <= 1.0 for v in row[1:4])
        tp, duplicate, localisation, confusion, background, missed = map(int, row[4:])
        assert tp + missed == n_gt, name  # every GT is either found or missed
        binned += tp + duplicate + localisation + confusion + background
    assert binned > 0  # --conf 0.0: the untrained model's detections are all binned
