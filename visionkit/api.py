"""The Python API: load a trained model and run it on images.

    from visionkit import load_model
    model = load_model("default-detector")          # or a checkpoint path
    results = model.predict("img.jpg")              # path, folder, glob, video, array, list
    results[0].boxes, results[0].labels, results[0].scores   # in the original image's pixels
    results[0].save("out.jpg")                      # the drawn prediction

Images are decoded with OpenCV (in worker threads, overlapping the model, with
``workers=N``), letterboxed to the model's training size, run in batches under
``torch.inference_mode``, and the outputs are mapped back to each original image.
Bad inputs do not stop a run: their :class:`Result` has ``error`` set and no predictions.

A detector's thresholds are arguments of each call (``predict(img, conf=0.5, iou=0.6,
max_det=50, classes=[2])``), passed to the model's own post-processing; nothing is stored, so a
value given once does not stick. The defaults are the ones ``visionkit detect`` and exported
models use: ``conf`` is the operating point stored in the weights (``tools/pack_model.py
--calibrate``), else :data:`DEFAULT_CONF`; ``iou`` and ``max_det`` are the model's own
(``model.nms_thresh``/``model.max_det`` of its config).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Optional, Sequence

import numpy as np
import torch

from .data.image import write_image
from .data.transforms import boxes_to_original, preprocess
from .engine.checkpoint import load_checkpoint
from .engine.device import resolve_device
from .engine.restore import build_from_checkpoint
from .errors import UserError, WeightsError
from .exported import is_exported, load_exported_model
from .models.common import fuse_conv_bn
from .models.detection.tta import FlipTTA, training_flips
from .registry import model_task
from .sources import Item, iter_sources, load_item
from .viz import draw_caption, draw_detections, draw_mask

ASSETS = Path(__file__).parent / "assets"
DEFAULT_CONF = 0.25  # a detector's score threshold when its weights store none (Ultralytics' predict default)


class Bundled(NamedTuple):
    """A model shipped in ``visionkit/assets``: what it is and what it knows (``visionkit models``)."""

    file: str  # in visionkit/assets
    task: str
    config: str  # the config that reproduces it
    domain: str
    data: str
    classes: tuple[str, ...]
    metric: str  # on the data set's test split
    card: str  # its model card


BUILTIN = {
    "default-detector": Bundled(
        "default_detector.pt", "detection", "configs/yolov1_bccd.yaml",
        "blood-smear microscopy", "BCCD", ("RBC", "WBC", "Platelets"),
        "test VOC07 mAP@0.5 0.860", "docs/model_cards/default_detector.md"),
    "default-segmenter": Bundled(
        "default_segmenter.pt", "segmentation", "configs/fcn8s_camvid.yaml",
        "road scenes (street-level video)", "CamVid",
        ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"),
        "test mIoU 0.613", "docs/model_cards/default_segmenter.md"),
}


@dataclass
class Result:
    """One image's prediction, in the original image's coordinates."""

    path: str
    task: str
    names: list[str] = field(default_factory=list)
    image: Optional[np.ndarray] = None  # HWC uint8 RGB
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))  # 1..K
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    mask: Optional[np.ndarray] = None  # H×W class indices
    captions: list[str] = field(default_factory=list)
    error: str = ""

    def plot(self) -> np.ndarray:
        """The image with the prediction drawn on it."""
        if self.image is None:
            raise UserError(f"{self.path}: no image to draw ({self.error or 'not kept'})")
        if self.task == "segmentation" and self.mask is not None:
            return draw_mask(self.image, self.mask, self.names)
        if self.task == "captioning":
            return draw_caption(self.image, self.captions[0] if self.captions else "")
        return draw_detections(self.image, self.boxes, self.labels, self.scores, self.names)

    def save(self, path: str | Path) -> None:
        """Write the drawn prediction (atomically; the format follows the file extension)."""
        write_image(path, self.plot())

    def summary(self) -> str:
        """``"3 RBC, 1 WBC"``, the classes present, or the caption."""
        if self.error:
            return f"error: {self.error}"
        if self.task == "captioning":
            return self.captions[0] if self.captions else ""
        if self.task == "segmentation":
            present = np.unique(self.mask) if self.mask is not None else []
            return ", ".join(self._name(int(v) + 1) for v in present) or "(nothing)"  # mask values are 0..K-1
        counts = np.bincount(np.asarray(self.labels, np.int64), minlength=1)
        parts = [f"{c} {self._name(i)}" for i, c in enumerate(counts) if c and i > 0]
        return ", ".join(parts) or "(no detections)"

    def _name(self, label: int) -> str:
        return self.names[label - 1] if 0 < label <= len(self.names) else str(label)

    def to_coco(self, image_id: int, cat_ids: Sequence[int] | None = None) -> list[dict]:
        """COCO results entries (``bbox`` = [x, y, w, h]) plus ``file_name`` and ``category_name``."""
        out = []
        for box, lab, score in zip(self.boxes.tolist(), self.labels.tolist(), self.scores.tolist()):
            x0, y0, x1, y1 = box
            cat = cat_ids[lab - 1] if cat_ids else lab
            out.append({"image_id": image_id, "category_id": int(cat), "bbox": [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                        "score": round(float(score), 5), "file_name": self.path, "category_name": self._name(lab)})
        return out


def resolve_weights(name_or_path: str | Path) -> Path:
    """A bundled model's name or a checkpoint path -> an existing file (or a clear error)."""
    key = str(name_or_path)
    if key in BUILTIN:
        path = ASSETS / BUILTIN[key].file
        if not path.is_file():
            raise WeightsError(
                f"{key}: the bundled weights ({path.name}) are not in this install; train them with "
                f"`python tools/train.py {BUILTIN[key].config}` and pass --weights runs/<name>/best.pt"
            )
        return path
    path = Path(key).expanduser()
    if not path.is_file():
        hint = f"; bundled models: {', '.join(BUILTIN)}" if not path.suffix else ""
        raise WeightsError(f"{path}: no such checkpoint file{hint}")
    return path


