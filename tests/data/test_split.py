"""Seeded random splits (visionkit.data.split): deterministic, disjoint and covering, small
sets handled, and data.split_files read back by build_dataset."""

from __future__ import annotations

import pytest

from tests.data.folders import make_plain_voc
from visionkit.config import DataConfig
from visionkit.data.build import build_dataset
from visionkit.data.layout import data_section
from visionkit.data.split import random_split, read_split_dir, split_counts, write_split_files
from visionkit.errors import DataError

FILES = [f"images/{i:04d}.jpg" for i in range(200)]


def test_same_seed_same_split_other_seed_other_split():
    a, b = random_split(FILES, 0.1, 0.1, seed=0), random_split(list(reversed(FILES)), 0.1, 0.1, seed=0)
    assert a == b  # input order does not matter, the seed does
    c = random_split(FILES, 0.1, 0.1, seed=1)
    assert c["test"] != a["test"] and c["val"] != a["val"]


def test_parts_are_disjoint_and_cover_with_80_10_10():
    parts = random_split(FILES, 0.1, 0.1, seed=3)
    assert {k: len(v) for k, v in parts.items()} == {"train": 160, "val": 20, "test": 20}
    sets = [set(v) for v in parts.values()]
    assert sum(map(len, sets)) == len(set().union(*sets)) == 200
    assert set().union(*sets) == set(FILES)


@pytest.mark.parametrize("n,expected", [(3, (1, 1, 1)), (5, (3, 1, 1)), (9, (7, 1, 1)), (10, (8, 1, 1)), (25, (21, 2, 2))])
def test_small_sets_get_one_image_in_each_part(n, expected):
    assert split_counts(n, 0.1, 0.1) == expected


def test_too_small_or_bad_fractions_are_clear_errors():
    with pytest.raises(DataError, match="2 image.* cannot be split into train/val/test.*need 3"):
        random_split(FILES[:2], 0.1, 0.1)
    assert {k: len(v) for k, v in random_split(FILES[:2], 0.1, 0.0).items()} == {"train": 1, "val": 1}  # no test part
    with pytest.raises(DataError, match="leave nothing to train on"):
        split_counts(100, 0.5, 0.5)
    with pytest.raises(DataError, match="--val 1.5"):
        split_counts(100, 1.5, 0.1)


def test_split_files_select_the_reader_items(tmp_path):
    make_plain_voc(tmp_path / "data", 10)
    before = sorted(p.relative_to(tmp_path / "data") for p in (tmp_path / "data").rglob("*"))
    section, _, how = data_section(tmp_path / "data", tmp_path / "run" / "splits", 0.2, 0.1, seed=0)
    assert sorted(p.relative_to(tmp_path / "data") for p in (tmp_path / "data").rglob("*")) == before  # nothing written there
    assert "random split (seed 0) of 10 images: train 7, val 2, test 1" in how
    assert section["split_files"] == {k: str((tmp_path / "run" / "splits" / f"{k}.txt").resolve()) for k in ("train", "val", "test")}
    cfg = DataConfig(**{k: v for k, v in section.items()}, img_size=32, workers=0)
    got = {k: [ds.item_file(i) for i in range(len(ds))] for k in ("train", "val", "test")
           for ds in [build_dataset(cfg, k, train=False)]}
    assert {k: len(v) for k, v in got.items()} == {"train": 7, "val": 2, "test": 1}
    assert sorted(sum(got.values(), [])) == [f"images/photo_{i:03d}.jpg" for i in range(10)]
    # the same folder and seed give the same lists; data split's folder is read back as they are
    again, _, _ = data_section(tmp_path / "data", tmp_path / "run2" / "splits", 0.2, 0.1, seed=0)
    assert all(open(again["split_files"][k]).read() == open(section["split_files"][k]).read() for k in got)
    fixed, _, how = data_section(tmp_path / "data", tmp_path / "x", split_files=read_split_dir(tmp_path / "run" / "splits"))
    assert fixed["split_files"] == section["split_files"] and how.startswith("split files")


def test_write_and_read_split_dir(tmp_path):
    written = write_split_files({"train": ["a.jpg", "b c.jpg"], "test": ["d.jpg"]}, tmp_path / "s")
    assert (tmp_path / "s" / "train.txt").read_text() == "a.jpg\nb c.jpg\n"
    assert read_split_dir(tmp_path / "s") == written
    with pytest.raises(DataError, match="no train.txt"):
        read_split_dir(tmp_path)
