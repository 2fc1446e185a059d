"""Tiny data sets in every supported format, and every kind of bad input, built on the fly.

Each builder writes into a folder it is given (a pytest ``tmp_path``) and returns what the
test needs to check the reader against: the boxes/labels/masks it wrote.
"""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import cv2
import numpy as np

CLASSES = ["cat", "dog", "bird"]


def write_image(path, img_rgb: np.ndarray, ext: str | None = None) -> Path:
    """Write an RGB (or gray/16-bit/4-channel) array with OpenCV; unicode-safe."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = img_rgb
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
    ok, enc = cv2.imencode(ext or path.suffix, arr)
    assert ok
    enc.tofile(str(path))
    return path


def rect_image(h: int, w: int, boxes, colors=None, seed: int = 0) -> np.ndarray:
    """Dark noisy background with a solid coloured rectangle per box (xyxy)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 40, (h, w, 3), dtype=np.uint8)
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        c = colors[k] if colors is not None else (200, 60 + 60 * (k % 3), 40)
        img[int(y1):int(y2), int(x1):int(x2)] = c
    return img


# ---------------------------------------------------------------------------------- VOC


def voc_xml(filename: str, w: int, h: int, objects) -> str:
    """objects: list of (name, [x1, y1, x2, y2], difficult)."""
    objs = "".join(
        f"<object><name>{n}</name><difficult>{int(d)}</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>\n"
        for n, b, d in objects
    )
    return (f"<annotation>\n<filename>{filename}</filename>\n<size><width>{w}</width><height>{h}</height>"
            f"<depth>3</depth></size>\n{objs}</annotation>\n")


VOC_IMAGES = {  # id -> (h, w, objects)
    "img 001": (60, 80, [("cat", [10, 10, 40, 30], False), ("dog", [50, 20, 75, 55], True)]),
    "img_002": (50, 70, [("bird", [5, 5, 20, 25], False)]),
    "img_003": (64, 64, []),
    "ünï_004": (40, 90, [("dog", [0, 0, 30, 40], False), ("cat", [60, 10, 90, 30], False)]),
}


