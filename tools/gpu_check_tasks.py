"""The in-process parts of ``tools/gpu_check.py``, each run by it in a child process:

* ``machine OUT.json``: the hardware and library versions the check ran with;
* ``data DIR``: tiny stand-ins for the shared data sets, in the layouts the preset configs read
  (``DIR/bccd`` VOC, ``DIR/camvid`` CamVid masks, ``DIR/fashion-mnist`` IDX,
  ``DIR/coco-captions`` COCO captions), so that every preset trains with
  ``VISIONKIT_DATA=DIR`` and no download;
* ``bench NAME --device D --batches 1 32 --out OUT.json``: images/s of a bundled model,
  network alone (a random batch already on the device; decode, NMS or upsampling included;
  float32, and on CUDA fp16/bf16 autocast, NCHW and channels-last) and end to end
  (``load_model(NAME).predict`` from files, batch B, as a user gets it).

Only ``machine`` and ``bench`` import torch and visionkit; ``data`` needs numpy and OpenCV.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import struct
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------ machine


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.machine())
    except OSError:
        return platform.processor() or platform.machine()


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception as e:  # noqa: BLE001 - a missing or broken package is reported, not raised
        return f"missing ({type(e).__name__})"


def machine_info() -> dict:
    """GPU, CUDA, cuDNN, driver, CPU and library versions, as one flat dict."""
    import torch
    import torchvision

    import visionkit
    from visionkit.engine.device import cpu_has_bf16

    info = {
        "cpu": _cpu_name(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpu_native_bf16": cpu_has_bf16(),
        "python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
        "onnxruntime": _version("onnxruntime"), "visionkit": f"{visionkit.__version__} ({Path(visionkit.__file__).parent})",
        "cuda_available": torch.cuda.is_available(), "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "nccl": ".".join(map(str, torch.cuda.nccl.version())) if torch.cuda.is_available() else None,
    }
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(gpu=p.name, gpu_count=torch.cuda.device_count(), gpu_capability=f"{p.major}.{p.minor}",
                    gpu_memory_gib=round(p.total_memory / 2**30, 1), gpu_bf16=torch.cuda.is_bf16_supported())
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20)
            info["driver"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
        except (OSError, subprocess.TimeoutExpired):
            info["driver"] = None
    return info


# --------------------------------------------------------------------------------- data

BCCD = ["RBC", "WBC", "Platelets"]
CAMVID = 11  # classes 0..10; 11 is void (ignored), as configs/fcn8s_camvid.yaml says
WORDS = ["a", "cat", "dog", "sits", "runs", "on", "the", "mat", "grass", "small", "red", "ball"]


def _write_image(path: Path, rgb) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    arr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    if not cv2.imwrite(str(path), arr):
        raise OSError(f"could not write {path}")


def _voc(root: Path, rng, n: int = 12) -> None:
    """BCCD-like VOC: 160x120 blood-smear stand-ins, 1-4 boxes of the three BCCD classes."""
    import numpy as np

    ids = [f"img_{i:03d}" for i in range(n)]
    for iid in ids:
        img = rng.integers(150, 220, (120, 160, 3), dtype=np.uint8)
        objs = []
        for _ in range(int(rng.integers(1, 5))):
            k = int(rng.integers(0, 3))
            s = int(rng.integers(12, 40))
            x1, y1 = int(rng.integers(0, 160 - s)), int(rng.integers(0, 120 - s))
            img[y1:y1 + s, x1:x1 + s] = (200 - 60 * k, 60 + 50 * k, 90)
            objs.append(f"<object><name>{BCCD[k]}</name><difficult>0</difficult><bndbox><xmin>{x1 + 1}</xmin>"
                        f"<ymin>{y1 + 1}</ymin><xmax>{x1 + s}</xmax><ymax>{y1 + s}</ymax></bndbox></object>")
        _write_image(root / "JPEGImages" / f"{iid}.jpg", img)
        xml = (f"<annotation><filename>{iid}.jpg</filename><size><width>160</width><height>120</height>"
               f"<depth>3</depth></size>{''.join(objs)}</annotation>\n")
        (root / "Annotations").mkdir(parents=True, exist_ok=True)
        (root / "Annotations" / f"{iid}.xml").write_text(xml)
    sets = root / "ImageSets" / "Main"
    sets.mkdir(parents=True, exist_ok=True)
    splits = {"trainval": ids[:8], "train": ids[:6], "val": ids[6:8], "test": ids[8:]}
    for name, members in splits.items():
        (sets / f"{name}.txt").write_text("\n".join(members) + "\n")


def _camvid(root: Path, rng, per_split: int = 4) -> None:
    """CamVid layout: <split>.txt pairs, 120x90 images, class-index PNG masks with void pixels."""
    import numpy as np

    for split in ("train", "val", "test"):
        lines = []
        for i in range(per_split):
            mask = np.repeat(np.arange(CAMVID, dtype=np.uint8), 11)[None, :120].repeat(90, 0)
            mask = np.roll(mask, int(rng.integers(0, 120)), axis=1)
            mask[:3] = CAMVID  # a void band
            img = (mask[..., None] * 20 + rng.integers(0, 30, (90, 120, 3))).astype(np.uint8)
            _write_image(root / split / f"f{i}.png", img)
            _write_image(root / f"{split}annot" / f"f{i}.png", mask)
            lines.append(f"{split}/f{i}.png {split}annot/f{i}.png")
        (root / f"{split}.txt").write_text("\n".join(lines) + "\n")


def _write_idx(path: Path, arr) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype("uint8").tobytes())


def _idx(root: Path, rng, n_train: int = 256, n_test: int = 64) -> None:
    """Fashion-MNIST layout: 28x28 gray images whose brightness encodes the label."""
    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, (n, 28, 28)) + labels[:, None, None] * 20
        _write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)


def _captions(root: Path, rng) -> None:
    """COCO captions: 8 train and 4 test images, 3 captions each from a 12-word vocabulary (every
    word used at least 5 times, the vocabulary's default minimum)."""
    import numpy as np

    for split, ids in (("train", range(1, 9)), ("test", range(9, 13))):
        images, anns = [], []
        for i in ids:
            _write_image(root / "images" / f"{i}.jpg", rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
            images.append({"id": i, "file_name": f"{i}.jpg"})
            for k in range(3):
                words = [WORDS[j] for j in rng.integers(0, len(WORDS), 6)]
                anns.append({"id": 100 * i + k, "image_id": i, "caption": " ".join(words) + "."})
        (root / f"captions_{split}.json").write_text(json.dumps({"images": images, "annotations": anns}))


def make_data(out: str | Path) -> dict[str, str]:
    """Write the four tiny data sets under ``out``; returns {name: folder}."""
    import numpy as np

    out = Path(out)
    rng = np.random.default_rng(0)
    made = {"bccd": _voc, "camvid": _camvid, "fashion-mnist": _idx, "coco-captions": _captions}
    for name, build in made.items():
        build(out / name, rng)
    return {name: str(out / name) for name in made}


# -------------------------------------------------------------------------------- bench


def _timed(fn, sync, warmup: int, passes: int, iters: int) -> float:
    """Median seconds of one call of ``fn`` over ``passes`` timed passes of ``iters`` calls,
    after ``warmup`` untimed calls; the device is synchronised around every pass."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(passes):
        t = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        times.append((time.perf_counter() - t) / iters)
    return statistics.median(times)


def bench(name: str, device: str, batches: list[int], passes: int, warmup: int) -> list[dict]:
    """images/s of the bundled model ``name`` at each batch size: ``network`` (float32, and
    float16/bfloat16 autocast on CUDA) and ``end to end`` (files -> results, float32)."""
    import torch

    from visionkit import load_model

    pred = load_model(name, device=device)
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    size = pred.img_size
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    files = sorted(str(p) for p in (ROOT / "data" / "samples").glob("*.jpg"))
    modes = [("fp32", None)] + ([("fp16", torch.float16), ("bf16", torch.bfloat16)] if dev.type == "cuda" else [])
    # the predictor's own memory format (NCHW on CUDA, channels-last on the CPU); on CUDA also the other
    layouts = [pred.channels_last] + ([not pred.channels_last] if dev.type == "cuda" else [])
    rows = []
    for b in batches:
        iters = max(1, 32 // b) if dev.type == "cuda" else 1
        for cl in layouts:
            fmt = torch.channels_last if cl else torch.contiguous_format
            pred.model.to(memory_format=fmt)
            x = torch.rand(b, 3, h, w, device=dev, generator=torch.Generator(dev).manual_seed(0)).contiguous(memory_format=fmt)
            for mode, dtype in modes:
                def forward():
                    with torch.inference_mode(), torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                        pred.model(x)
                label = f"network {mode}{' channels-last' if cl else ''}"
                rows.append(_row(name, b, label, (h, w), lambda: _timed(forward, sync, warmup, passes, iters)))
        pred.model.to(memory_format=torch.channels_last if pred.channels_last else torch.contiguous_format)
        paths = (files * (-(-b // len(files))))[:b]
        predict = lambda: pred.predict(paths, batch=b, keep_image=False, workers=4)  # noqa: E731
        rows.append(_row(name, b, "end to end fp32 (files)", (h, w), lambda: _timed(predict, sync, min(warmup, 1), passes, 1)))
    return rows


def _row(name: str, batch: int, path: str, hw, measure) -> dict:
    """One table row: ``measure()`` seconds per batch as ms and images/s, or the error it raised
    (one mode failing, fp16 say, leaves the other rows standing)."""
    row = {"model": name, "batch": batch, "path": path, "input": f"{hw[0]}x{hw[1]}"}
    try:
        s = measure()
    except Exception as e:  # noqa: BLE001 - reported in the table
        return {**row, "ms_per_batch": None, "images_per_s": None, "error": f"{type(e).__name__}: {e}"[:200]}
    return {**row, "ms_per_batch": round(1000 * s, 3), "images_per_s": round(batch / s, 1)}


# --------------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="task", required=True)
    sub.add_parser("machine").add_argument("out")
    sub.add_parser("data").add_argument("out")
    b = sub.add_parser("bench")
    b.add_argument("name")
    b.add_argument("--device", default="cuda")
    b.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    b.add_argument("--passes", type=int, default=5)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.task == "machine":
        result = machine_info()
    elif args.task == "data":
        result = make_data(args.out)
    else:
        result = bench(args.name, args.device, args.batches, args.passes, args.warmup)
    text = json.dumps(result, indent=1)
    if args.task != "data":
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
