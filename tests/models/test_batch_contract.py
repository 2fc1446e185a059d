"""The one batch contract, end to end: what ``collate`` yields, every non-detection model
trains a step from, and no module still speaks the old segmentation key."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.helpers.testers import StepContext
from visionkit.data.collate import collate
from visionkit.data.synthetic import SyntheticShapes
from visionkit.config import AugmentConfig
from visionkit.data.transforms import Transform
from visionkit.engine.device import split_batch
from visionkit.models.common import pad_tokens, stack_labels, stack_masks
from visionkit.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]


def _step(model, images, targets) -> dict:
    """One SGD step from ``(images, targets)``; returns the losses and asserts the weights moved."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    losses = model(images, targets)
    sum(losses.values()).backward()
    torch.optim.SGD(params, lr=0.1).step()
    assert all(torch.isfinite(v) for v in losses.values())
    assert any(not torch.equal(b, p) for b, p in zip(before, params))
    return losses


def test_stacking_helpers():
    targets = [{"masks": torch.ones(2, 3, dtype=torch.int64)}, {"masks": torch.zeros(3, 2, dtype=torch.int64)}]
    m = stack_masks(targets, (3, 4), ignore_index=9)
    assert m.dtype == torch.int64 and m.tolist() == [[[1, 1, 1, 9], [1, 1, 1, 9], [9, 9, 9, 9]],
                                                     [[0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9]]]
    tokens, lengths = pad_tokens([{"tokens": torch.tensor([1, 5, 6, 2])}, {"tokens": [1, 7, 2]}], pad_id=0)
    assert tokens.tolist() == [[1, 5, 6, 2], [1, 7, 2, 0]] and lengths.tolist() == [4, 3]
    assert stack_labels([{"label": 3}, {"label": torch.tensor(7)}]).tolist() == [3, 7]


@pytest.mark.parametrize("name", ["fcn", "smp_unet"])
def test_segmenters_train_from_the_reader_transform_collate_pipeline(name):
    torch.manual_seed(0)
    ds = SyntheticShapes("train", "segmentation", num_images=2, size=64, num_classes=3)
    ds.transform = Transform(64, "letterbox", "segmentation", AugmentConfig(hflip=0.5), ignore_index=255)
    images, targets = split_batch(collate([ds[0], ds[1]]))
    assert images.shape == (2, 3, 64, 64)
    assert [t["masks"].shape for t in targets] == [(64, 64)] * 2 and targets[0]["masks"].dtype == torch.int64
    kw = {"backbone": "tiny_test", "fc_channels": 0} if name == "fcn" else {"encoder": "resnet18"}
    model = MODELS.build(name, num_classes=4, pretrained=False, ignore_index=255, **kw)
    assert set(_step(model, images, targets)) == {"loss_ce"}


def test_show_and_tell_trains_from_collated_caption_targets():
    from visionkit.data.vocab import Vocabulary

    caps = ["a red bus", "two dogs play in the grass"]
    vocab = Vocabulary.build(caps)
    words = [vocab.decode([i], strip=False) for i in range(len(vocab))]
    samples = [(torch.rand(3, 32, 32), {"tokens": torch.tensor(vocab.encode(c)), "captions": [c], "image_id": i, "meta": {}})
               for i, c in enumerate(caps)]
    images, targets = split_batch(collate(samples))
    model = MODELS.build("show_tell", classes=words, backbone="tiny_test", pretrained=False, embed_dim=8, hidden=16)
    assert set(_step(model, images, targets)) == {"loss_caption"}


def test_classifier_trains_from_collated_labels():
    images, targets = split_batch(collate([(torch.rand(1, 32, 32), {"label": k % 2}) for k in range(4)]))
    model = MODELS.build("classifier", num_classes=2, network="lenet5", in_channels=1)
    assert set(_step(model, images, targets)) == {"loss_cls"}


def test_dcgan_train_step_takes_the_collated_batch():
    torch.manual_seed(0)
    batch = collate([(torch.rand(1, 32, 32), {"label": 0}) for _ in range(4)])
    model = MODELS.build("dcgan", img_size=32, channels=1, z_dim=8, g_width=8, d_width=8)
    before = model.generator.net[0].weight.detach().clone()
    train_cfg = SimpleNamespace(lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
    out = model.train_step(batch, model.configure_optimizers(train_cfg), StepContext())
    assert {"loss_d", "loss_g"} <= set(out) and all(torch.isfinite(v) for v in out.values())
    assert not torch.equal(before, model.generator.net[0].weight)


def test_the_old_segmentation_target_key_is_gone():
    """Segmentation targets are ``masks`` everywhere (the eval output's name too); the only
    quoted ``mask`` left is albumentations' own keyword, named once in transforms.py."""
    old = re.compile(r"""["']mask["']""")
    hits = []
    for folder in ("visionkit", "tools", "tests", "docs", "data"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".yaml") and path.is_file():
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if old.search(line) and not line.startswith("ALBU_MASK = "):
                        hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    for readme in ROOT.glob("*.md"):
        hits += [f"{readme.name}: {line}" for line in readme.read_text(encoding="utf-8").splitlines() if old.search(line)]
    assert not hits, "\n".join(hits)
