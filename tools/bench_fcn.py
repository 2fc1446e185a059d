"""FCN inference speed: visionkit's FCN-32s/16s/8s against torchvision's ``fcn_resnet50``-style
head on the *same* MobileNetV2 backbone, side by side in one run (issue #7).

    python tools/bench_fcn.py [--size 360 480] [--repeats 20] [--threads 2]

torchvision's FCN (``torchvision.models.segmentation.FCN`` + ``FCNHead``, as in
``fcn_resnet50``) puts a 3×3 conv to in/4 channels + BN + ReLU + 1×1 scores on the stride-32
feature map and upsamples 32× bilinearly in one step; visionkit's FCN-8s has the paper's
convolutionised classifier (here 512 channels, 3×3), score layers on c5/c4/c3 and learnable
transposed-convolution upsampling (configs/fcn8s_camvid.yaml's settings). Both get the same
treatment -- eval mode, conv+BN fused, ``torch.inference_mode``, channels-last unless
``--no-channels-last`` -- on a batch-1 float image; weights are random (speed does not depend
on them). Prints the median latency of each and the ratio ours / torchvision.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.models.common import fuse_conv_bn  # noqa: E402
from visionkit.registry import MODELS  # noqa: E402


def torchvision_fcn(num_classes: int) -> torch.nn.Module:
    from torchvision.models import mobilenet_v2
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.models.segmentation.fcn import FCN, FCNHead

    body = IntermediateLayerGetter(mobilenet_v2().features, return_layers={"18": "out"})
    return FCN(body, FCNHead(1280, num_classes))


def ours(variant: int, num_classes: int) -> torch.nn.Module:
    return MODELS.build("fcn", backbone="mobilenet_v2", pretrained=False, variant=variant, fc_channels=512,
                        fc_kernel=3, num_classes=num_classes, ignore_index=num_classes)


def prepare(model: torch.nn.Module, channels_last: bool) -> torch.nn.Module:
    model.eval()
    fuse_conv_bn(model)
    return model.to(memory_format=torch.channels_last) if channels_last else model


@torch.inference_mode()
def time_once(model, x) -> float:
    t = time.perf_counter()
    out = model(x)
    if isinstance(out, dict):  # torchvision: {"out": N×K×H×W logits}
        out["out"].argmax(1)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, nargs=2, default=[360, 480], metavar=("H", "W"))
    ap.add_argument("--classes", type=int, default=11)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-channels-last", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cl = not args.no_channels_last
    models = {f"visionkit FCN-{v}s": prepare(ours(v, args.classes), cl) for v in (32, 16, 8)}
    models["torchvision FCN head (fcn_resnet50 style)"] = prepare(torchvision_fcn(args.classes), cl)
    x = torch.rand(1, 3, *args.size)
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)
    for m in models.values():  # warm-up: oneDNN picks its kernels on the first calls
        for _ in range(3):
            time_once(m, x)
    times = {name: [] for name in models}
    for _ in range(args.repeats):  # interleaved, so a busy spell hits every model alike
        for name, m in models.items():
            times[name].append(time_once(m, x))
    print(f"CPU, {args.threads} thread(s), batch 1, {args.size[0]}×{args.size[1]}, channels-last {cl}, "
          f"torch {torch.__version__}; median of {args.repeats}")
    tv = statistics.median(times["torchvision FCN head (fcn_resnet50 style)"])
    print(f"{'model':<44}{'params (M)':>11}{'ms':>9}{'ratio':>8}")
    for name, m in models.items():
        med = statistics.median(times[name])
        params = sum(p.numel() for p in m.parameters()) / 1e6
        print(f"{name:<44}{params:11.2f}{med * 1e3:9.1f}{med / tv:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