def load_model(name_or_checkpoint: str | Path = "default-detector", device: str = "auto", task: str | None = None) -> "Predictor":
    """A :class:`Predictor` for a bundled model name, a checkpoint trained with visionkit, or a
    file written by ``visionkit export`` (``.onnx``, ``.torchscript.pt``; run on the CPU by
    onnxruntime or torch.jit); ``task`` (e.g. ``"detection"``) rejects a model of another task
    with a clear error."""
    path = resolve_weights(name_or_checkpoint)
    if is_exported(path):  # ONNX / TorchScript from `visionkit export`: runs on the CPU
        model, cfg, classes, meta = load_exported_model(path)
        if task and model.task != task:
            raise WeightsError(f"{path}: a {model.task} model, not a {task} one")
        return Predictor(model, cfg, classes, torch.device("cpu"), name=str(name_or_checkpoint), cat_ids=meta.get("cat_ids"),
                         fuse=False, channels_last=False, recommended_conf=meta.get("conf"))
    ckpt = load_checkpoint(path, task=task)
    model, cfg, classes = build_from_checkpoint(ckpt)
    return Predictor(model, cfg, classes, resolve_device(device), name=str(name_or_checkpoint), cat_ids=ckpt.get("cat_ids"),
                     recommended_conf=ckpt.get("conf"))  # "conf": set by tools/pack_model.py --calibrate


