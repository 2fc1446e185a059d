"""The bundled default detector: loads from the package with no other files, and finds the
cells of a sample image that is not in its training split."""

from pathlib import Path

import torch

from visionkit import load_model
from visionkit.api import ASSETS, BUILTIN

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "BloodImage_00007.jpg"  # a BCCD test image


def test_default_detector_ships_compact():
    path = ASSETS / BUILTIN["default-detector"][0]
    assert path.is_file() and path.stat().st_size < 15e6


def test_default_detector_finds_cells_in_the_sample(monkeypatch):
    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")  # no ImageNet file, no network: the package suffices
    model = load_model("default-detector")
    assert model.names == ["RBC", "WBC", "Platelets"]
    (res,) = model.predict(SAMPLE, conf=0.25)
    names = [model.names[label - 1] for label in res.labels]
    assert names.count("RBC") >= 5 and "WBC" in names  # ground truth: 17 RBC, 1 WBC
    h, w = res.image.shape[:2]
    assert (res.boxes[:, 2] <= w).all() and (res.boxes[:, 3] <= h).all()


def test_default_detector_same_boxes_channels_last_and_workers(monkeypatch):
    """Channels-last (on by default on CPU) and decoding in worker threads change only speed."""
    import numpy as np

    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    fast = load_model("default-detector", device="cpu")
    assert fast.channels_last
    plain = load_model("default-detector", device="cpu")
    plain.model.to(memory_format=torch.contiguous_format)
    plain.channels_last = False
    samples = sorted(SAMPLE.parent.glob("*.jpg"))
    a, b = plain.predict(samples, conf=0.25, workers=0), fast.predict(samples, conf=0.25, workers=2)
    assert [r.path for r in a] == [r.path for r in b]
    for x, y in zip(a, b):
        assert np.array_equal(x.labels, y.labels) and np.allclose(x.boxes, y.boxes, atol=0.05)


def test_api_and_cli_share_the_default_threshold(monkeypatch, tmp_path):
    """``load_model(...).predict(img)`` and ``visionkit detect img`` without ``--conf`` give the
    same boxes: one default (the calibrated conf in the weights, else api.DEFAULT_CONF)."""
    import json

    import numpy as np

    from visionkit.api import DEFAULT_CONF
    from visionkit.cli import main
    from visionkit.cli.predict import DEFAULT_CONF as CLI_HELP_CONF

    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    assert CLI_HELP_CONF == DEFAULT_CONF
    model = load_model("default-detector", device="cpu")
    assert model.conf == DEFAULT_CONF == 0.25  # the bundled weights store no calibrated conf
    (res,) = model.predict(SAMPLE)
    assert main(["detect", str(SAMPLE), "--out", str(tmp_path), "--device", "cpu", "-q", "--no-save"]) == 0
    cli = json.loads((tmp_path / "predictions.json").read_text())
    assert len(cli) == len(res.scores) and 5 <= len(cli) < 20  # ground truth: 17 RBC, 1 WBC
    np.testing.assert_allclose(sorted(p["score"] for p in cli), np.sort(res.scores), atol=1e-4)


def test_default_segmenter_ships_compact():
    path = ASSETS / BUILTIN["default-segmenter"][0]
    assert path.is_file() and path.stat().st_size < 20e6


def test_default_segmenter_labels_a_camvid_test_frame(monkeypatch, data_dir):
    """FCN-8s from the package on a CamVid *test* frame: full-size mask, most pixels right."""
    import cv2

    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    model = load_model("default-segmenter", device="cpu")
    assert model.names[:4] == ["Sky", "Building", "Pole", "Road"] and len(model.names) == 11
    image, label = (data_dir / "camvid" / p.lstrip("/") for p in (data_dir / "camvid" / "test.txt").read_text().split()[:2])
    (res,) = model.predict(image)
    truth = cv2.imread(str(label), cv2.IMREAD_UNCHANGED)
    assert res.mask.shape == truth.shape == (360, 480)
    valid = truth != 11  # void
    assert (res.mask[valid] == truth[valid]).mean() > 0.85
