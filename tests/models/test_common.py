import torch
from torch import nn

from visionkit.models.common import batch_images, fuse_conv_bn
from visionkit.registry import BACKBONES


def test_fusing_conv_bn_keeps_the_outputs():
    torch.manual_seed(0)
    net = BACKBONES.build("mobilenet_v2", pretrained=False)
    for m in net.modules():  # non-trivial statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    net.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = net(x)["c5"]
        n = fuse_conv_bn(net)
        after = net(x)["c5"]
    assert n == 52  # every conv of MobileNetV2 is followed by a BN
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert torch.allclose(before, after, atol=1e-4, rtol=1e-4)


def test_batch_images_pads_bottom_right_to_a_multiple():
    batch, sizes = batch_images([torch.ones(3, 10, 20), torch.ones(3, 17, 5)], size_divisible=8)
    assert batch.shape == (2, 3, 24, 24) and sizes == [(10, 20), (17, 5)]
    assert batch[0, :, :10, :20].eq(1).all() and batch[0, :, 10:].eq(0).all()
