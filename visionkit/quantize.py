"""Post-training int8 quantisation of an exported ONNX model (onnxruntime's static quantiser).

    visionkit export --weights W --int8                 # calibrated on the config's train images
    visionkit export --weights W --int8 --calib photos/ # or on any folder / glob of images

The convolutions and matrix products get int8 weights (per output channel) and uint8
activations whose ranges are measured on calibration images, preprocessed exactly as
``visionkit detect`` does (letterbox to the export's input size); each range is the
0.001–99.999 percentile of the activation's histogram, so a few outliers do not waste the
256 levels. The first convolution (raw pixels) and the last (the predictions) stay float32, as
does everything else, a detector's box decoding and NMS included. On the default detector
these two choices take the test-mAP cost from 0.029 (plain min–max, every layer) to none
(docs/RESULTS.md). onnxruntime's histogram calibrator holds every activation of every
calibration image at once (about 0.3 GB per image for the default detector at 448²), hence
the modest default of 16 images.
onnxruntime runs the result with integer kernels (VNNI where the CPU has it). The file keeps
the source's ``visionkit`` metadata, so it runs and is scored like any export:
``visionkit eval CONFIG --weights model.int8.onnx`` tells what the quantisation cost.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from .data.transforms import preprocess
from .engine.build import build_dataset
from .errors import DataError
from .exported import META_KEY
from .sources import iter_sources, load_item
from .utils.io import atomic_save

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over a list of input arrays."""

    def __init__(self, name: str, arrays: list[np.ndarray]):
        self.name, self.arrays, self.i = name, arrays, 0

    def get_next(self) -> dict | None:
        if self.i >= len(self.arrays):
            return None
        self.i += 1
        return {self.name: self.arrays[self.i - 1]}

    def rewind(self) -> None:
        self.i = 0


def calibration_images(cfg, img_hw: tuple[int, int], source: str | None = None, n: int = 16) -> list[torch.Tensor]:
    """Up to ``n`` images as the exported graph sees them: from ``source`` (a folder, glob or
    list of image files) or else the config's training split."""
    size = list(img_hw)
    out = []
    if source:
        for item in iter_sources(source, decode=False):
            item = load_item(item)
            if not item.error:
                out.append(preprocess(item.image, size, cfg.data.resize)[0])
            if len(out) >= n:
                break
        if not out:
            raise DataError(f"{source}: no readable calibration images")
        return out

    dataset = build_dataset(cfg, "train", False)
    step = max(len(dataset) // n, 1)  # spread over the split
    for i in range(0, len(dataset), step):
        image = dataset.raw(i)[0]
        out.append(preprocess(np.asarray(image), size, cfg.data.resize)[0])
        if len(out) >= n:
            break
    if not out:
        raise DataError(f"{cfg.data.root}: the training split has no images to calibrate on; pass --calib IMAGES")
    return out


def quantize_onnx(src: str | Path, dst: str | Path, images: Iterable[torch.Tensor], per_channel: bool = True) -> Path:
    """Write ``dst``: ``src`` with int8 convolutions / matmuls calibrated on ``images`` (CHW
    float tensors at the graph's input size); the ``visionkit`` metadata is carried over
    with ``"int8": {...}`` added. Written atomically."""
    import onnx  # lazy: onnx and onnxruntime are optional extras (pip install visionkit[export])
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static


    src, dst = Path(src), Path(dst)
    source = onnx.load(str(src))
    name = source.graph.input[0].name
    arrays = [np.ascontiguousarray(t[None].numpy().astype(np.float32)) for t in images]
    meta = {p.key: p.value for p in source.metadata_props}

    layers = [n.name for n in source.graph.node if n.op_type in QUANTIZED_OPS]
    keep_float = [layers[0], layers[-1]] if len(layers) > 2 else []

    def write(tmp: Path) -> None:
        with _quiet():  # the calibrator prints its progress and logs advice on the root logger
            quantize_static(str(src), str(tmp), _Reader(name, arrays), quant_format=QuantFormat.QDQ,
                            op_types_to_quantize=list(QUANTIZED_OPS), per_channel=per_channel,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=keep_float, calibrate_method=CalibrationMethod.Percentile)
        model = onnx.load(str(tmp))
        if META_KEY in meta:
            info = json.loads(meta[META_KEY])
            info["int8"] = {"calibration_images": len(arrays), "per_channel": per_channel, "ops": list(QUANTIZED_OPS),
                            "float_layers": keep_float, "calibration": "percentile 99.999"}
            meta[META_KEY] = json.dumps(info)
        onnx.helper.set_model_props(model, meta)
        onnx.save(model, str(tmp))

    atomic_save(dst, write)
    return dst



@contextlib.contextmanager
def _quiet():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)
