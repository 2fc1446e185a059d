"""The engine's feature cache around Show and Tell's frozen CNN: the same features as no cache,
the CNN run once per distinct image, and the trainer attaching it."""

from __future__ import annotations

import engine_toys as T
import torch

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from visionkit.engine.feature_cache import FeatureCache, attach_feature_caches
from visionkit.engine.trainer import Trainer
from visionkit.registry import MODELS

WORDS = ["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "cat"]


def _show_tell(**kw):
    torch.manual_seed(0)
    return MODELS.build("show_tell", classes=WORDS, backbone="tiny_test", pretrained=False, embed_dim=8, hidden=16, **kw)


def test_cached_features_equal_uncached_and_the_cnn_runs_once_per_image():
    model = _show_tell()
    enc, calls = model.encoder, []
    enc.backbone.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    a, b = torch.rand(3, 3, 64, 64), torch.rand(1, 3, 64, 64)
    plain = enc.pooled(a)  # no cache attached: the CNN itself
    assert enc.feature_cache is None and calls == [3]

    (cache,) = attach_feature_caches(model)
    assert enc.feature_cache is cache
    assert torch.equal(enc.pooled(a), plain) and calls == [3, 3] and len(cache) == 3
    assert torch.equal(enc.pooled(a), plain) and calls == [3, 3]  # all three from the cache
    mixed = enc.pooled(torch.cat([a[2:], b, a[:1]]))  # two seen images, one new
    assert calls == [3, 3, 1]
    assert torch.equal(mixed[0], plain[2]) and torch.equal(mixed[2], plain[0])
    torch.testing.assert_close(mixed[1], enc.cnn(b)[0])

    model.train()  # the whole model, cached or not, gives the same loss
    targets = [{"tokens": torch.tensor([1, 4, 5, 2])}, {"tokens": torch.tensor([1, 4, 6, 2])}, {"tokens": torch.tensor([1, 5, 2])}]
    torch.manual_seed(1)
    cached_loss = model(a, targets)["loss_caption"]
    enc.feature_cache = None
    torch.manual_seed(1)
    assert torch.equal(model(a, targets)["loss_caption"], cached_loss)
    assert not any("cache" in k for k in model.state_dict())


def test_loading_weights_empties_the_cache_and_a_trained_cnn_gets_none():
    model = _show_tell()
    (cache,) = attach_feature_caches(model)
    model.encoder.pooled(torch.rand(2, 3, 64, 64))
    assert len(cache) == 2
    model.load_state_dict(model.state_dict())
    assert len(cache) == 0
    assert attach_feature_caches(_show_tell(train_backbone=True)) == []


def test_the_cache_keeps_at_most_max_entries_and_still_answers_every_image():
    cache, fn = FeatureCache(max_entries=2), lambda x: x.flatten(1).sum(1, keepdim=True)
    x = torch.rand(5, 1, 2, 2)
    assert torch.equal(cache(fn, x), fn(x)) and len(cache) == 2
    assert torch.equal(cache(fn, x.flip(0)), fn(x.flip(0)))


def test_the_trainer_attaches_caches_to_the_model_and_its_ema(tmp_path):
    class Frozen(T.ToyCNN):
        frozen = True

        def __init__(self):
            super().__init__()
            self.feature_cache = None

    trainer = Trainer(T.toy_config(tmp_path, epochs=1, ema=0.9), model=Frozen(), train_set=T.ToyImages(8))
    assert isinstance(trainer.net.feature_cache, FeatureCache) and isinstance(trainer.ema.module.feature_cache, FeatureCache)
    assert trainer.net.feature_cache is not trainer.ema.module.feature_cache
    assert len(trainer.feature_caches) == 2
    plain = Trainer(T.toy_config(tmp_path, epochs=1), model=T.ToyCNN(), train_set=T.ToyImages(8))
    assert plain.feature_caches == []
