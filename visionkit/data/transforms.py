"""Box- and mask-aware transforms: training augmentation (albumentations) + a final resize.

Every transformed sample is ``(image, target)`` with ``image`` a float32 CHW tensor in [0, 1]
(RGB, *not* mean/std normalised -- each model normalises its own input) and ``target`` the
reader's target with tensors, boxes and masks in the *transformed* image's pixels (``masks``
is a segmentation sample's H×W class map, or a detection sample's N×H×W instance masks
beside its ``boxes``), and
``target["meta"] = {"orig_size": (h, w), "scale": (sx, sy), "pad": (left, top)}``.

The pipeline has three stages:

1. **Spatial augmentation** (training only; albumentations, so boxes and masks move with the
   pixels): a random crop from the borders (``random_crop``: boxes cut by the crop are
   clipped, and dropped when less than ``min_visibility`` of them is left), flips.
2. **Resize to the network's input** (deterministic, written here because its exact
   arithmetic is what maps predictions back): ``letterbox`` keeps the aspect ratio and pads
   the short side (grey 114, the ignore index for masks) to ``img_size``; ``stretch``
   resizes to ``img_size`` exactly; ``longest`` scales the longest side to ``img_size``
   (no pad; sizes vary); ``none`` keeps the image. A point maps as
   ``x' = x * sx + left``, ``y' = y * sy + top``, so
   :func:`boxes_to_original` inverts it: ``x = (x' - left) / sx``.
3. **Canvas augmentation** (training only; albumentations) on the resized image, where it is
   cheapest: scale jitter as a zoom in or out of the content (``A.Affine``; objects change
   size relative to the fixed network input -- a rescale *before* a letterbox would be undone
   by it), then colour jitter (``ColorJitter``).

Evaluation uses stage 2 only, so it is deterministic, and detection targets then also carry
``orig_boxes`` (the boxes in the original image, for the metric). During training the meta
describes stage 2 relative to the augmented image, not the original file.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import cv2
import numpy as np
import torch

from ..errors import ConfigError

PAD_VALUE = 114  # grey letterbox border (YOLO's convention): no strong edge for the network
RESIZE_MODES = ("letterbox", "stretch", "longest", "none")
ALBU_MASK = "mask"  # albumentations' keyword for one mask that moves with the image


def _class_map(target: dict) -> bool:
    """Whether ``target["masks"]`` is a segmentation class map (H×W) rather than a detection
    target's instance masks (N×H×W, next to ``boxes``)."""
    return "masks" in target and "boxes" not in target


# --------------------------------------------------------------------------- geometry


def parse_size(img_size: Any) -> Optional[tuple[int, int]]:
    """``512`` -> (512, 512); ``[384, 640]`` -> (384, 640) as (h, w); 0/None -> None."""
    if img_size is None or img_size == 0:
        return None
    if isinstance(img_size, (int, np.integer)):
        return int(img_size), int(img_size)
    h, w = img_size
    return int(h), int(w)


