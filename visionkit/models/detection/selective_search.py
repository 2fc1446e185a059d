"""Selective search region proposals (Uijlings et al., IJCV 2013), the proposals of R-CNN and
Fast R-CNN, and an on-disk cache for them.

1. Over-segment the image with Felzenszwalb & Huttenlocher's graph-based method
   (``skimage.segmentation.felzenszwalb``): a few hundred small, uniform regions.
2. Describe each region by a colour histogram (25 bins per channel), a texture histogram
   (gradient orientations: 8 directions × 10 magnitude bins per channel), its size and box.
3. Repeatedly merge the two most similar *adjacent* regions; similarity is the sum of
   colour and texture histogram intersections, a size term (merge small regions first)
   and a fill term (merge regions whose union fills their joint box). A merged region's
   histograms are the size-weighted mean, so nothing is recomputed from pixels.
4. Every region ever formed — initial and merged — is a proposal. Running the grouping at
   several Felzenszwalb scales diversifies them (the paper's "fast" mode also varies colour
   spaces); boxes are ranked by hierarchy level and de-duplicated.

``ProposalCache`` stores the boxes of each image on disk, keyed by a hash of its pixels and
of the parameters. As in the papers, a training image's proposals are computed once on the
original image (with ``data.proposals: selective_search`` the engine gives the reader a
``ProposalCache``, which attaches them to each sample as ``target["proposals"]``) and then flipped, cropped and resized with the image and its
boxes by the augmentation, so no epoch after the first costs any proposal time.
"""

from __future__ import annotations

import hashlib
import heapq
import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ...utils.io import atomic_save

COLOR_BINS, TEXTURE_BINS, ORIENTATIONS = 25, 10, 8


def _histograms(values: np.ndarray, labels: np.ndarray, n: int, bins: int, vmax: float) -> np.ndarray:
    """Per-region L1-normalised histograms of ``values`` (P×K channels) -> n×(K·bins)."""
    idx = np.minimum((values / vmax * bins).astype(np.int64), bins - 1)  # P×K
    out = np.empty((n, values.shape[1] * bins))
    for k in range(values.shape[1]):
        out[:, k * bins : (k + 1) * bins] = np.bincount(labels * bins + idx[:, k], minlength=n * bins).reshape(n, bins)
    return out / np.maximum(out.sum(1, keepdims=True), 1)


def _texture(image: np.ndarray) -> np.ndarray:
    """Per pixel and channel: gradient magnitude binned by one of 8 orientations -> P×(3·8)
    values in [0, 1) whose histogram is the texture descriptor."""
    out = []
    for c in range(3):
        ch = cv2.GaussianBlur(image[..., c].astype(np.float32), (0, 0), 1.0)
        gx, gy = cv2.Sobel(ch, cv2.CV_32F, 1, 0), cv2.Sobel(ch, cv2.CV_32F, 0, 1)
        mag = np.sqrt(gx * gx + gy * gy)
        mag = mag / (mag.max() + 1e-6)
        ori = ((np.arctan2(gy, gx) + np.pi) / (2 * np.pi) * ORIENTATIONS).astype(np.int64) % ORIENTATIONS
        for o in range(ORIENTATIONS):
            out.append(np.where(ori == o, mag, 0.0).reshape(-1))
    return np.stack(out, 1)


