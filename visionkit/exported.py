"""Run an exported model (ONNX through onnxruntime, TorchScript through ``torch.jit``) where a
trained checkpoint runs: ``visionkit detect``/``segment``, :func:`visionkit.load_model` and
``visionkit eval`` accept ``--weights model.onnx``.

``visionkit export`` stores what the runtime needs beside the graph: the run's config, the
class names, a detector's calibrated score threshold and COCO category ids (ONNX
``metadata_props`` key ``visionkit``; a TorchScript extra file ``visionkit.json``). An
:class:`ExportedModel` is a parameter-free :class:`torch.nn.Module` with the eval-mode
interface of the model it came from, ``model(batch, conf=, iou=, max_det=, classes=) ->
list[dict]``, so the predictor and the evaluator need no special path. The graph holds the
model's default thresholds (``score_thresh``, ``nms_thresh``, ``max_det`` in the metadata): its
input size and NMS IoU are fixed at export (another ``iou`` is refused); a call's higher
``conf``, lower ``max_det`` and ``classes`` are applied to its output.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import build_config, to_dict
from .errors import ConfigError, UserError, WeightsError
from .models.detection.postprocess import Thresholds, keep_classes
from .registry import model_task
from .utils.values import is_finite_number

META_KEY = "visionkit"
TORCHSCRIPT_META = "visionkit.json"


def is_exported(path: str | Path) -> bool:
    """Whether ``path`` names an exported graph rather than a checkpoint."""
    name = str(path).lower()
    return name.endswith(".onnx") or name.endswith(".torchscript") or name.endswith(".torchscript.pt")


def input_hw(img_size) -> tuple[int, int]:
    """``data.img_size`` (an int or [h, w]) as the fixed (h, w) an export needs."""
    if isinstance(img_size, int):
        return img_size, img_size
    if isinstance(img_size, (list, tuple)) and len(img_size) == 2:
        return int(img_size[0]), int(img_size[1])
    raise UserError(f"cannot export without a fixed input size (data.img_size is {img_size!r}); pass --imgsz")


def as_numpy(out) -> list[np.ndarray]:
    """A model's tensor or tuple/list of tensors as a list of numpy arrays."""
    return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else (out,))]