def make_voc(root, images=None, splits=None) -> dict:
    """A VOC tree; splits default to train = all ids. Returns the images dict."""
    root = Path(root)
    images = images or VOC_IMAGES
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets/Main").mkdir(parents=True, exist_ok=True)
    for k, (iid, (h, w, objs)) in enumerate(images.items()):
        write_image(root / "JPEGImages" / f"{iid}.jpg", rect_image(h, w, [o[1] for o in objs], seed=k))
        (root / "Annotations" / f"{iid}.xml").write_text(voc_xml(f"{iid}.jpg", w, h, objs), encoding="utf-8")
    splits = splits or {"train": list(images)}
    for name, ids in splits.items():
        (root / "ImageSets/Main" / f"{name}.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    return images


# --------------------------------------------------------------------------------- COCO


def make_coco(root, split: str = "train") -> dict:
    """COCO JSON with non-contiguous category ids (3, 7, 11), a crowd box and a negative image."""
    root = Path(root)
    cats = [{"id": 3, "name": "cat"}, {"id": 11, "name": "bird"}, {"id": 7, "name": "dog"}]
    imgs = [
        {"id": 5, "file_name": "a.jpg", "width": 80, "height": 60},
        {"id": 9, "file_name": "b b.jpg", "width": 70, "height": 50},
        {"id": 12, "file_name": "neg.jpg", "width": 64, "height": 48},
    ]
    anns = [
        {"id": 1, "image_id": 5, "category_id": 3, "bbox": [10, 10, 30, 20], "iscrowd": 0, "area": 600,
         "segmentation": [[10, 10, 40, 10, 40, 30, 10, 30]]},
        {"id": 2, "image_id": 5, "category_id": 11, "bbox": [50, 20, 25, 35], "iscrowd": 1, "area": 875,
         "segmentation": [[50, 20, 75, 20, 75, 55, 50, 55]]},
        {"id": 3, "image_id": 9, "category_id": 7, "bbox": [5, 5, 15, 20], "iscrowd": 0, "area": 300,
         "segmentation": [[5, 5, 20, 5, 20, 25, 5, 25]]},
    ]
    for im in imgs:
        boxes = [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                 for a in anns if a["image_id"] == im["id"]]
        write_image(root / split / im["file_name"], rect_image(im["height"], im["width"], boxes))
    data = {"images": imgs, "annotations": anns, "categories": cats}
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    return data


# --------------------------------------------------------------------------------- YOLO


def make_yolo(root, split: str = "train") -> dict:
    """YOLO tree with classes.txt; returns {stem: (h, w, [(cls, xyxy)])}."""
    root = Path(root)
    spec = {
        "a": (60, 80, [(0, [10, 10, 40, 30]), (2, [50, 20, 75, 55])]),
        "b": (50, 70, [(1, [5, 5, 20, 25])]),
        "neg": (48, 64, []),
    }
    (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    for stem, (h, w, objs) in spec.items():
        write_image(root / "images" / split / f"{stem}.jpg", rect_image(h, w, [o[1] for o in objs]))
        if stem == "neg":
            continue  # no label file: a negative
        lines = [f"{c} {(b[0] + b[2]) / 2 / w:.6f} {(b[1] + b[3]) / 2 / h:.6f} {(b[2] - b[0]) / w:.6f} {(b[3] - b[1]) / h:.6f}"
                 for c, b in objs]
        (root / "labels" / split / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    return spec


# ----------------------------------------------------------------------- segmentation


def make_masks(root, n: int = 3, classes: int = 4, ignore: int = 255, split: str = "train") -> list:
    """CamVid layout (list file of 'image mask' pairs); returns the masks written."""
    root = Path(root)
    rng = np.random.default_rng(1)
    masks, lines = [], []
    for i in range(n):
        h, w = 30 + i, 40 + 2 * i
        m = rng.integers(0, classes, (h, w)).astype(np.uint8)
        m[:2] = ignore
        write_image(root / split / f"f{i}.jpg", rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        write_image(root / f"{split}annot" / f"f{i}.png", m)
        masks.append(m)
        lines.append(f"{split}/f{i}.jpg {split}annot/f{i}.png")
    (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return masks


def write_palette_png(path, indices: np.ndarray) -> Path:
    from PIL import Image

    im = Image.fromarray(indices.astype(np.uint8), "P")
    pal = np.zeros((256, 3), np.uint8)
    pal[1:21] = np.random.default_rng(0).integers(0, 255, (20, 3))
    pal[255] = (224, 224, 192)
    im.putpalette(pal.flatten().tolist())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return Path(path)


def make_voc_masks(root, n: int = 2) -> list:
    root = Path(root)
    masks = []
    for i in range(n):
        m = np.zeros((20, 30), np.uint8)
        m[5:15, 5:15] = 1 + i
        m[4, :] = 255
        write_image(root / "JPEGImages" / f"s{i}.jpg", np.full((20, 30, 3), 100, np.uint8))
        write_palette_png(root / "SegmentationClass" / f"s{i}.png", m)
        masks.append(m)
    (root / "ImageSets/Segmentation").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets/Segmentation/train.txt").write_text("\n".join(f"s{i}" for i in range(n)) + "\n")
    return masks


# ------------------------------------------------------------------- captions and IDX


def make_captions(root) -> dict:
    root = Path(root)
    caps = {
        "train": {1: ["A cat sits on a mat.", "a cat on the mat", "The cat is sitting."],
                  2: ["A dog runs in the park.", "a dog running", "dog in a park"]},
        "test": {3: ["A bird on a branch.", "the bird sits"]},
    }
    for split, per in caps.items():
        imgs = [{"id": i, "file_name": f"{i}.jpg"} for i in per]
        anns = [{"id": 100 * i + k, "image_id": i, "caption": c} for i, cs in per.items() for k, c in enumerate(cs)]
        for i in per:
            write_image(root / "images" / f"{i}.jpg", np.full((24, 32, 3), 30 * i, np.uint8))
        (root / f"captions_{split}.json").write_text(json.dumps({"images": imgs, "annotations": anns}))
    return caps


def write_idx(path, arr: np.ndarray) -> Path:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())
    return Path(path)


def make_idx(root, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    for prefix in ("train", "t10k"):
        write_idx(Path(root) / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(Path(root) / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images, labels


# ---------------------------------------------------------------------------- bad input


def exif_rotated_jpeg(path, stored_rgb: np.ndarray, orientation: int = 6) -> Path:
    """A JPEG whose pixels are stored as ``stored_rgb`` with an EXIF Orientation tag."""
    from PIL import Image

    im = Image.fromarray(stored_rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    im.save(path, exif=exif.tobytes(), quality=95)
    return Path(path)


def bad_files(folder) -> dict[str, Path]:
    """One file per bad-input kind: name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    good = rect_image(40, 60, [[5, 5, 20, 20]])
    out = {}
    jpg = cv2.imencode(".jpg", good)[1].tobytes()
    (folder / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    out["truncated"] = folder / "truncated.jpg"
    corrupt = bytearray(jpg)
    corrupt[2:200] = b"\x00" * 198  # headers destroyed
    (folder / "corrupt.jpg").write_bytes(bytes(corrupt))
    out["corrupt"] = folder / "corrupt.jpg"
    (folder / "notes.jpg").write_text("this is not an image\n")
    out["not_image"] = folder / "notes.jpg"
    (folder / "empty.jpg").write_bytes(b"")
    out["empty"] = folder / "empty.jpg"
    out["gray"] = write_image(folder / "gray.png", good[:, :, 1])
    out["rgba"] = write_image(folder / "rgba.png", np.dstack([good, np.full(good.shape[:2], 128, np.uint8)]))
    out["16bit"] = write_image(folder / "deep.png", (good.astype(np.uint16) * 257))
    out["palette"] = write_palette_png(folder / "palette.png", (good[:, :, 0] > 100).astype(np.uint8) * 3)
    png = cv2.imencode(".png", good)[1].tobytes()
    (folder / "zero.png").write_bytes(png[:16] + b"\x00" * 8 + png[24:])  # IHDR says 0x0
    out["zero_size"] = folder / "zero.png"
    return out
