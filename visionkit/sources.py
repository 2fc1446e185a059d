"""What a user points the predictor at -> a stream of images.

A source is an image path, a folder (its images, sorted), a glob pattern, a video file
(read frame by frame), a numpy HWC uint8 RGB array, or a list of any of these. Bad items
(missing paths, unreadable or corrupt files) never stop the stream: each becomes an
:class:`Item` with ``error`` set, so a batch run goes on and lists them at the end.

``iter_sources(..., decode=False)`` leaves image files undecoded (``Item.file`` set, no
image) so that a caller can decode them elsewhere with :func:`load_item` (the predictor
decodes in worker threads while the model runs). Video frames and arrays are always
decoded in order here: a video capture is sequential and an array needs no decoding.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import numpy as np

from .data.image import IMAGE_EXTS as _IMAGE_EXTS
from .data.image import read_image
from .errors import UserError

IMAGE_EXTS = set(_IMAGE_EXTS)
VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}


@dataclass
class Item:
    name: str  # file path, "video.mp4#frame12", or "array3"
    image: Optional[np.ndarray] = None  # HWC uint8 RGB
    error: str = ""
    frame: int = -1  # frame index for videos
    file: Optional[Path] = None  # an image file still to decode (iter_sources(decode=False))


def _expand_one(src, index: int) -> Iterator[tuple[str, object]]:
    if isinstance(src, np.ndarray):
        yield f"array{index}", src
        return
    s = str(src)
    p = Path(s)
    if p.is_dir():
        files = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS)
        if not files:
            yield s, UserError(f"{s}: folder has no images or videos")
        for q in files:
            yield str(q), q
    elif p.exists():
        yield s, p
    elif any(ch in s for ch in "*?["):
        hits = sorted(glob.glob(s, recursive=True))
        if not hits:
            yield s, UserError(f"{s}: pattern matches no files")
        for h in hits:
            yield h, Path(h)
    else:
        yield s, UserError(f"{s}: no such file or folder")


def _video_frames(path: Path) -> Iterator[Item]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        yield Item(str(path), error=f"{path}: cannot open video")
        return
    i = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield Item(f"{path}#{i}", cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), frame=i)
            i += 1
    finally:
        cap.release()
    if i == 0:
        yield Item(str(path), error=f"{path}: video has no readable frames")


def iter_sources(sources, decode: bool = True) -> Iterator[Item]:
    """Decoded images (or errors) from ``sources``, in order; with ``decode=False`` image
    files come undecoded (see :func:`load_item`)."""
    if isinstance(sources, (str, Path, np.ndarray)):
        sources = [sources]
    for index, src in enumerate(sources):
        for name, obj in _expand_one(src, index):
            if isinstance(obj, Exception):
                yield Item(name, error=str(obj))
            elif isinstance(obj, np.ndarray):
                yield _array_item(name, obj)
            elif obj.suffix.lower() in VIDEO_EXTS:
                yield from _video_frames(obj)
            else:
                item = Item(name, file=obj)
                yield load_item(item) if decode else item


def load_item(item: Item) -> Item:
    """``item`` with its image file decoded (or its ``error`` set); other items unchanged.
    Thread-safe: OpenCV releases the GIL while it decodes, so threads decode in parallel."""
    if item.file is None or item.image is not None or item.error:
        return item
    try:
        return Item(item.name, read_image(item.file), frame=item.frame)
    except UserError as e:
        return Item(item.name, error=str(e))


def _array_item(name: str, arr: np.ndarray) -> Item:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8 or 0 in arr.shape:
        return Item(name, error=f"{name}: expected an H×W×3 uint8 RGB array, got {arr.dtype} {arr.shape}")
    return Item(name, np.ascontiguousarray(arr[:, :, :3]))


def count_sources(sources: Iterable) -> int | None:
    """The number of images (None when a video makes it unknown without decoding)."""
    if isinstance(sources, (str, Path, np.ndarray)):
        sources = [sources]
    n = 0
    for index, src in enumerate(sources):
        for _, obj in _expand_one(src, index):
            if isinstance(obj, Path) and obj.suffix.lower() in VIDEO_EXTS:
                return None
            n += 1
    return n
