"""Seeded random train/val/test splits, kept as list files outside the data folder.

A split file lists one image per line, as its path relative to the data set's root
(``images/cat_001.jpg``). ``data.split_files: {train: .../train.txt, ...}`` makes the reader of
that split keep only those images (:func:`visionkit.data.build.build_dataset`), so a data set
without splits is never written to: ``visionkit train --data`` writes the lists into the run
folder (``runs/<name>/splits/``), ``visionkit data split`` wherever ``--out`` says.

The split is a permutation of the sorted file names drawn from ``numpy.random.default_rng(seed)``:
the same files and seed give the same split on every machine; the parts are disjoint and
cover every item.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_text

PARTS = ("train", "val", "test")


def split_counts(n: int, val: float, test: float) -> tuple[int, int, int]:
    """``(train, val, test)`` sizes for ``n`` items: each fraction rounded, a non-zero fraction
    gets at least one item, train keeps the rest and at least one (DataError when ``n`` is
    too small for that)."""
    for name, f in (("val", val), ("test", test)):
        if not 0.0 <= f < 1.0:
            raise DataError(f"--{name} {f}: a fraction in [0, 1)")
    if val + test >= 1.0:
        raise DataError(f"--val {val} + --test {test} leave nothing to train on")
    n_val = max(int(round(n * val)), 1 if val > 0 else 0)
    n_test = max(int(round(n * test)), 1 if test > 0 else 0)
    if n - n_val - n_test < 1:
        need = 1 + (val > 0) + (test > 0)
        raise DataError(f"{n} image(s) cannot be split into train/val/test with at least one each (need {need}); "
                        "label more images, or pass --val 0 / --test 0")
    return n - n_val - n_test, n_val, n_test


def random_split(files: list[str], val: float = 0.1, test: float = 0.1, seed: int = 0) -> dict[str, list[str]]:
    """``{"train": [...], "val": [...], "test": [...]}``: a seeded random partition of ``files``
    (each part sorted). Empty parts are left out."""
    files = sorted(set(files))
    n_train, n_val, _ = split_counts(len(files), val, test)
    order = np.random.default_rng(seed).permutation(len(files))
    picked = [files[i] for i in order]
    parts = {"train": picked[:n_train], "val": picked[n_train:n_train + n_val], "test": picked[n_train + n_val:]}
    return {k: sorted(v) for k, v in parts.items() if v}


def write_split_files(parts: dict[str, list[str]], out_dir) -> dict[str, str]:
    """Write ``out_dir/<part>.txt`` for each part; -> ``{part: absolute path}`` (data.split_files)."""
    out_dir = Path(out_dir)
    written = {}
    for name, files in parts.items():
        path = out_dir / f"{name}.txt"
        atomic_write_text(path, "".join(f"{f}\n" for f in files))
        written[name] = str(path.resolve())
    return written


def read_split_file(path) -> list[str]:
    """The image paths a split file lists (DataError if it is missing)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: split file not found (data.split_files)")
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def read_split_dir(folder) -> dict[str, str]:
    """``{part: path}`` of the ``train/val/test.txt`` files in ``folder`` (a ``data split --out``)."""
    folder = Path(folder)
    found = {p: str((folder / f"{p}.txt").resolve()) for p in PARTS if (folder / f"{p}.txt").is_file()}
    if "train" not in found:
        raise DataError(f"{folder}: no train.txt split file there (visionkit data split writes one)")
    return found
