"""R-CNN and Fast R-CNN on selective-search proposals: the pieces, and a 4-image overfit."""

import pytest
import torch

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.helpers.detection import four_images
from tests.helpers.testers import DetectorTester
from visionkit.models.detection.rcnn import WarpRegions
from visionkit.registry import MODELS


def test_warp_regions_resamples_each_box_to_a_square_with_context():
    img = torch.zeros(1, 1, 40, 40)
    img[0, 0, 10:20, 10:30] = 1.0  # a 20×10 white box
    warp = WarpRegions(size=16, context=0)
    crops = warp({"image": img}, [torch.tensor([[10.0, 10, 30, 20]])], [(40, 40)])
    assert crops.shape == (1, 1, 16, 16)
    # anisotropic warp: the box fills the square (edges blend with the neighbouring pixels)
    assert crops[0, 0, 3:-3, 3:-3].min() > 0.99 and crops.mean() > 0.85
    with_context = WarpRegions(size=16, context=4)({"image": img}, [torch.tensor([[10.0, 10, 30, 20]])], [(40, 40)])
    assert with_context[0, 0, 8, 8] > 0.99 and with_context[0, 0, 0, 0] < 0.01  # border shows surroundings


class _OnSelectiveSearch(DetectorTester):
    """R-CNN and Fast R-CNN: selective-search proposals, cached under $VISIONKIT_CACHE."""

    loss_keys = {"loss_classifier", "loss_box_reg"}
    overfit_steps, lr, loss_factor = 120, 2e-3, 0.4  # measured: 0.19 (Fast R-CNN), 0.13 (R-CNN)
    overfit_options = {"score_thresh": 0.3}
    export_formats = ()  # selective search runs in OpenCV, outside the traced graph
    name, extra = "", {}

    eval_sizes = [(64, 64), (48, 40)]  # selective search on noise is the slow part

    @pytest.fixture(scope="class")
    def _class_cache(self, tmp_path_factory):
        return tmp_path_factory.mktemp("cache")  # the four images are searched once per class

    @pytest.fixture(autouse=True)
    def _cache(self, _class_cache, monkeypatch):
        monkeypatch.setenv("VISIONKIT_CACHE", str(_class_cache))
        self.cache = _class_cache

    def build(self, **options):
        return MODELS.build(self.name, num_classes=3, backbone="tiny_test", pretrained=False,
                            proposals_train=300, proposals_test=300, **self.extra, **options)

    def after_overfit(self, model):
        assert list(self.cache.glob("proposals/*.npy"))  # proposals were cached in $VISIONKIT_CACHE/proposals


class TestFastRCNN(_OnSelectiveSearch):
    name, extra = "fast_rcnn", dict(neck_channels=32, head_hidden=128, roi_pool="pool", rois_per_image=32)


class TestRCNN(_OnSelectiveSearch):
    name, extra = "rcnn", dict(warp_size=32, chunk=128, rois_per_image=24)


def test_fast_rcnn_on_a_pyramid_pools_once_from_its_stride_16_level(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path))
    model = MODELS.build("fast_rcnn", num_classes=3, backbone="tiny_test", pretrained=False, fpn_levels=["c4", "c5"],
                         neck_channels=16, head_hidden=32, proposals_train=50, proposals_test=50)
    pooler = model.roi_heads.pooler
    assert pooler.mode == "pool" and pooler.names == ["c4"] and pooler.stride == 16
    images, targets = four_images()
    features = model.neck(model.backbone(images[0][None]))
    assert features["c4"].shape[1] == 16 and features["c4"].shape[-1] == images[0].shape[-1] // 16
    losses = model(images[:2], targets[:2])
    assert set(losses) == {"loss_classifier", "loss_box_reg"} and all(v.isfinite() for v in losses.values())
    model.eval()
    with torch.no_grad():
        out = model(images[:1])
    assert set(out[0]) == {"boxes", "labels", "scores"}
