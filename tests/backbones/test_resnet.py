import pytest
import torch
import torchvision.models as tvm

from visionkit.registry import BACKBONES, CLASSIFIERS


@pytest.mark.parametrize("name,count", [("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032)])
def test_matches_torchvision(assert_like_torchvision, name, count):
    assert_like_torchvision(lambda: CLASSIFIERS.build(name), getattr(tvm, name), count)


def test_backbone_loads_classifier_weights_and_gives_its_features():
    torch.manual_seed(0)
    clf = CLASSIFIERS.build("resnet18").eval()
    b = BACKBONES.build("resnet18").eval()
    b.load_state_dict({k: v for k, v in clf.state_dict().items() if not k.startswith("fc.")})
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        c5 = b(x)["c5"]
        logits = clf.fc(c5.mean((2, 3)))
        torch.testing.assert_close(logits, clf(x))
