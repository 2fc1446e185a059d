import cv2

from visionkit.cli import main
from visionkit.config import build_config, to_dict
from visionkit.engine.checkpoint import save_checkpoint
from visionkit.registry import MODELS


def _gan(path):
    model = {"name": "dcgan", "img_size": 32, "channels": 1, "z_dim": 8, "g_width": 8, "d_width": 8}
    net = MODELS.build("dcgan", **{k: v for k, v in model.items() if k != "name"})
    cfg = build_config({"task": "generation", "model": model})
    save_checkpoint(path, {"model": net.state_dict(), "config": to_dict(cfg), "task": "generation", "classes": []})
    return path


def test_grid_is_reproducible_with_a_seed(tmp_path):
    w = _gan(tmp_path / "g.pt")
    assert main(["generate", "-w", str(w), "--n", "16", "--seed", "3", "--out", str(tmp_path / "a.png")]) == 0
    assert main(["generate", "-w", str(w), "--n", "16", "--seed", "3", "--out", str(tmp_path / "b.png")]) == 0
    a, b = cv2.imread(str(tmp_path / "a.png")), cv2.imread(str(tmp_path / "b.png"))
    assert a.shape == (4 * 34 + 2, 4 * 34 + 2, 3)  # 4×4 grid of 32 px with 2 px padding
    assert (a == b).all()


def test_interpolation_rows(tmp_path):
    w = _gan(tmp_path / "g.pt")
    assert main(["generate", "-w", str(w), "--n", "20", "--interpolate", "10", "--out", str(tmp_path / "w.png")]) == 0
    assert cv2.imread(str(tmp_path / "w.png")).shape == (2 * 34 + 2, 10 * 34 + 2, 3)


def test_a_detector_is_not_a_generator(tmp_path, capsys):
    from tests.helpers.tiny import tiny_checkpoint

    det = tiny_checkpoint(tmp_path / "d.pt")
    assert main(["generate", "-w", str(det)]) == 2
    assert "not a generative model" in capsys.readouterr().err
