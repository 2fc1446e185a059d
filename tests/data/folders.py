"""Data set folders as users bring them (no split files): what annotation tools and dataset
sites export. Used by the layout, split and ``train --data`` tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.data.fixtures import rect_image, voc_xml, write_image


def make_plain_voc(root: Path, n: int = 6, classes=("fox",), ext: str = ".jpg") -> list[str]:
    """What annotation tools export: annotations/*.xml beside images/*, no ImageSets."""
    ids = []
    for i in range(n):
        iid = f"photo_{i:03d}"
        c = classes[i % len(classes)]
        box = [8, 6, 56 + i, 44]
        write_image(root / "images" / f"{iid}{ext}", rect_image(48, 64, [box], seed=i))
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / "annotations" / f"{iid}.xml").write_text(voc_xml(f"{iid}{ext}", 64, 48, [(c, box, False)]))
        ids.append(iid)
    return ids


def make_yolo_export(root: Path, splits=("train", "valid", "test"), n: int = 2) -> None:
    """Roboflow/Ultralytics export: <split>/images, <split>/labels and a data.yaml with names."""
    for s in splits:
        for i in range(n):
            write_image(root / s / "images" / f"{s}{i}.jpg", rect_image(40, 40, [[4, 4, 30, 30]], seed=i))
            (root / s / "labels").mkdir(parents=True, exist_ok=True)
            (root / s / "labels" / f"{s}{i}.txt").write_text(f"{i % 2} 0.425 0.425 0.65 0.65\n")
    (root / "data.yaml").write_text(yaml.safe_dump({"train": "train/images", "val": "valid/images",
                                                    "nc": 2, "names": ["ant", "bee"]}))