def load_exported(path: str | Path, threads: int = 0, spin: bool = True):
    """An exported file as a callable ``images -> list of numpy outputs`` (ONNX through one
    onnxruntime session, TorchScript through ``torch.jit.load``); ``threads`` > 0 sets
    onnxruntime's intra-op threads (TorchScript follows ``torch.set_num_threads``).
    ``spin=False`` stops onnxruntime's threads from busy-waiting for the next call: they
    would take the cores from the image decoding that a predictor does between calls."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnxruntime as ort  # lazy: an optional extra (pip install visionkit[export])

        opts = ort.SessionOptions()
        if threads > 0:
            opts.intra_op_num_threads = threads
        if not spin:
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return lambda images: sess.run(None, {name: images.numpy()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = torch.jit.load(str(path), map_location="cpu")

    def run(images: torch.Tensor) -> list[np.ndarray]:
        with torch.no_grad():
            return as_numpy(module(images))
    return run


def run_exported(path: str | Path, images: torch.Tensor) -> list[np.ndarray]:
    """Run an exported file once (ONNX through onnxruntime, TorchScript through torch.jit)."""
    return load_exported(path)(images)


def export_meta(model: nn.Module, cfg, classes, ckpt: dict | None = None) -> dict:
    """What the runtime needs beside the graph (see the module docstring). A detector's
    thresholds are its defaults, ``model.thresholds``: the values the traced graph holds
    (``None`` for other tasks); ``conf`` is the calibrated operating point, if the checkpoint
    has one."""
    ckpt = ckpt or {}
    meta = {"config": to_dict(cfg), "task": getattr(model, "task", "") or model_task(cfg), "classes": list(classes),
            "conf": ckpt.get("conf"), "cat_ids": ckpt.get("cat_ids")}
    t = getattr(model, "thresholds", None)  # a detector's
    meta.update(score_thresh=t.conf if t else None, nms_thresh=t.iou if t else None, max_det=t.max_det if t else None)
    return meta


def read_meta(path: str | Path) -> dict:
    """The ``visionkit`` metadata of an exported file (a clear error when it has none)."""
    path = Path(path)
    raw = None
    try:
        if path.suffix == ".onnx":
            import onnx  # lazy: an optional extra (pip install visionkit[export])

            model = onnx.load(str(path), load_external_data=False)
            raw = next((p.value for p in model.metadata_props if p.key == META_KEY), None)
        else:
            files = {TORCHSCRIPT_META: ""}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.jit's deprecation notice
                torch.jit.load(str(path), map_location="cpu", _extra_files=files)
            raw = files[TORCHSCRIPT_META] or None
    except Exception as e:  # a truncated or foreign file: say which and why, in one line
        raise WeightsError(f"{path}: not a readable exported model ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if not raw:
        raise WeightsError(f"{path}: no visionkit metadata (config, classes); export it with `visionkit export`")
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as e:
        raise WeightsError(f"{path}: its visionkit metadata is not JSON ({e})") from None
    check_meta(meta, path)
    return meta


MAX_SIDE = 8192  # an export's fixed input side; larger is a corrupt or hostile file, not a model


def check_meta(meta, path) -> None:
    """Refuse metadata that is malformed or out of range with one :class:`WeightsError`, before
    any of it sizes an allocation or reaches a model (the file may come from anywhere)."""
    def bad(what: str):
        raise WeightsError(f"{path}: bad visionkit metadata: {what}")

    if not isinstance(meta, dict):
        bad("not a JSON object")
    if not isinstance(meta.get("config"), dict):
        bad("'config' is not a mapping")
    classes = meta.get("classes")
    if classes is not None and not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        bad("'classes' is not a list of names")
    task = meta.get("task")
    if task is not None and not isinstance(task, str):
        bad("'task' is not a name")
    size = meta.get("img_size")
    sides = size if isinstance(size, list) else [size]
    if size is not None and not (len(sides) in (1, 2) and all(isinstance(v, int) and not isinstance(v, bool)
                                                              and 1 <= v <= MAX_SIDE for v in sides)):
        bad(f"'img_size' {json.dumps(size)[:40]} is not a size of 1..{MAX_SIDE} pixels")
    for key, lo, hi in (("score_thresh", 0, 1), ("conf", 0, 1), ("nms_thresh", 0, 1)):
        v = meta.get(key)
        if v is not None and not (is_finite_number(v) and lo <= v <= hi):
            bad(f"{key!r} {json.dumps(v)[:40]} is not a number in [{lo}, {hi}]")
    max_det = meta.get("max_det")
    if max_det is not None and not (isinstance(max_det, int) and not isinstance(max_det, bool) and 1 <= max_det <= 100_000):
        bad(f"'max_det' {json.dumps(max_det)[:40]} is not a count of 1..100000")
    cat_ids = meta.get("cat_ids")
    if cat_ids is not None and not (isinstance(cat_ids, list) and all(isinstance(c, int) and not isinstance(c, bool) for c in cat_ids)):
        bad("'cat_ids' is not a list of integer ids")


class ExportedModel(nn.Module):
    """An exported graph behind the model interface (eval mode only, on the CPU)."""

    def __init__(self, path: str | Path, task: str, img_hw: tuple[int, int], score_thresh: float = 0.0,
                 nms_thresh: float | None = None, max_det: int = 100, threads: int = 0):
        super().__init__()
        self.path, self.task, self.img_hw = str(path), task, tuple(img_hw)
        self._run = load_exported(path, threads, spin=False)  # the caller decodes images between calls
        self.nms_fixed = nms_thresh is not None
        self.thresholds = Thresholds(float(score_thresh), 0.5 if nms_thresh is None else float(nms_thresh), int(max_det))

    def train(self, mode: bool = True) -> "ExportedModel":
        if mode:
            raise UserError(f"{self.path}: an exported model runs inference only; train its checkpoint instead")
        return super().train(False)

    def forward(self, images, *, conf: float | None = None, iou: float | None = None, max_det: int | None = None,
                classes: list[int] | None = None) -> list[dict]:
        if self.training:
            raise UserError(f"{self.path}: an exported model runs inference only")
        if iou is not None and self.nms_fixed and abs(float(iou) - self.thresholds.iou) > 1e-9:
            raise UserError(f"{self.path}: the NMS IoU is fixed at export ({self.thresholds.iou}); re-export the checkpoint to change it")
        post = self.thresholds.override(conf, None, max_det, classes)
        return [self._one(img, post) for img in images]  # the graph was traced at batch 1

    def _one(self, image: torch.Tensor, post: Thresholds) -> dict:
        if tuple(image.shape[-2:]) != self.img_hw:
            raise UserError(f"{self.path}: exported for {self.img_hw[0]}x{self.img_hw[1]} inputs, got "
                            f"{image.shape[-2]}x{image.shape[-1]}; re-export with --imgsz or drop --imgsz")
        x = torch.from_numpy(np.ascontiguousarray(image.detach().float().cpu().numpy()))[None]
        outs = [torch.from_numpy(np.asarray(o)) for o in self._run(x)]
        if self.task == "detection":
            boxes, scores, labels = outs
            labels = labels.long()
            keep = (scores >= post.conf) & keep_classes(labels, post.classes)
            order = scores[keep].argsort(descending=True)[: post.max_det]
            return {"boxes": boxes[keep][order], "scores": scores[keep][order], "labels": labels[keep][order]}
        logits = outs[0][0]
        if self.task == "segmentation":
            return {"logits": logits, "masks": logits.argmax(0)}
        return {"logits": logits}


def load_exported_model(path: str | Path, threads: int = 0):
    """``(model, cfg, classes, meta)`` for an exported file written by ``visionkit export``."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such exported model file")
    meta = read_meta(path)
    try:
        cfg = build_config(meta["config"], source=f"{path.name} metadata")
    except (ConfigError, KeyError) as e:
        raise WeightsError(f"{path}: its stored config is not valid here: {e}") from None
    max_det = meta.get("max_det")
    model = ExportedModel(path, meta.get("task") or model_task(cfg), input_hw(meta.get("img_size") or cfg.data.img_size),
                          score_thresh=float(meta.get("score_thresh") or 0.0), nms_thresh=meta.get("nms_thresh"),
                          max_det=int(max_det) if max_det else 100, threads=threads)
    return model.eval(), cfg, list(meta.get("classes") or []), meta
