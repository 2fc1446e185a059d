import numpy as np
import torch
from torchvision.ops import box_iou

from visionkit.models.detection.selective_search import ProposalCache, selective_search


def _image():
    rng = np.random.default_rng(0)
    img = (rng.random((120, 160, 3)) * 30 + 100).astype(np.uint8)  # textured grey
    img[20:60, 15:70] = (220, 40, 40)  # a red object
    img[70:110, 90:150] = (30, 60, 210)  # a blue object
    return img, torch.tensor([[15.0, 20, 70, 60], [90, 70, 150, 110]])


def test_selective_search_finds_the_objects():
    img, gt = _image()
    boxes = selective_search(img)
    assert boxes.dtype == np.float32 and boxes.shape[1] == 4
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 160).all() and (boxes[:, 3] <= 120).all()
    assert len(np.unique(boxes, axis=0)) == len(boxes)
    best = box_iou(gt, torch.from_numpy(boxes)).max(1).values
    assert (best > 0.8).all()


def test_cache_returns_the_same_boxes_without_recomputing(tmp_path, monkeypatch):
    img, _ = _image()
    cache = ProposalCache(tmp_path, scales=(50,), max_proposals=100)
    first = cache(img)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def boom(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr("visionkit.models.detection.selective_search.selective_search", boom)
    assert np.array_equal(cache(img), first)
    other = ProposalCache(tmp_path, scales=(100,))  # other parameters: another key
    assert other.key(img) != cache.key(img)


def _voc_with_proposals(tmp_path, monkeypatch, **augment):
    from tests.data.fixtures import make_voc
    from visionkit.config import Config, DataConfig
    from visionkit.engine.build import build_dataset

    make_voc(tmp_path / "voc")
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path / "cache"))
    cfg = Config(data=DataConfig(format="voc", root=str(tmp_path / "voc"), img_size=128, proposals="selective_search"))
    for k, v in augment.items():
        setattr(cfg.data.augment, k, v)
    return build_dataset(cfg, "train", train=True)  # the engine gives the reader the selective-search cache


def test_training_samples_carry_proposals_computed_once_on_the_original_image(tmp_path, monkeypatch):
    plain = _voc_with_proposals(tmp_path, monkeypatch, hflip=0.0)
    image, target = plain.raw(0)
    original = selective_search(image)
    _, sample = plain[0]
    # letterboxed with the image: 80×60 -> 128×96 content, 16 px of padding above
    expected = torch.from_numpy(original) * 1.6 + torch.tensor([0.0, 16, 0, 16])
    assert torch.allclose(sample["proposals"], expected, atol=1e-3)
    assert len(list((tmp_path / "cache" / "proposals").glob("*.npy"))) == 1

    flipped = _voc_with_proposals(tmp_path, monkeypatch, hflip=1.0)
    calls = []
    monkeypatch.setattr("visionkit.models.detection.selective_search.selective_search", lambda *a, **k: calls.append(1))
    _, fsample = flipped[0]
    assert not calls  # the flipped sample reuses the original image's cached search
    mirrored = torch.stack([128 - expected[:, 2], expected[:, 1], 128 - expected[:, 0], expected[:, 3]], 1)
    assert torch.allclose(fsample["proposals"], mirrored, atol=1e-3)
    assert torch.allclose(fsample["boxes"][:, [0, 2]], 128 - sample["boxes"][:, [2, 0]], atol=1e-3)
    assert torch.equal(fsample["labels"], sample["labels"])


def test_the_proposer_prefers_the_samples_proposals_in_training(tmp_path):
    from visionkit.models.detection.proposals import SelectiveSearchProposer

    proposer = SelectiveSearchProposer(tmp_path, (2, 5))
    x = torch.rand(1, 3, 32, 32)
    given = [{"proposals": torch.tensor([[0.0, 0, 8, 8], [1, 1, 9, 9], [2, 2, 10, 10]])}]
    assert torch.equal(proposer(x, [(32, 32)], True, given)[0], given[0]["proposals"][:2])
    assert not list(tmp_path.glob("*.npy"))  # nothing searched
    proposer(x, [(32, 32)], False, given)  # inference ignores targets: searches the image
    assert len(list(tmp_path.glob("*.npy"))) == 1


def test_proposals_option_is_checked(tmp_path):
    import pytest

    from tests.data.fixtures import make_voc
    from visionkit.config import DataConfig
    from visionkit.data.build import build_dataset
    from visionkit.errors import ConfigError

    make_voc(tmp_path)
    with pytest.raises(ConfigError, match="data.proposals"):
        build_dataset(DataConfig(format="voc", root=str(tmp_path), proposals="edge_boxes"), "train", train=True)


def test_the_data_layer_attaches_what_the_proposer_returns(tmp_path):
    from tests.data.fixtures import make_voc
    from visionkit.config import DataConfig
    from visionkit.data.build import build_dataset

    make_voc(tmp_path)
    cfg = DataConfig(format="voc", root=str(tmp_path), img_size=128, proposals="selective_search")
    boxes = np.array([[1.0, 2, 30, 40]], np.float32)
    train = build_dataset(cfg, "train", train=True, proposer=lambda image: boxes)
    assert np.array_equal(train.raw(0)[1]["proposals"], boxes)
    evaluation = build_dataset(cfg, "train", train=False, proposer=lambda image: boxes)
    assert "proposals" not in evaluation.raw(0)[1]  # evaluation images get theirs from the model
