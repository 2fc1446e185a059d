"""tools/caption_baseline.py on the real COCO captions subset (ImageNet MobileNetV2 features)."""

import json
from pathlib import Path

from tests.helpers.tools import load_tool

ROOT = Path(__file__).parents[2]
caption_baseline = load_tool("caption_baseline")


def test_nearest_neighbour_baseline_scores_the_test_split(data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VISIONKIT_DATA", str(data_dir))
    out = tmp_path / "b.json"
    assert caption_baseline.main([str(ROOT / "configs" / "show_tell_coco_captions.yaml"), "--k", "3", "--out", str(out)]) == 0
    scores = json.loads(out.read_text())["nearest_k3"]
    assert {"bleu1", "bleu2", "bleu3", "bleu4", "cider_d"} <= set(scores)
    assert 0.3 < scores["bleu1"] < 1 and 0 < scores["bleu4"] < scores["bleu1"]  # borrowed captions share words
    assert "NN: " in capsys.readouterr().out


def test_overrides_may_follow_the_options(data_dir, tmp_path, monkeypatch):
    """``--weights W key=value`` is how the README tunes decoding: the override must reach the config."""
    monkeypatch.setenv("VISIONKIT_DATA", str(data_dir))
    out = tmp_path / "b.json"
    splits, real = [], caption_baseline.build_dataset
    monkeypatch.setattr(caption_baseline, "build_dataset", lambda d, split, train: splits.append(split) or real(d, split, train))
    args = [str(ROOT / "configs" / "show_tell_coco_captions.yaml"), "--k", "1", "--out", str(out), "eval.split=test[:6]"]
    assert caption_baseline.main(args) == 0
    assert splits == ["train[:-50]", "test[:6]"]
    assert set(json.loads(out.read_text())) == {"nearest_k1"}
