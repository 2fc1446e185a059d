"""The readers against the real data sets in $VISIONKIT_DATA (skipped without it): the counts
of /work/shared/data/README.md and a few annotations checked by hand."""

import numpy as np
import pytest

from visionkit.config import DataConfig
from visionkit.data import build_dataset
from visionkit.data.captions import CocoCaptions
from visionkit.data.coco import COCODetection
from visionkit.data.idx import IDXDataset
from visionkit.data.masks import masks
from visionkit.data.voc import VOCDetection
from visionkit.data.yolo import YOLODetection

CAMVID = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"]


def test_bccd_counts_and_a_known_box(data_dir):
    sets = {s: VOCDetection(data_dir / "bccd", s) for s in ("train", "val", "test")}
    assert {s: len(d) for s, d in sets.items()} == {"train": 205, "val": 87, "test": 72}
    assert sets["train"].classes == ["Platelets", "RBC", "WBC"]
    total = {c: sum(d.class_counts()[c] for d in sets.values()) for c in ("RBC", "WBC", "Platelets")}
    dropped = [i for d in sets.values() for i in d.issues.of("box_dropped")]
    # the README counts 4155 RBC boxes; two of them are single points (xmin == xmax), dropped and reported
    assert total == {"RBC": 4155 - len(dropped), "WBC": 372, "Platelets": 361} and len(dropped) == 2
    assert {i.file.rsplit("/", 1)[-1] for i in dropped} == {"BloodImage_00338.xml", "BloodImage_00343.xml"}
    val = sets["val"]
    k = next(i for i, it in enumerate(val.items) if it.path.endswith("BloodImage_00000.jpg"))
    image, t = val.raw(k)
    assert image.shape == (480, 640, 3)
    assert t["labels"][0] == 3 and t["boxes"][0].tolist() == [260, 177, 491, 376]  # the WBC
    assert len(t["boxes"]) == 20


def test_coco128_counts_and_id_mapping(data_dir):
    ds = COCODetection(data_dir / "coco128", "train2017")
    assert len(ds) == 128 and len(ds.classes) == 80 and ds.num_boxes() == 939
    assert ds.cat_ids[1] == 1 and ds.cat_ids[80] == 90 and ds.classes[0] == "person"
    assert ds.issues.counts()["no_labels"] == 2  # two negatives kept
    k = next(i for i, it in enumerate(ds.items) if it.image_id == 74)
    _, t = ds.raw(k)
    i = int(np.argmin(np.abs(t["boxes"][:, 0] - 61.87)))
    np.testing.assert_allclose(t["boxes"][i], [61.87, 276.25, 61.87 + 296.42, 276.25 + 103.18], atol=1e-3)
    assert ds.cat_ids[int(t["labels"][i])] == 18  # dog


def test_coco128_yolo_labels_agree_with_the_json(data_dir, tmp_path):
    coco = COCODetection(data_dir / "coco128", "train2017", skip_crowd=True)  # YOLO labels leave out crowds
    (tmp_path / "names.txt").write_text("\n".join(coco.classes) + "\n")
    yolo = YOLODetection(data_dir / "coco128", "train2017", images="{split}", names=str(tmp_path / "names.txt"))
    assert len(yolo) == 128 and yolo.num_boxes() == coco.num_boxes() == 939 - 10
    for a, b in zip(coco.items, yolo.items):
        assert a.labels.tolist() == b.labels.tolist()
        np.testing.assert_allclose(a.boxes, b.boxes, atol=0.01)


def test_camvid_counts(data_dir):
    sizes = {s: len(masks(str(data_dir / "camvid"), s, classes=CAMVID, ignore_index=11)) for s in ("train", "val", "test")}
    assert sizes == {"train": 367, "val": 101, "test": 233}
    ds = masks(str(data_dir / "camvid"), "test", classes=CAMVID, ignore_index=11)
    image, t = ds.raw(0)
    assert image.shape == (360, 480, 3) and t["masks"].shape == (360, 480)
    assert t["masks"].max() <= 11 and not ds.issues.counts()


def test_captions_counts(data_dir):
    train = CocoCaptions(data_dir / "coco-captions", "train", train=True)
    test = CocoCaptions(data_dir / "coco-captions", "test")
    assert (train.num_images, train.num_captions, len(train)) == (303, 1515, 1515)
    assert (test.num_images, test.num_captions, len(test)) == (60, 301, 60)
    _, t = test.raw(0)
    assert t["image_id"] == 785 and t["captions"][0] == "A woman posing for the camera standing on skis."
    assert len(train.vocab) > 100 and train.vocab.itos[:4] == ["<pad>", "<start>", "<end>", "<unk>"]


def test_fashion_mnist_counts(data_dir):
    train, test = IDXDataset(data_dir / "fashion-mnist", "train"), IDXDataset(data_dir / "fashion-mnist", "test")
    assert (len(train), len(test)) == (60000, 10000)
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert train.classes[9] == "Ankle boot" and train.raw(0)[1]["label"] == 9


def test_build_dataset_on_bccd(data_dir):
    cfg = DataConfig(format="voc", root=str(data_dir / "bccd"), img_size=256)
    ds = build_dataset(cfg, "test", train=False)
    image, t = ds[0]
    assert image.shape == (3, 256, 256) and t["meta"]["scale"] == (0.4, 0.4) and t["meta"]["pad"] == (0, 32)
