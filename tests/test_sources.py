import cv2
import numpy as np

from tests.helpers.media import write_clip
from visionkit.sources import count_sources, iter_sources


def test_paths_folders_globs_arrays_and_bad_items(tmp_path):
    for name in ("b.png", "a.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((10, 12, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    arr = np.zeros((5, 6, 3), np.uint8)
    items = list(iter_sources([tmp_path, str(tmp_path / "*.jpg"), arr, tmp_path / "missing.jpg", np.zeros((4, 4), np.float32)]))
    names = [i.name.split("/")[-1] for i in items]
    assert names == ["a.jpg", "b.png", "bad.png", "a.jpg", "array2", "missing.jpg", "array4"]
    errors = {n: i.error for n, i in zip(names, items) if i.error}
    assert set(errors) == {"bad.png", "missing.jpg", "array4"}
    assert "no such file" in errors["missing.jpg"] and "uint8" in errors["array4"]
    assert items[0].image.shape == (10, 12, 3)
    assert count_sources([tmp_path]) == 3


def test_video_frames(tmp_path):
    path = write_clip(tmp_path / "clip.avi")
    items = list(iter_sources(path))
    assert [i.frame for i in items] == [0, 1, 2]
    assert items[0].name.endswith("clip.avi#0") and items[2].image.shape == (24, 32, 3)
    assert count_sources(path) is None
