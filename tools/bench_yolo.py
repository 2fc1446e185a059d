"""YOLOv1 speed: end-to-end images/s (JPEG decode -> letterbox -> network -> NMS -> boxes in
original pixels, the path of ``visionkit detect``) at batch 1, and the network's share of this
machine's measured fp32 GEMM peak (FLOPs / time / peak; ``visionkit.bench.fp32_peak``). On
CUDA, images/s at batch 1 and 32.

    python tools/bench_yolo.py --weights runs/yolov1_bccd/best.pt --images $VISIONKIT_DATA/bccd/JPEGImages

With ``--weights model.onnx`` (from ``visionkit export``) the same end-to-end path runs the graph
in onnxruntime, and the graph (network + NMS) is timed whole.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.bench import fp32_peak, machine, median_time  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, help="a checkpoint, a bundled model name, or its `visionkit export` .onnx")
    ap.add_argument("--images", required=True, help="a folder of images")
    ap.add_argument("--n", type=int, default=50, help="images to time")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)

    from visionkit.api import load_model
    from visionkit.exported import is_exported
    from visionkit.summary import summarize

    predictor = load_model(args.weights, device=args.device)
    model = predictor.model
    size = predictor.img_size if isinstance(predictor.img_size, int) else predictor.img_size[0]
    paths = sorted(Path(args.images).glob("*.jpg"))[: args.n]
    for r in predictor.stream(paths[:3]):  # warm-up
        pass
    t = time.perf_counter()
    n = sum(1 for _ in predictor.stream(paths, batch=1))
    end_to_end = n / (time.perf_counter() - t)

    print(f"device {args.device} ({machine(args.device)}), input {size}x{size}")
    print(f"end to end (decode..boxes), batch 1: {end_to_end:.1f} images/s over {n} images of {args.images} (goal >= 30 on CPU)")
    x = torch.rand(1, 3, size, size, device=args.device)
    if is_exported(args.weights):  # an ONNX/TorchScript graph: time it whole (network + NMS)
        graph_time = median_time(lambda: model(x), 30, warmup=3)
        print(f"exported graph (network + NMS): {graph_time * 1000:.1f} ms/image = {1 / graph_time:.1f} images/s")
        return
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def network() -> None:
        model.head(model.neck(model.backbone(model.normalize(x))))
        sync()

    with torch.inference_mode():
        net_time = median_time(network, 30, warmup=3)
    cpu_model = model.to("cpu")
    macs = summarize(torch.nn.Sequential(cpu_model.normalize, _Body(cpu_model)), (3, size, size)).macs
    model.to(args.device)
    rates = fp32_peak(args.device)
    peak = rates["peak"]
    achieved = 2 * macs / net_time / 1e9
    print(f"network only: {net_time * 1000:.1f} ms/image = {1 / net_time:.1f} images/s; {2 * macs / 1e9:.2f} GFLOPs/image")
    print(f"fp32 GEMM peak {peak:.0f} GFLOP/s (torch.mm {rates['matmul']:.0f}, oneDNN 1x1 conv {rates['conv1x1']:.0f}); "
          f"network achieves {achieved:.1f} GFLOP/s = {achieved / peak:.1%} of peak")
    if args.device.startswith("cuda"):
        for bs in (1, 32):
            xb = torch.rand(bs, 3, size, size, device=args.device)
            with torch.inference_mode():
                for _ in range(3):
                    model(xb)
                torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(10):
                    model(xb)
                torch.cuda.synchronize()
            print(f"GPU batch {bs}: {10 * bs / (time.perf_counter() - t):.1f} images/s (network + NMS)")


class _Body(torch.nn.Module):
    """Backbone + neck + head, for counting multiply-adds."""

    def __init__(self, model):
        super().__init__()
        self.backbone, self.neck, self.head = model.backbone, model.neck, model.head

    def forward(self, x):
        return self.head(self.neck(self.backbone(x)))


if __name__ == "__main__":
    main()
