"""Export a trained model to ONNX or TorchScript, and check the export against PyTorch.

The exported graph takes one image batch ``N×3×H×W`` (float, [0, 1], at the size the model
was trained at: letterbox first, as :func:`visionkit.data.transforms.preprocess` does) and
returns plain tensors:

* detection: ``boxes`` (M×4 xyxy pixels of the input), ``scores`` (M), ``labels`` (M, 1..K)
  for the first image, post-processing included at the model's default thresholds
  (``model.thresholds``, stored in the file's metadata by :func:`visionkit.exported.export_meta`);
* segmentation / classification: ``logits``.

Both formats are produced by tracing. The traced graph fixes the input size (detectors decode
their grid and clip boxes at that size), so ``--imgsz`` picks it; convolutional segmenters
also keep their padding/cropping fixed at that size.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import UserError
from .exported import META_KEY, TORCHSCRIPT_META, as_numpy, input_hw, run_exported
from .utils.io import atomic_save

FORMATS = ("onnx", "torchscript")
TASKS = ("detection", "segmentation", "classification")


class ExportWrapper(nn.Module):
    """The model's eval-mode output, at its default thresholds, as plain tensors, for tracing."""

    def __init__(self, model: nn.Module, task: str):
        super().__init__()
        self.model, self.task = model, task

    def forward(self, images: torch.Tensor):
        out = self.model(images)
        if self.task == "detection":
            return out[0]["boxes"], out[0]["scores"], out[0]["labels"]
        return torch.stack([o["logits"] for o in out])  # segmentation, classification


def export_model(model: nn.Module, task: str, fmt: str, out: str | Path, img_size, opset: int = 17,
                 meta: dict | None = None) -> Path:
    """Trace ``model`` at ``img_size`` and write ``out`` (ONNX or TorchScript), atomically.
    ``meta`` (:func:`visionkit.exported.export_meta`: config, classes, thresholds) is stored
    in the file, so that :mod:`visionkit.exported` can run it like a checkpoint."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    if task not in TASKS:
        raise UserError(f"export supports {', '.join(TASKS)} models, not {task or 'this model'!r}")
    h, w = input_hw(img_size)
    wrapper = ExportWrapper(model.eval(), task).eval()
    example = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    out = Path(out)
    names = ["boxes", "scores", "labels"] if task == "detection" else ["logits"]
    text = json.dumps({**meta, "img_size": [h, w]}) if meta is not None else None

    def write_onnx(tmp: Path) -> None:
        torch.onnx.export(wrapper, (example,), str(tmp), input_names=["images"], output_names=names, opset_version=opset, dynamo=False)
        if text is not None:
            import onnx  # lazy: an optional extra (pip install visionkit[export])

            graph = onnx.load(str(tmp))
            onnx.helper.set_model_props(graph, {META_KEY: text})
            onnx.save(graph, str(tmp))

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about sizes frozen as constants: intended
        if fmt == "onnx":
            atomic_save(out, write_onnx)
        else:
            traced = torch.jit.trace(wrapper, (example,), check_trace=False)
            extra = {TORCHSCRIPT_META: text} if text is not None else {}
            atomic_save(out, lambda tmp: traced.save(str(tmp), _extra_files=extra))
    return out


def max_abs_diff(ref: list[np.ndarray], got: list[np.ndarray]) -> float:
    """Largest absolute difference between two output lists (``inf`` when their shapes differ)."""
    if [r.shape for r in ref] != [g.shape for g in got]:
        return float("inf")
    return max((float(np.abs(r.astype(np.float64) - g.astype(np.float64)).max()) if r.size else 0.0) for r, g in zip(ref, got))


def check_export(model: nn.Module, task: str, path: str | Path, img_size, seed: int = 1) -> float:
    """Largest absolute difference between PyTorch and the exported file on a fresh input."""
    h, w = input_hw(img_size)
    images = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ref = as_numpy(ExportWrapper(model.eval(), task)(images))
    return max_abs_diff(ref, run_exported(path, images))
