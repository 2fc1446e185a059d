"""The YOLOv1 network's 24 convolutional layers (Redmon et al. 2016, figure 3), "Darknet".

Inspired by GoogLeNet, but with 1×1 reduction layers followed by 3×3 convolutions instead of
inception modules; leaky ReLU (slope 0.1) everywhere::

    448×448×3
    conv 64@7×7 s2, maxpool 2 s2                          -> 112×112×64    c2  (stride 4)
    conv 192@3×3, maxpool                                 -> 56×56×192     c3  (stride 8)
    1×1 128, 3×3 256, 1×1 256, 3×3 512, maxpool           -> 28×28×512     c4  (stride 16)
    {1×1 256, 3×3 512}×4, 1×1 512, 3×3 1024, maxpool      -> 14×14×1024    c5  (stride 32)
    {1×1 512, 3×3 1024}×2, 3×3 1024, 3×3 1024 s2          -> 7×7×1024
    3×3 1024, 3×3 1024                                    -> 7×7×1024      c6  (stride 64)

The paper's network has no batch normalisation (it came with YOLOv2); ``batch_norm=True``
adds it after every convolution, which is what makes training from scratch on a small data set
practical. No ImageNet weights for it exist offline, so ``pretrained`` is refused.
"""

from __future__ import annotations

from torch import nn

from ..errors import WeightsError
from ..registry import BACKBONES
from .base import Backbone, freeze

# (out_channels, kernel, stride) per conv, "M" for a 2×2 max pool; a string after an entry
# names the feature map emitted there
LAYERS = [
    (64, 7, 2), "M", "c2",
    (192, 3, 1), "M", "c3",
    (128, 1, 1), (256, 3, 1), (256, 1, 1), (512, 3, 1), "M", "c4",
    *[(256, 1, 1), (512, 3, 1)] * 4, (512, 1, 1), (1024, 3, 1), "M", "c5",
    *[(512, 1, 1), (1024, 3, 1)] * 2, (1024, 3, 1), (1024, 3, 2),
    (1024, 3, 1), (1024, 3, 1), "c6",
]


class Darknet24(Backbone):
    def __init__(self, batch_norm: bool = True) -> None:
        super().__init__()
        layers, plan, channels, cin = [], [], {}, 3
        for entry in LAYERS:
            if isinstance(entry, str) and entry.startswith("c"):
                plan[-1] = (plan[-1][0], entry)
                channels[entry] = cin
                continue
            if entry == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                cout, k, s = entry
                block = [nn.Conv2d(cin, cout, k, s, k // 2, bias=not batch_norm)]
                if batch_norm:
                    block.append(nn.BatchNorm2d(cout))
                block.append(nn.LeakyReLU(0.1, inplace=True))
                layers.append(nn.Sequential(*block))
                cin = cout
            plan.append((f"features.{len(layers) - 1}", None))
        self.features = nn.Sequential(*layers)
        self.set_plan(plan, channels, {"c2": 4, "c3": 8, "c4": 16, "c5": 32, "c6": 64})

    def num_convs(self) -> int:
        return sum(isinstance(m, nn.Conv2d) for m in self.modules())


@BACKBONES.register("darknet24", task="backbone")
def darknet24(pretrained: bool = False, frozen_stages: int = 0, batch_norm: bool = True) -> Backbone:
    """YOLOv1's 24-conv network (features c2..c6; c6 has stride 64: 7×7 at 448)."""
    if pretrained:
        raise WeightsError("darknet24: no pretrained weights exist offline; set model.pretrained=false")
    return freeze(Darknet24(batch_norm), frozen_stages)
