"""Every hand-written network with a torchvision twin computes the same function: torchvision's
randomly initialised state dict loads into ours with ``strict=True`` and the eval-mode logits
agree to float precision. Ours is built on the meta device and takes torchvision's tensors
(``assign=True``); torchvision's is built on the meta device too and filled by ``_fill``,
so no case pays for a full random initialisation."""

import pytest
import torch
import torchvision.models as tvm

from visionkit.registry import CLASSIFIERS

K = 10  # classes: a small last layer, same function
CASES = {
    # id: (our builder's options, torchvision's constructor, input side)
    "alexnet": ({}, lambda: tvm.alexnet(num_classes=K), 64),
    "vgg11": ({}, lambda: tvm.vgg11(num_classes=K), 32),
    "vgg11_bn": ({}, lambda: tvm.vgg11_bn(num_classes=K), 32),
    "vgg16": ({}, lambda: tvm.vgg16(num_classes=K), 32),
    "vgg16_bn": ({}, lambda: tvm.vgg16_bn(num_classes=K), 32),
    "googlenet": ({}, lambda: tvm.googlenet(num_classes=K, aux_logits=False, init_weights=False), 64),
    "googlenet-aux": ({"aux_logits": True}, lambda: tvm.googlenet(num_classes=K, aux_logits=True, init_weights=False), 64),
    "googlenet-transform_input": (
        {"transform_input": True},
        lambda: tvm.googlenet(num_classes=K, aux_logits=False, transform_input=True, init_weights=False), 64),
    "resnet18": ({}, lambda: tvm.resnet18(num_classes=K), 64),
    "resnet34": ({}, lambda: tvm.resnet34(num_classes=K), 64),
    "resnet50": ({}, lambda: tvm.resnet50(num_classes=K), 64),
    "densenet121": ({}, lambda: tvm.densenet121(num_classes=K), 64),
    "mobilenet_v2": ({}, lambda: tvm.mobilenet_v2(num_classes=K), 64),
}


def _fill(model):
    """Random weights without paying for 100M random draws (VGG's fc6): every tensor is cut
    in place from one seeded random vector of prime length, wrapping around, so no two rows or
    channels share a layout; weights are scaled like He's uniform init, BN statistics are
    non-trivial (a swapped or skipped BN shows in the logits), biases small."""
    pool = torch.rand(1_000_003, generator=torch.Generator().manual_seed(0)) * 2 - 1  # U(-1, 1)
    offset = 0
    with torch.no_grad():
        for name, t in [*model.named_parameters(), *model.named_buffers()]:
            if not t.is_floating_point():
                t.zero_()  # num_batches_tracked
                continue
            flat, done = t.view(-1), 0
            while done < flat.numel():
                take = min(flat.numel() - done, pool.numel() - offset)
                flat[done : done + take].copy_(pool[offset : offset + take])
                done, offset = done + take, (offset + take) % pool.numel()
            offset = (offset + 7919) % pool.numel()
            if name.endswith("running_var"):
                t.abs_().add_(0.5)
            elif t.dim() > 1:
                t.mul_((6 / t[0].numel()) ** 0.5)
            else:
                t.mul_(0.1).add_(1.0 if name.endswith("weight") else 0.0)  # BN scale ~1, shifts ~0
    return model


@pytest.mark.parametrize("case", list(CASES))
def test_logits_equal_torchvisions_with_the_same_weights(case):
    options, tv_builder, side = CASES[case]
    name = case.split("-")[0]
    with torch.device("meta"):
        ours = CLASSIFIERS.build(name, num_classes=K, **options)
        tv = tv_builder()
    tv = _fill(tv.to_empty(device="cpu")).eval()
    ours.load_state_dict(tv.state_dict(), strict=True, assign=True)
    ours.eval()
    assert not any(t.is_meta for t in [*ours.parameters(), *ours.buffers()])
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = ours(x), tv(x)
    assert a.shape == b.shape == (2, K)
    assert b.std() > 1e-3  # a real signal reaches the logits
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
