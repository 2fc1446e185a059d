import importlib.util
from pathlib import Path

import torch

from tests.cli.test_predict import _checkpoint
from visionkit.engine.checkpoint import build_from_checkpoint, load_checkpoint

spec = importlib.util.spec_from_file_location("pack_model", Path(__file__).parents[2] / "tools" / "pack_model.py")
pack_model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pack_model)


def test_packed_model_is_half_size_and_predicts_the_same(tmp_path):
    src = _checkpoint(tmp_path / "full.pt")
    pack_model.main([str(src), str(tmp_path / "packed.pt")])
    packed = load_checkpoint(tmp_path / "packed.pt")
    assert all(v.dtype != torch.float32 for v in packed["model"].values())
    assert (tmp_path / "packed.pt").stat().st_size < 0.6 * src.stat().st_size
    full, _, _ = build_from_checkpoint(src)
    small, _, classes = build_from_checkpoint(tmp_path / "packed.pt")
    assert classes == ["RBC", "WBC", "Platelets"]
    assert next(small.parameters()).dtype == torch.float32  # cast back on load
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        a = full.head(full.backbone(full.normalize(x))["c5"])
        b = small.head(small.backbone(small.normalize(x))["c5"])
    assert torch.allclose(a, b, atol=2e-2, rtol=1e-2)
