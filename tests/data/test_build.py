import pytest
import torch

from visionkit.config import AugmentConfig, DataConfig
from visionkit.data import build_dataset, make_loader
from visionkit.errors import ConfigError, DataError
from visionkit.registry import DATASETS

from .fixtures import make_coco, make_idx, make_voc


def test_registry_has_every_format():
    assert {"voc", "coco", "yolo", "masks", "voc_masks", "coco_captions", "idx"} <= set(DATASETS.names())


def test_build_voc_with_transforms_and_loader(tmp_path):
    make_voc(tmp_path)
    cfg = DataConfig(format="voc", root=str(tmp_path), img_size=64, augment=AugmentConfig(hflip=0.5))
    ds = build_dataset(cfg, "train", train=True)
    assert ds.classes == ["bird", "cat", "dog"] and ds.task == "detection"
    image, t = ds[0]
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32 and 0 <= image.min() <= image.max() <= 1
    assert t["boxes"].dtype == torch.float32 and t["labels"].dtype == torch.int64 and "meta" in t
    raw_image, raw_t = ds.raw(0)
    assert raw_image.shape == (60, 80, 3)
    images, targets = next(iter(make_loader(ds, 3, shuffle=True, workers=0)))
    assert images.shape == (3, 3, 64, 64) and len(targets) == 3


def test_options_are_typed_and_checked(tmp_path):
    make_coco(tmp_path)
    cfg = DataConfig(format="coco", root=str(tmp_path), train="train", img_size=32, options={"skip_crowd": "true"})
    assert build_dataset(cfg, "train", False).num_boxes() == 2  # "true" coerced to bool
    cfg.options = {"skip_crwd": True}
    with pytest.raises(ConfigError, match="did you mean 'skip_crowd'"):
        build_dataset(cfg, "train", False)
    cfg.options = {"root": "x"}
    with pytest.raises(ConfigError, match="set data.root"):
        build_dataset(cfg, "train", False)
    with pytest.raises(ConfigError, match="unknown dataset 'cocoo'; did you mean 'coco'"):
        build_dataset(DataConfig(format="cocoo", root="x"), "train", False)


def test_empty_split_is_an_error(tmp_path):
    make_voc(tmp_path, splits={"train": ["img_002"], "val": ["nope"]})
    with pytest.raises(DataError, match="no usable items"):
        build_dataset(DataConfig(format="voc", root=str(tmp_path)), "val", False)


def test_idx_loader_with_a_worker_and_distributed_sampler(tmp_path):
    make_idx(tmp_path)
    ds = build_dataset(DataConfig(format="idx", root=str(tmp_path), img_size=32, resize="stretch"), "train", True)
    loader = make_loader(ds, 4, shuffle=True, workers=1)
    x, y = next(iter(loader))
    assert x.shape == (4, 1, 32, 32) and len(y) == 4 and all(0 <= t["label"] < len(ds.classes) for t in y)
    sampler = torch.utils.data.distributed.DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    loader = make_loader(ds, 4, shuffle=True, workers=0, sampler=sampler)
    assert [len(b[1]) for b in loader] == [4, 2]  # rank 1 of 2 gets 6 of the 12 images


def test_make_loader_distributed_uses_a_distributed_sampler(tmp_path):
    import torch.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is already running in this session")
    make_idx(tmp_path)
    ds = build_dataset(DataConfig(format="idx", root=str(tmp_path), img_size=28), "train", False)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        loader = make_loader(ds, 5, shuffle=True, workers=0, distributed=True, seed=3)
        assert isinstance(loader.sampler, torch.utils.data.distributed.DistributedSampler)
        loader.sampler.set_epoch(1)
        assert sorted(i for b in [list(loader.sampler)] for i in b) == list(range(12))
        assert [len(y) for _, y in loader] == [5, 5, 2]
    finally:
        dist.destroy_process_group()


def test_a_split_can_be_sliced_to_hold_out_a_validation_part(tmp_path):
    from visionkit.data.build import parse_split

    from .fixtures import make_captions

    assert parse_split("train") == ("train", None)
    assert parse_split("train[:-50]") == ("train", slice(None, -50))
    assert parse_split("train2017[10:20]") == ("train2017", slice(10, 20))
    make_voc(tmp_path / "voc")
    cfg = DataConfig(format="voc", root=str(tmp_path / "voc"), img_size=64)
    whole = build_dataset(cfg, "train", train=False)
    head, tail = build_dataset(cfg, "train[:-1]", train=False), build_dataset(cfg, "train[-1:]", train=False)
    assert [it.path for it in head.items] + [it.path for it in tail.items] == [it.path for it in whole.items]
    make_idx(tmp_path / "idx", n=12)
    idx_cfg = DataConfig(format="idx", root=str(tmp_path / "idx"), img_size=28)
    assert torch.equal(build_dataset(idx_cfg, "train[8:]", train=False)[1][0], build_dataset(idx_cfg, "train", train=False)[9][0])
    # captions: every caption of an image stays on its side; training pairs, evaluation images
    make_captions(tmp_path / "caps")
    cap_cfg = DataConfig(format="coco_captions", root=str(tmp_path / "caps"), img_size=32, resize="stretch",
                         train="train[:1]", val="train[1:]", options={"min_freq": 1})
    train, val = build_dataset(cap_cfg, cap_cfg.train, train=True), build_dataset(cap_cfg, cap_cfg.val, train=False)
    assert len(train) == 3 and {t["image_id"] for _, t in (train.raw(i) for i in range(3))} == {1}
    assert len(val) == 1 and val.raw(0)[1]["image_id"] == 2
    assert train.vocab.itos == val.vocab.itos  # one vocabulary, from the training file
    with pytest.raises(DataError, match="no usable items"):
        build_dataset(cfg, "train[10:]", train=False)
