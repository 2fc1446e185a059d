import torch
import torchvision.models as tvm

from visionkit.registry import CLASSIFIERS


def test_matches_torchvision_without_aux(assert_like_torchvision):
    assert_like_torchvision(
        lambda: CLASSIFIERS.build("googlenet"), lambda: tvm.googlenet(aux_logits=False, init_weights=False), 6_624_904
    )


def test_matches_torchvision_with_aux(assert_like_torchvision):
    assert_like_torchvision(
        lambda: CLASSIFIERS.build("googlenet", aux_logits=True),
        lambda: tvm.googlenet(aux_logits=True, init_weights=False),
        13_004_888,
    )


def test_aux_outputs_in_training_only():
    torch.set_num_threads(1)
    m = CLASSIFIERS.build("googlenet", num_classes=5, aux_logits=True)
    x = torch.randn(1, 3, 64, 64)
    out = m.train()(x)
    assert out.logits.shape == out.aux_logits1.shape == out.aux_logits2.shape == (1, 5)
    assert m.eval()(x).shape == (1, 5)  # eval logits equal torchvision's: test_torchvision_parity.py
