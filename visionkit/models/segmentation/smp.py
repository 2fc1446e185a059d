"""segmentation-models-pytorch architectures (U-Net, FPN, DeepLabV3+) behind visionkit's
model contract, as the peers FCN is measured against.

The encoder is smp's ``mobilenet_v2`` (torchvision's network), given the same ImageNet file
as our own MobileNetV2 backbone through visionkit's offline weight lookup, so FCN and the smp
models start from identical features. Any other smp encoder name works without weights.
"""

from __future__ import annotations

from torch import nn

from ...backbones.weights import load_pretrained
from ...errors import WeightsError
from ...registry import MODELS
from ..common import Images, Normalize, Targets, batch_images, stack_masks
from .losses import segmentation_loss

ARCHS = {"unet": "Unet", "fpn": "FPN", "deeplabv3plus": "DeepLabV3Plus"}
# our weight key for smp encoders whose parameter names are torchvision's
TORCHVISION_ENCODERS = {"mobilenet_v2": "mobilenet_v2", "resnet18": "resnet18", "resnet34": "resnet34", "resnet50": "resnet50"}


class SMPSegmenter(nn.Module):
    task = "segmentation"

    def __init__(self, net: nn.Module, ignore_index: int = 255, class_weights=None, dice_weight: float = 0.0, size_divisible: int = 32):
        super().__init__()
        self.normalize = Normalize()
        self.net = net
        self.ignore_index, self.class_weights, self.dice_weight = ignore_index, class_weights, dice_weight
        self.size_divisible = size_divisible

    def forward(self, images: Images, targets: Targets | None = None):
        """As :meth:`visionkit.models.segmentation.fcn.FCN.forward`."""
        x, sizes = batch_images(images, self.size_divisible)
        logits = self.net(self.normalize(x))
        if self.training:
            masks = stack_masks(targets, logits.shape[-2:], self.ignore_index, logits.device)
            return segmentation_loss(logits, masks, self.ignore_index, self.class_weights, self.dice_weight)
        return [{"masks": lg[:, :h, :w].argmax(0), "logits": lg[:, :h, :w]} for lg, (h, w) in zip(logits, sizes)]


def _build(arch: str, num_classes: int, encoder: str, pretrained: bool, ignore_index: int, class_weights, dice_weight) -> SMPSegmenter:
    import segmentation_models_pytorch as smp  # lazy: smp (and timm) take seconds to import; only smp configs need it

    net = getattr(smp, ARCHS[arch])(encoder_name=encoder, encoder_weights=None, classes=num_classes)
    if pretrained:
        key = TORCHVISION_ENCODERS.get(encoder)
        if key is None:
            raise WeightsError(f"smp encoder {encoder!r}: no offline ImageNet weights; set model.pretrained=false")
        state = {k: v for k, v in load_pretrained(key).items() if not k.startswith(("classifier.", "fc."))}
        net.encoder.load_state_dict(state)
    return SMPSegmenter(net, ignore_index, class_weights, dice_weight, 16 if arch == "deeplabv3plus" else 32)


def _register(arch: str) -> None:
    def builder(num_classes: int = 21, encoder: str = "mobilenet_v2", pretrained: bool = True, ignore_index: int = 255,
                class_weights: list[float] | None = None, dice_weight: float = 0.0) -> SMPSegmenter:
        return _build(arch, num_classes, encoder, pretrained, ignore_index, class_weights, dice_weight)

    builder.__doc__ = f"segmentation-models-pytorch {ARCHS[arch]} (encoder ``mobilenet_v2`` with our ImageNet file)."
    builder.__name__ = f"smp_{arch}"
    MODELS.register(f"smp_{arch}", task="segmentation")(builder)


for _arch in ARCHS:
    _register(_arch)

