"""Image and mask decoding with OpenCV: every image enters the package as HWC uint8 RGB.

``read_image`` reads the bytes with ``np.fromfile`` and decodes them with ``cv2.imdecode``, so
paths with spaces or non-ASCII characters work on every platform (``cv2.imread`` fails on
those on Windows). ``cv2.IMREAD_COLOR_RGB`` decodes straight to 3-channel 8-bit RGB:

* the EXIF orientation tag of a JPEG is applied, so the array is the image *as displayed*
  (annotation tools such as LabelImg draw boxes on the displayed image);
* grayscale and palette images are expanded to RGB, an alpha channel is dropped, 16-bit
  images are reduced to 8 bits. These conversions are reported (``issues``) because they can
  hide a surprise (a transparent background turned black).

Corrupt, truncated, empty and non-image files raise :class:`~visionkit.errors.DataError`
naming the file. Segmentation masks are class indices, not colours: ``read_mask`` keeps the
palette *indices* of a palette PNG (Pascal VOC's SegmentationClass) via Pillow, since OpenCV
always expands a palette to colours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from ..utils.io import atomic_write_bytes
from .validate import BadFile, Issues

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")  # what cv2.imdecode reads
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_COLOR = {0: "grayscale", 2: "rgb", 3: "palette", 4: "grayscale+alpha", 6: "rgba"}


def read_bytes(path) -> np.ndarray:
    """The file's bytes as a uint8 array (unicode-safe); DataError if missing or empty."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO or device would block the read forever
        raise BadFile(path, "not a regular file (a folder, FIFO or device)", kind="corrupt_image")
    try:
        buf = np.fromfile(str(path), dtype=np.uint8)
    except FileNotFoundError:
        raise BadFile(path, "no such image file", kind="missing_file") from None
    except (IsADirectoryError, PermissionError, OSError) as e:
        raise BadFile(path, f"cannot read ({e.strerror or e})", kind="corrupt_image") from None
    if buf.size == 0:
        raise BadFile(path, "empty file (0 bytes)", kind="empty_image")
    return buf


def _png_header(buf: np.ndarray) -> Optional[tuple[int, int, int, int]]:
    """(width, height, bit_depth, colour_type) from a PNG's IHDR chunk, or None."""
    if buf.size < 26 or bytes(buf[:8]) != _PNG_MAGIC:
        return None
    head = bytes(buf[16:26])
    return int.from_bytes(head[0:4], "big"), int.from_bytes(head[4:8], "big"), head[8], head[9]


def _jpeg_truncated(buf: np.ndarray) -> bool:
    """A JPEG must end with the EOI marker FF D9 (some cameras append a few bytes after it)."""
    if buf.size < 4 or buf[0] != 0xFF or buf[1] != 0xD8:
        return False
    tail = bytes(buf[-4096:])
    return b"\xff\xd9" not in tail


def decode_image(buf: np.ndarray, path="<bytes>", issues: Optional[Issues] = None) -> np.ndarray:
    """Decode encoded image bytes to HWC uint8 RGB (see the module docstring)."""
    if _jpeg_truncated(buf):
        raise BadFile(path, "truncated JPEG (no end-of-image marker)", kind="corrupt_image")
    png = _png_header(buf)
    if png is not None and (png[0] == 0 or png[1] == 0):
        raise BadFile(path, f"zero-size image ({png[0]}x{png[1]})", kind="empty_image")
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR_RGB)
    except cv2.error as e:  # pragma: no cover - OpenCV raises only on programming errors
        raise BadFile(path, f"cannot decode image ({str(e).splitlines()[-1]})", kind="corrupt_image") from None
    if img is None:
        raise BadFile(path, "not an image, or a corrupt/truncated image file", kind="corrupt_image")
    if img.ndim != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise BadFile(path, f"zero-size image {img.shape}", kind="empty_image")
    if issues is not None and png is not None:
        _, _, depth, colour = png
        kind = _PNG_COLOR.get(colour, "unknown")
        if colour in (0, 3):
            issues.info("converted", path, f"{kind} PNG converted to RGB")
        if colour in (4, 6):
            issues.warn("alpha_dropped", path, f"{kind} PNG: alpha channel dropped (transparent pixels keep their colour)")
        if depth == 16:
            issues.warn("depth_reduced", path, "16-bit PNG reduced to 8 bits per channel")
    return np.ascontiguousarray(img)


def read_image(path, issues: Optional[Issues] = None) -> np.ndarray:
    """Read an image file as HWC uint8 RGB, EXIF orientation applied. DataError names the file."""
    return decode_image(read_bytes(path), path, issues)


def image_size(path) -> tuple[int, int]:
    """(height, width) as displayed (EXIF orientation applied), read from the header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            orientation = im.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError) as e:
        raise BadFile(path, f"not an image, or unreadable ({e.__class__.__name__})", kind="corrupt_image") from None
    except Image.DecompressionBombError as e:  # a header that claims billions of pixels
        raise BadFile(path, f"image too large to read safely ({e})", kind="corrupt_image") from None
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return h, w


def read_mask(path) -> np.ndarray:
    """Read a class-index mask as an H×W integer array.

    8/16-bit grayscale PNGs are read as stored; palette PNGs give their palette *indices*
    (VOC SegmentationClass: 0 background, 1..20 classes, 255 the "void" border). A colour
    (RGB) mask is an error: class masks must store indices, not colours.
    """
    buf = read_bytes(path)
    png = _png_header(buf)
    if png is not None and png[3] == 3:
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(buf.tobytes())) as im:
                return np.asarray(im, dtype=np.uint8).copy()
        except OSError as e:
            raise BadFile(path, f"corrupt palette PNG ({e})", kind="corrupt_image") from None
    m = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if m is None:
        raise BadFile(path, "not an image, or a corrupt mask file", kind="corrupt_image")
    if m.ndim == 3:
        if m.shape[2] >= 3 and (np.ptp(m[..., :3], axis=2) == 0).all():
            m = m[..., 0]  # a gray mask saved as RGB: the three channels are equal
        else:
            raise BadFile(path, "colour mask; expected one class index per pixel (grayscale or palette PNG)", kind="bad_mask")
    if m.size == 0:
        raise BadFile(path, "zero-size mask", kind="empty_image")
    return m


def write_image(path, image_rgb: np.ndarray, quality: int = 95) -> None:
    """Write an RGB image atomically (format from the extension); unicode-safe."""
    ext = Path(path).suffix.lower() or ".png"
    bgr = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR) if image_rgb.ndim == 3 else image_rgb
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext in (".jpg", ".jpeg") else []
    ok, enc = cv2.imencode(ext, bgr, params)
    if not ok:
        raise BadFile(path, f"cannot encode image as {ext}", kind="corrupt_image")
    atomic_write_bytes(path, enc.tobytes())