def plan_resize(h: int, w: int, img_size: Any, resize: str = "letterbox"):
    """-> (new_h, new_w, out_h, out_w, left, top): resize to new, then pad to out."""
    if resize not in RESIZE_MODES:
        raise ConfigError(f"data.resize: unknown mode {resize!r}; valid: {', '.join(RESIZE_MODES)}")
    size = parse_size(img_size)
    if size is None or resize == "none":
        return h, w, h, w, 0, 0
    H, W = size
    if resize == "stretch":
        return H, W, H, W, 0, 0
    if resize == "longest":
        s = max(H, W) / max(h, w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        return nh, nw, nh, nw, 0, 0
    s = min(H / h, W / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    return nh, nw, H, W, (W - nw) // 2, (H - nh) // 2


def resize_image(image: np.ndarray, plan, pad_value=PAD_VALUE, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """Apply a :func:`plan_resize` plan to an HWC (or HW) array."""
    nh, nw, H, W, left, top = plan
    h, w = image.shape[:2]
    out = image
    if (nh, nw) != (h, w):
        if interpolation == cv2.INTER_LINEAR and 2 * nh < h and 2 * nw < w:
            interpolation = cv2.INTER_AREA  # shrinking by more than 2: average, or fine detail aliases
        out = cv2.resize(image, (nw, nh), interpolation=interpolation)
        if image.ndim == 3 and out.ndim == 2:
            out = out[:, :, None]
    if (H, W) != (nh, nw):
        right, bottom = W - nw - left, H - nh - top
        value = [pad_value] * (out.shape[2] if out.ndim == 3 else 1)
        padded = cv2.copyMakeBorder(out, top, bottom, left, right, cv2.BORDER_CONSTANT, value=value)
        out = padded[:, :, None] if out.ndim == 3 and padded.ndim == 2 else padded
    return out


def make_meta(h: int, w: int, plan) -> dict:
    nh, nw, _, _, left, top = plan
    return {"orig_size": (h, w), "scale": (nw / w, nh / h), "pad": (left, top)}


def boxes_to_original(boxes, meta: dict, clip: bool = True):
    """Map xyxy boxes from the transformed image back to the original image (tensor or array)."""
    sx, sy = meta["scale"]
    left, top = meta["pad"]
    h, w = meta["orig_size"]
    if isinstance(boxes, torch.Tensor):
        off = boxes.new_tensor([left, top, left, top])
        scale = boxes.new_tensor([sx, sy, sx, sy])
        out = (boxes - off) / scale
        if clip:
            out[..., 0::2] = out[..., 0::2].clamp(0, w)
            out[..., 1::2] = out[..., 1::2].clamp(0, h)
        return out
    b = np.asarray(boxes, np.float32)
    out = (b - np.array([left, top, left, top], np.float32)) / np.array([sx, sy, sx, sy], np.float32)
    if clip:
        out[..., 0::2] = out[..., 0::2].clip(0, w)
        out[..., 1::2] = out[..., 1::2].clip(0, h)
    return out


def boxes_to_input(boxes: np.ndarray, meta: dict) -> np.ndarray:
    """Original-image boxes -> transformed-image boxes (the forward map of ``meta``)."""
    sx, sy = meta["scale"]
    left, top = meta["pad"]
    return np.asarray(boxes, np.float32) * np.array([sx, sy, sx, sy], np.float32) + np.array(
        [left, top, left, top], np.float32)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """HWC uint8 -> CHW float32 in [0, 1]."""
    if image.ndim == 2:
        image = image[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255.0)


def preprocess(image_rgb_uint8: np.ndarray, img_size: Any = 512, resize: str = "letterbox"):
    """Inference preprocessing of one raw image -> (CHW float tensor in [0, 1], meta)."""
    h, w = image_rgb_uint8.shape[:2]
    plan = plan_resize(h, w, img_size, resize)
    return to_tensor(resize_image(image_rgb_uint8, plan)), make_meta(h, w, plan)


# ------------------------------------------------------------------------ the pipeline


def _bbox_params(aug, task: str):
    import albumentations as A

    if task != "detection":
        return None
    return A.BboxParams(format="pascal_voc", label_fields=["box_idx"], min_visibility=aug.min_visibility, clip=True)


def _pre_aug(aug, task: str):
    """Stage 1 (before the resize): random crop from the borders, flips, quarter turns. None if
    all off."""
    import albumentations as A

    ops = []
    if aug.random_crop > 0:
        c = aug.crop_border
        ops.append(A.RandomCropFromBorders(crop_left=c, crop_right=c, crop_top=c, crop_bottom=c, p=aug.random_crop))
    if task != "captioning":  # no flips or turns: "on the left" must stay on the left
        if aug.hflip > 0:
            ops.append(A.HorizontalFlip(p=aug.hflip))
        if aug.vflip > 0:
            ops.append(A.VerticalFlip(p=aug.vflip))
        if aug.rot90 > 0:  # a quarter turn swaps height and width; the resize that follows fits either
            ops.append(A.RandomRotate90(p=aug.rot90))
    return A.Compose(ops, bbox_params=_bbox_params(aug, task)) if ops else None


def _post_aug(aug, task: str, ignore_index: int):
    """Stage 3 (on the resized canvas): scale jitter as a zoom in/out of the canvas content
    (objects change size relative to the network input; the canvas size stays), then colour
    jitter. None if both are off."""
    import albumentations as A

    ops = []
    lo, hi = aug.scale_jitter
    if (lo, hi) != (1.0, 1.0):
        ops.append(A.Affine(scale=(lo, hi), keep_ratio=True, translate_percent=(-0.1, 0.1) if task != "captioning" else None,
                            interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST,
                            border_mode=cv2.BORDER_CONSTANT, fill=PAD_VALUE,
                            fill_mask=ignore_index if task == "segmentation" else 0, p=1.0))
    if aug.color_jitter > 0 or aug.hue > 0:
        c = aug.color_jitter
        ops.append(A.ColorJitter(brightness=c, contrast=c, saturation=c, hue=aug.hue, p=1.0))
    geometric = (lo, hi) != (1.0, 1.0)
    return A.Compose(ops, bbox_params=_bbox_params(aug, task) if geometric else None) if ops else None


class Transform:
    """``(image uint8 HWC, target) -> (image float CHW tensor, target with tensors + meta)``."""

    def __init__(self, img_size: Any = 512, resize: str = "letterbox", task: str = "detection",
                 augment=None, ignore_index: int = 255):
        plan_resize(1, 1, img_size, resize)  # validates the mode early
        self.img_size, self.resize, self.task = img_size, resize, task
        self.ignore_index = ignore_index
        self.pre = _pre_aug(augment, task) if augment is not None else None
        self.post = _post_aug(augment, task, ignore_index) if augment is not None else None

    def reseed(self, seed: int) -> None:
        """Make the next call's random draws a function of ``seed`` alone: albumentations draws
        from each Compose's own generators, which this sets (the engine passes a seed derived
        from the run's seed, the epoch and the sample index, so that runs and resumes repeat
        their augmentation exactly, in worker processes too)."""
        for k, compose in enumerate((self.pre, self.post)):
            if compose is not None:
                compose.set_random_seed(int(seed) + k)

    def __call__(self, image: np.ndarray, target: dict):
        target = dict(target)
        train = self.pre is not None or self.post is not None
        if "boxes" in target and not train:  # evaluation: the exact original boxes, for the metric
            target["orig_boxes"] = torch.as_tensor(np.asarray(target["boxes"], np.float32).reshape(-1, 4))
        if self.pre is not None:
            image, target = self._apply(self.pre, image, target)
        h, w = image.shape[:2]
        plan = plan_resize(h, w, self.img_size, self.resize)
        meta = make_meta(h, w, plan)
        image = resize_image(image, plan)
        for k in ("boxes", "proposals"):
            if k in target:
                target[k] = boxes_to_input(target[k], meta).reshape(-1, 4)
        if _class_map(target):
            target["masks"] = resize_image(target["masks"].astype(np.int32), plan, self.ignore_index, cv2.INTER_NEAREST_EXACT)
        elif "masks" in target:
            target["masks"] = [resize_image(m, plan, 0, cv2.INTER_NEAREST_EXACT) for m in target["masks"]]
        if self.post is not None:
            image, target = self._apply(self.post, image, target)
        if "boxes" in target:
            target["boxes"] = torch.from_numpy(np.asarray(target["boxes"], np.float32).reshape(-1, 4))
            target["labels"] = torch.as_tensor(np.asarray(target["labels"]), dtype=torch.int64)
            if "proposals" in target:
                target["proposals"] = torch.from_numpy(np.asarray(target["proposals"], np.float32).reshape(-1, 4))
            for k in ("difficult", "iscrowd"):
                if k in target:
                    target[k] = torch.as_tensor(np.asarray(target[k], bool))
        if _class_map(target):
            target["masks"] = torch.from_numpy(np.asarray(target["masks"]).astype(np.int64))
        elif "masks" in target:
            ms = target["masks"]
            target["masks"] = torch.from_numpy(np.stack(ms) if len(ms) else np.zeros((0, *image.shape[:2]), np.uint8))
        if "tokens" in target:
            target["tokens"] = torch.as_tensor(target["tokens"], dtype=torch.int64)
        target["meta"] = meta
        return to_tensor(image), target

    @staticmethod
    def _apply(compose, image: np.ndarray, target: dict):
        """Run an albumentations Compose on the image and whatever the target carries (region
        proposals ride along after the boxes, told apart by their index)."""
        kw: dict[str, Any] = {"image": image}
        if "boxes" in target:
            boxes = np.asarray(target["boxes"], np.float32).reshape(-1, 4)
            n = len(boxes)
            if "proposals" in target:
                boxes = np.concatenate([boxes, np.asarray(target["proposals"], np.float32).reshape(-1, 4)])
            kw["bboxes"] = boxes
            kw["box_idx"] = np.arange(len(boxes))
        if _class_map(target):
            kw[ALBU_MASK] = target["masks"].astype(np.int32)
        elif "masks" in target:
            kw["masks"] = list(target["masks"])
        out = compose(**kw)
        image = out["image"]
        if "boxes" in target:
            idx = np.asarray(out["box_idx"], np.int64)
            boxes = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
            if "proposals" in target:
                target["proposals"] = boxes[idx >= n]
                boxes, idx = boxes[idx < n], idx[idx < n]
            target["boxes"] = boxes
            for k in ("labels", "difficult", "iscrowd"):
                if k in target:
                    target[k] = np.asarray(target[k])[idx]
            if "masks" in target:
                target["masks"] = [out["masks"][i] for i in idx]
        if _class_map(target):
            target["masks"] = out[ALBU_MASK]
        return image, target


def build_transforms(cfg, train: bool, task: str) -> Transform:
    """The transform for ``cfg`` (a :class:`visionkit.config.DataConfig`): augmentation from
    ``cfg.augment`` when ``train``, then the deterministic resize to ``cfg.img_size``."""
    return Transform(cfg.img_size, cfg.resize, task, cfg.augment if train else None, cfg.ignore_index)


__all__: Sequence[str] = ["Transform", "build_transforms", "preprocess", "boxes_to_original", "plan_resize",
                          "resize_image", "to_tensor", "PAD_VALUE"]
