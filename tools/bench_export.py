"""An exported model's speed against PyTorch's, in one run.

    python tools/bench_export.py --weights visionkit/assets/default_detector.pt --threads 2

Each runtime does the traced graph's work on the same random batch-1 input at the model's
input size: the network and, for a detector, decoding and NMS (what ``visionkit export``
writes). The runtimes are eager PyTorch (as loaded, and again in channels-last, the layout
``visionkit detect`` uses on CPU), TorchScript, and ONNX through onnxruntime. It prints the
median ms per image, the images/s, each runtime's speed relative to eager PyTorch, and the
largest output difference from PyTorch. Image decoding and letterboxing are left out: they
are the same for every runtime.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.api import resolve_weights  # noqa: E402
from visionkit.bench import machine, median_time  # noqa: E402
from visionkit.engine.restore import build_from_checkpoint  # noqa: E402
from visionkit.errors import run_script  # noqa: E402
from visionkit.export import ExportWrapper, export_model, max_abs_diff  # noqa: E402
from visionkit.exported import as_numpy, input_hw, load_exported  # noqa: E402
from visionkit.registry import model_task  # noqa: E402
from visionkit.utils.io import atomic_write_text  # noqa: E402

SUFFIX = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}


def bench(weights: str, imgsz=None, repeats: int = 30, threads: int = 2, formats=("torchscript", "onnx")) -> dict:
    """Time eager PyTorch, its channels-last layout and each exported format; returns the rows."""
    torch.set_num_threads(threads)
    model, cfg, _ = build_from_checkpoint(resolve_weights(weights))
    task = getattr(model, "task", "") or model_task(cfg)
    size = imgsz or cfg.data.img_size
    h, w = input_hw(size)
    images = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    eager = ExportWrapper(model.eval(), task).eval()
    with torch.inference_mode():
        ref = as_numpy(eager(images))
    rows = {}

    def add(name: str, fn, out) -> None:
        t = median_time(fn, repeats, warmup=3)
        rows[name] = {"ms": 1000 * t, "images_s": 1 / t, "max_diff": max_abs_diff(ref, out)}

    with torch.inference_mode():
        add("pytorch", lambda: eager(images), ref)
        cl = copy.deepcopy(eager).to(memory_format=torch.channels_last)
        cl_images = images.contiguous(memory_format=torch.channels_last)
        add("pytorch channels-last", lambda: cl(cl_images), as_numpy(cl(cl_images)))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            path = export_model(model, task, fmt, Path(tmp) / f"model{SUFFIX[fmt]}", size)
            run = load_exported(path, threads)
            add("onnxruntime" if fmt == "onnx" else fmt, lambda: run(images), run(images))
    base = rows["pytorch"]["ms"]
    for row in rows.values():
        row["speed_vs_pytorch"] = base / row["ms"]
    return {"weights": str(weights), "task": task, "input": [1, 3, h, w], "threads": threads, "machine": machine(), "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="default-detector", help="a checkpoint or a bundled model name")
    ap.add_argument("--imgsz", type=int, help="input size (default: the training size)")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--formats", default="torchscript,onnx", help="comma-separated: torchscript, onnx")
    ap.add_argument("--out", default="", help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    unknown = [f for f in formats if f not in SUFFIX]
    if unknown:
        ap.error(f"unknown format(s) {', '.join(unknown)}; valid: {', '.join(SUFFIX)}")
    result = bench(args.weights, args.imgsz, args.repeats, args.threads, formats)
    print(f"{result['weights']} ({result['task']}), input {'x'.join(map(str, result['input']))}, "
          f"{result['threads']} threads, median of {args.repeats}")
    print(f"machine: {result['machine']}")
    print(f"{'runtime':24s} {'ms/image':>9s} {'images/s':>9s} {'vs pytorch':>11s} {'max |diff|':>11s}")
    for name, r in result["rows"].items():
        print(f"{name:24s} {r['ms']:9.1f} {r['images_s']:9.2f} {r['speed_vs_pytorch']:10.2f}x {r['max_diff']:11.2e}")
    if args.out:
        atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    run_script(main)
