"""A tiny VOC set of frame-filling objects (one class), written to a folder for the recipe tests."""

from pathlib import Path

import cv2
import numpy as np

XML = """<annotation><filename>{name}.jpg</filename><size><width>{w}</width><height>{h}</height><depth>3</depth></size>
<object><name>blob</name><difficult>0</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>
</annotation>"""


def frame_filling_voc(root: Path, n: int = 4, size: int = 128, seed: int = 0) -> Path:
    """``n`` images of ``size`` px, each a bright ellipse covering 70-90% of the frame on dark
    noise, in VOC layout with ``ImageSets/Main/train.txt`` listing them all."""
    rng = np.random.default_rng(seed)
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        image = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
        w, h = (int(size * f) for f in rng.uniform(0.7, 0.9, 2))
        x0, y0 = (int(rng.integers(0, size - v + 1)) for v in (w, h))
        cv2.ellipse(image, ((x0 + w / 2, y0 + h / 2), (w, h), 0), (40, 200, 230), -1)
        name = f"img{i}"
        cv2.imwrite(str(root / "JPEGImages" / f"{name}.jpg"), image)
        (root / "Annotations" / f"{name}.xml").write_text(XML.format(name=name, w=size, h=size, x0=x0 + 1, y0=y0 + 1, x1=x0 + w, y1=y0 + h))
        names.append(name)
    (root / "ImageSets" / "Main" / "train.txt").write_text("\n".join(names) + "\n")
    return root
