"""Drawing predictions on images with OpenCV: boxes with class and score, class masks as a
coloured overlay with a legend, and captions. Images are HWC uint8 RGB in and out."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .data.image import write_image


def palette(n: int) -> np.ndarray:
    """``n`` distinct RGB colours (the VOC bit-interleaving palette, skipping black)."""
    out = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i + 1, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out[i] = (r, g, b)
    return out


def _text_color(rgb: Sequence[int]) -> tuple[int, int, int]:
    return (0, 0, 0) if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else (255, 255, 255)


def _label(img: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int], scale: float) -> None:
    """A filled tag with ``text`` whose bottom-left corner is at (x, y), kept inside the image."""
    thick = max(1, round(scale * 1.5))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x = int(min(max(x, 0), max(img.shape[1] - tw - 2, 0)))
    y = int(max(y, th + base + 2))
    cv2.rectangle(img, (x, y - th - base - 2), (x + tw + 2, y), color, -1)
    cv2.putText(img, text, (x + 1, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale, _text_color(color), thick, cv2.LINE_AA)


def draw_detections(
    image: np.ndarray, boxes, labels, scores=None, classes: Sequence[str] | None = None, line_width: int | None = None
) -> np.ndarray:
    """A copy of ``image`` with each box outlined and tagged ``class score``. ``labels`` are
    1..K (``classes[label - 1]`` names them)."""
    img = np.ascontiguousarray(image).copy()
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1).astype(int)
    scores = None if scores is None else np.asarray(scores).reshape(-1)
    k = max(len(classes) if classes else 0, int(labels.max()) if labels.size else 0, 1)
    colors = palette(k + 1)
    lw = line_width or max(1, round(sum(img.shape[:2]) / 600))
    scale = max(0.35, lw / 3)
    for i, (box, lab) in enumerate(zip(boxes, labels)):
        color = tuple(int(c) for c in colors[lab])
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), color, lw, cv2.LINE_AA)
        name = classes[lab - 1] if classes and 0 < lab <= len(classes) else str(lab)
        text = name if scores is None else f"{name} {scores[i]:.2f}"
        _label(img, text, x0, y0, color, scale)
    return img


def draw_mask(
    image: np.ndarray, mask: np.ndarray, classes: Sequence[str] | None = None, alpha: float = 0.5, ignore_index: int | None = None, legend: bool = True
) -> np.ndarray:
    """``image`` blended with a colour per class of the H×W class-index ``mask``, plus a legend
    of the classes present."""
    img = np.ascontiguousarray(image).copy()
    mask = np.asarray(mask).astype(np.int64)
    if mask.shape != img.shape[:2]:
        raise ValueError(f"mask {mask.shape} and image {img.shape[:2]} differ in size")
    n = max(len(classes) if classes else 0, int(mask.max()) + 1 if mask.size else 1)
    colors = palette(n)
    valid = (mask >= 0) & (mask < n)
    if ignore_index is not None:
        valid &= mask != ignore_index
    overlay = img.copy()
    overlay[valid] = colors[mask[valid]]
    img = cv2.addWeighted(overlay, alpha, img, 1 - alpha, 0)
    if legend:
        present = [int(c) for c in np.unique(mask[valid])]
        scale = max(0.35, sum(img.shape[:2]) / 2400)
        (_, th), base = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        step = th + base + 6
        for row, c in enumerate(present):
            name = classes[c] if classes and c < len(classes) else str(c)
            _label(img, name, 4, 4 + (row + 1) * step, tuple(int(v) for v in colors[c]), scale)
    return img


def draw_caption(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` with ``text`` on a dark band along its bottom edge."""
    img = np.ascontiguousarray(image).copy()
    scale = max(0.4, img.shape[1] / 900)
    _label(img, text, 4, img.shape[0] - 4, (20, 20, 20), scale)
    return img


def save_grid(images, path, nrow: int | None = None) -> None:
    """Write N×C×H×W images in [0, 1] (a tensor) as one PNG grid, atomically; ``nrow`` images
    per row (default: a square when N is a square number, else 8)."""
    from torchvision.utils import make_grid


    n = len(images)
    if nrow is None:
        root = int(round(n**0.5))
        nrow = root if root * root == n else min(n, 8)
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, padding=2, pad_value=1.0)
    write_image(path, (grid.permute(1, 2, 0) * 255).round().clamp(0, 255).byte().numpy())
