import pytest
import torch

from tests.helpers.testers import DetectorTester
from tests.helpers.tiny import TinyBackbone
from visionkit.models.detection.yolov1 import PyramidMap, YOLOv1

C = 3


def _model(**kw):
    kw.setdefault("grid", 4)
    kw.setdefault("img_size", 128)
    return YOLOv1(TinyBackbone(16), num_classes=C, **kw)


def test_conv_head_output_grid_and_downsampling():
    m = _model(grid=2, img_size=128)  # c5 is 4×4 at 128 px: one strided conv to reach 2×2
    feats = m.backbone(torch.rand(1, 3, 128, 128))
    raw = m.head(feats["c5"])
    assert raw.shape == (1, 2, 2, 5 * 2 + C)
    with pytest.raises(ValueError):
        _model(grid=3, img_size=128)  # 4 / 3 is not a power of two


def test_pyramid_neck_puts_the_grid_on_the_stride_16_map_that_sees_c5():
    backbone = TinyBackbone(16)
    m = YOLOv1(backbone, num_classes=C, grid=8, img_size=128, neck=PyramidMap(backbone, ["c5", "c4"], 24))
    assert m.neck.levels == ["c4", "c5"] and m.neck.stride == 16 and m.neck.out_channels == 24
    x = torch.rand(1, 3, 128, 128)
    feats = m.backbone(x)
    fine = m.neck(feats)
    assert fine.shape == (1, 24, 8, 8)
    assert m.head(fine).shape == (1, 8, 8, 5 * 2 + C)  # grid = 128 / 16, no downsampling
    # c5 reaches the fine map: changing c5 alone changes it
    feats2 = dict(feats, c5=feats["c5"] + 1)
    assert not torch.allclose(m.neck(feats2), fine)
    with pytest.raises(ValueError, match="c9"):
        PyramidMap(backbone, ["c4", "c9"], 24)


def test_fc_head_is_the_papers_shape():
    m = _model(head="fc", grid=7, img_size=128)
    raw = m.head(torch.rand(2, 64, 4, 4))
    assert raw.shape == (2, 7, 7, 5 * 2 + C)
    assert m.head.fc[1].out_features == 4096


def test_activations_keep_outputs_where_targets_live():
    m = _model().eval()
    pred = m.activate(torch.randn(2, 4, 4, 5 * 2 + C) * 10)
    assert pred[..., :10].min() >= 0 and pred[..., :10].max() <= 1
    assert torch.allclose(pred[..., 10:].sum(-1), torch.ones(2, 4, 4))


class TestYOLOv1(DetectorTester):
    loss_keys = {"loss_coord", "loss_obj", "loss_noobj", "loss_cls"}
    overfit_steps, lr, loss_factor = 300, 3e-3, 0.05
    overfit_options = {"score_thresh": 0.05}
    export_formats = ()  # tests/test_export.py exports a tiny YOLOv1 through the CLI

    def build(self, **options):
        return _model(**options)


def test_bf16_autocast_trains_yolo_in_fp32_loss():
    """Under CPU bf16 autocast the network runs in bf16 but YOLO's loss and decoding stay fp32."""
    torch.manual_seed(0)
    model = _model()
    images = [torch.rand(3, 128, 128)]
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 40.0]]), "labels": torch.tensor([1])}]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        losses = model(images, targets)
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    model.eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(images)
    assert out[0]["boxes"].dtype == torch.float32