def _group(image: np.ndarray, labels: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """Hierarchical grouping of one segmentation -> boxes ``(x0, y0, x1, y1, level)``."""
    h, w = labels.shape
    n = int(labels.max()) + 1
    flat = labels.reshape(-1)
    size = np.bincount(flat, minlength=n).astype(np.float64)
    ys, xs = np.divmod(np.arange(h * w), w)
    box = np.stack([np.full(n, w), np.full(n, h), np.zeros(n), np.zeros(n)], 1).astype(np.int64)
    np.minimum.at(box[:, 0], flat, xs)
    np.minimum.at(box[:, 1], flat, ys)
    np.maximum.at(box[:, 2], flat, xs + 1)
    np.maximum.at(box[:, 3], flat, ys + 1)
    colour = _histograms(image.reshape(-1, 3).astype(np.float64), flat, n, COLOR_BINS, 256.0)
    texture = _histograms(_texture(image) * 0.999, flat, n, TEXTURE_BINS, 1.0)
    area = float(h * w)

    # adjacency: pairs of different labels that touch horizontally or vertically
    pairs = np.concatenate([
        np.stack([labels[:, :-1].reshape(-1), labels[:, 1:].reshape(-1)], 1),
        np.stack([labels[:-1].reshape(-1), labels[1:].reshape(-1)], 1)])
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(np.sort(pairs, 1), axis=0)

    colour, texture = list(colour), list(texture)
    size, box = list(size), [b for b in box]
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in pairs.tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)

    def sim(a: int, b: int) -> float:
        union = np.concatenate([np.minimum(box[a][:2], box[b][:2]), np.maximum(box[a][2:], box[b][2:])])
        fill = 1 - ((union[2] - union[0]) * (union[3] - union[1]) - size[a] - size[b]) / area
        return (np.minimum(colour[a], colour[b]).sum() + np.minimum(texture[a], texture[b]).sum()
                + (1 - (size[a] + size[b]) / area) + fill)

    heap = [(-sim(a, b), a, b) for a, b in pairs.tolist()]
    heapq.heapify(heap)
    alive = set(range(n))
    out = [(*box[i].tolist(), 0) for i in range(n)]
    level = 0
    while heap:
        _, a, b = heapq.heappop(heap)
        if a not in alive or b not in alive:
            continue
        level += 1
        t = len(size)
        sa, sb = size[a], size[b]
        size.append(sa + sb)
        colour.append((colour[a] * sa + colour[b] * sb) / (sa + sb))
        texture.append((texture[a] * sa + texture[b] * sb) / (sa + sb))
        box.append(np.concatenate([np.minimum(box[a][:2], box[b][:2]), np.maximum(box[a][2:], box[b][2:])]))
        alive -= {a, b}
        neighbours[t] = (neighbours.pop(a) | neighbours.pop(b)) - {a, b}
        for m in neighbours[t]:
            neighbours[m] -= {a, b}
            neighbours[m].add(t)
            heapq.heappush(heap, (-sim(t, m), t, m))
        alive.add(t)
        out.append((*box[t].tolist(), level))
    return out


def selective_search(
    image: np.ndarray, scales: Sequence[float] = (25, 50, 100, 200), sigma: float = 0.8, min_size: int = 10,
    max_proposals: int = 2000, min_box: int = 8, max_side: int = 320,
) -> np.ndarray:
    """Proposals (M×4 float32 xyxy pixels) for an HWC uint8 RGB image. Large images are
    segmented at ``max_side`` pixels and the boxes scaled back. The defaults were chosen on
    BCCD training images: about 1,300 boxes per image with ~0.9 recall at IoU 0.5."""
    from skimage.segmentation import felzenszwalb  # lazy: pulls in scipy.ndimage (~2 s); only R-CNNs search

    h, w = image.shape[:2]
    f = min(1.0, max_side / max(h, w))
    small = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else image
    boxes = []
    for k in scales:
        labels = felzenszwalb(small, scale=k, sigma=sigma, min_size=min_size)
        # the paper ranks by hierarchy level (later merges = larger, more object-like regions)
        boxes.extend(b for b in _group(small, labels))
    arr = np.asarray(boxes, dtype=np.float64)
    arr = arr[np.argsort(-arr[:, 4], kind="stable")][:, :4] / f
    arr = np.round(arr).astype(np.int64)
    _, first = np.unique(arr, axis=0, return_index=True)
    arr = arr[np.sort(first)]
    keep = ((arr[:, 2] - arr[:, 0]) >= min_box) & ((arr[:, 3] - arr[:, 1]) >= min_box)
    return arr[keep][:max_proposals].astype(np.float32)


class ProposalCache:
    """Selective-search boxes cached on disk per image content (``<sha1>.npy``)."""

    def __init__(self, folder: str | Path, **params):
        self.folder = Path(folder)
        self.params = params
        self.tag = hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:8]

    def key(self, image: np.ndarray) -> str:
        digest = hashlib.sha1(np.ascontiguousarray(image).tobytes())
        digest.update(repr(image.shape).encode())
        return f"{digest.hexdigest()}-{self.tag}"

    def __call__(self, image: np.ndarray) -> np.ndarray:
        path = self.folder / f"{self.key(image)}.npy"
        if path.is_file():
            try:
                return np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                pass  # a damaged cache file is recomputed
        boxes = selective_search(image, **self.params)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, boxes, allow_pickle=False)

        atomic_save(path, write)
        return boxes


def default_cache_dir() -> Path:
    """``$VISIONKIT_CACHE/proposals`` (default ``~/.cache/visionkit/proposals``)."""
    return Path(os.environ.get("VISIONKIT_CACHE", Path.home() / ".cache" / "visionkit")) / "proposals"