class Predictor:
    def __init__(self, model, cfg, classes, device=torch.device("cpu"), name: str = "", cat_ids=None, fuse: bool = True,
                 channels_last: bool | None = None, recommended_conf: float | None = None):
        """``recommended_conf``: a detector's calibrated score threshold (the default ``conf``
        of every call; :data:`DEFAULT_CONF` when None).

        ``channels_last`` (default: on CPU only) stores conv weights and inputs NHWC, which
        oneDNN's convolutions run faster: forward time 0.83x for the default detector at 448²,
        0.73x for FCN-8s at 160², 0.98x for Faster R-CNN at 320² (1 thread, BN fused, measured
        for issue #9 on a busy 2-core CPU). Not measured on CUDA, so off there by default."""
        self.model, self.cfg, self.names = model.to(device).eval(), cfg, list(classes)
        if fuse:
            fuse_conv_bn(self.model)  # BN folded into the conv before it: fewer passes over memory
        self.channels_last = torch.device(device).type == "cpu" if channels_last is None else channels_last
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.device, self.name, self.cat_ids = device, name, cat_ids
        self.task = getattr(model, "task", "") or model_task(cfg)
        self.img_size, self.resize = cfg.data.img_size, cfg.data.resize
        self.recommended_conf = recommended_conf  # a detector's F1-optimal score threshold, when known
        self.conf = DEFAULT_CONF if recommended_conf is None else float(recommended_conf)  # the default of every call

    def predict(self, source, **kwargs) -> list[Result]:
        """Predictions for every image of ``source`` (see :meth:`stream` for the options)."""
        return list(self.stream(source, **kwargs))

    def stream(self, source, conf=None, iou=None, max_det=None, imgsz=None, classes: Sequence[int] | None = None,
               batch: int = 1, keep_image: bool = True, workers: int = 0, augment: bool = False) -> Iterator[Result]:
        """Yield one :class:`Result` per input image, in order, ``batch`` images per forward.

        Detection: ``conf`` (default :attr:`conf`: the calibrated one, else
        :data:`DEFAULT_CONF`), ``iou`` and ``max_det`` (default: the model's own) and
        ``classes`` (keep only those labels, 1..K) are this call's thresholds, passed to the
        model's post-processing; the model is not changed. ``augment`` (detection) merges the
        model's answers on the image and on the flips it was trained with
        (:class:`~visionkit.models.detection.tta.FlipTTA`): one forward pass per view.

        ``workers > 0`` decodes and letterboxes the next images in that many threads while the
        model runs on the current batch (OpenCV and torch release the GIL, so threads run in
        parallel without pickling images between processes). At most ``max(2 * batch,
        workers)`` images are prepared ahead, so memory stays bounded on any folder size. The
        results are the same, in the same order, bad items included, as with ``workers=0``
        (everything in this thread, one image after the other)."""
        model = self._augmented() if augment else self.model
        post = {}
        if self.task == "detection":
            post = {"conf": self.conf if conf is None else conf, "iou": iou, "max_det": max_det,
                    "classes": list(classes) if classes else None}
        size, batch = imgsz or self.img_size, max(batch, 1)
        items = iter_sources(source, decode=workers <= 0)
        prepare = partial(_prepare, size=size, resize=self.resize)
        if workers > 0:
            prepared = prefetch(items, prepare, workers, ahead=max(2 * batch, workers))
        else:
            prepared = map(prepare, items)
        try:
            pending: list[tuple] = []
            for item, tensor, meta in prepared:
                if item.error:
                    yield from self._run(model, pending, post, keep_image)
                    pending = []
                    yield Result(item.name, self.task, self.names, error=item.error)
                    continue
                pending.append((item, tensor, meta))
                if len(pending) >= batch:
                    yield from self._run(model, pending, post, keep_image)
                    pending = []
            yield from self._run(model, pending, post, keep_image)
        finally:  # the caller may stop early: stop the threads, release an open video capture
            if workers > 0:
                prepared.close()
            items.close()

    def _augmented(self) -> torch.nn.Module:
        if self.task != "detection":
            raise UserError(f"{self.name}: --augment (flip test-time augmentation) is for detection models, not {self.task}")
        return FlipTTA(self.model, training_flips(self.cfg.data.augment)).eval()

    @torch.inference_mode()
    def _run(self, model, prepared: list[tuple], post: dict, keep_image: bool) -> Iterator[Result]:
        """The model on a batch of ``(item, tensor, meta)`` with this call's thresholds
        ``post``; predictions in original pixels."""
        if not prepared:
            return
        items, tensors, metas = zip(*prepared)
        same = all(t.shape == tensors[0].shape for t in tensors)
        batch = torch.stack(tensors).to(self.device) if same else [t.to(self.device) for t in tensors]
        if self.channels_last and same:
            batch = batch.contiguous(memory_format=torch.channels_last)
        outputs = model(batch, **post)
        for item, out, meta in zip(items, outputs, metas):
            res = Result(item.name, self.task, self.names, item.image if keep_image else None)
            if "boxes" in out:
                res.boxes = boxes_to_original(out["boxes"].float().cpu(), meta).numpy()
                res.labels = out["labels"].cpu().numpy()
                res.scores = out["scores"].float().cpu().numpy()
            if "masks" in out:
                res.mask = _mask_to_original(out, meta)
            if "captions" in out:
                res.captions = list(out["captions"])
            yield res


def _prepare(item: Item, size, resize: str) -> tuple:
    """``(item, CHW float tensor, meta)`` ready for the model: the image file decoded if it was
    not yet, then letterboxed; ``(item, None, None)`` for a bad item."""
    item = load_item(item)
    if item.error:
        return item, None, None
    return (item, *preprocess(item.image, size, resize))


def prefetch(items: Iterable, fn: Callable, workers: int, ahead: int) -> Iterator:
    """``fn(item)`` for each item, in input order, computed by ``workers`` threads while the
    caller consumes earlier results; at most ``ahead`` results wait or run at a time (bounded
    memory). ``items`` is pulled in the caller's thread (a video is read in order); an
    exception in ``fn`` is raised here, at its item; stopping early cancels what is queued."""
    queue: deque[Future] = deque()
    with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="visionkit-prefetch") as pool:
        try:
            for item in items:
                queue.append(pool.submit(fn, item))
                if len(queue) > ahead:
                    yield queue.popleft().result()
            while queue:
                yield queue.popleft().result()
        finally:
            for fut in queue:
                fut.cancel()


def _mask_to_original(out: dict, meta: dict) -> np.ndarray:
    """Crop the letterbox padding and resize to the original size (logits bilinearly, then
    arg-max; a bare class map by nearest neighbour)."""
    import torch.nn.functional as F

    h, w = meta["orig_size"]
    sx, sy = meta["scale"]
    left, top = meta["pad"]
    nh, nw = max(1, round(h * sy)), max(1, round(w * sx))
    if out.get("logits") is not None:
        lg = out["logits"][:, top : top + nh, left : left + nw].float()
        return F.interpolate(lg[None], size=(h, w), mode="bilinear", align_corners=False)[0].argmax(0).cpu().numpy()
    m = out["masks"][top : top + nh, left : left + nw].float()
    return F.interpolate(m[None, None], size=(h, w), mode="nearest")[0, 0].long().cpu().numpy()
