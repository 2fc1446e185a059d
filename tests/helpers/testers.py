"""Base testers per task family, in the style of segmentation_models.pytorch's test suite.

Each model's test module subclasses one of them in a few lines (``class TestYOLOv1(DetectorTester)``
with a ``build`` method and its settings) and inherits the family's checks:

* the train/eval contract: what ``model(images, targets)`` returns in training (named, finite,
  differentiable scalar losses) and ``model(images)`` in eval (keys, dtypes, shapes, ranges);
* an overfit on four hand-made images: the summed loss falls by ``loss_factor`` in
  ``overfit_steps`` Adam steps, and the task is solved (detectors find the boxes, mAP ≥
  ``min_map``; segmenters label the pixels; captioners say the captions);
* export parity where the family exports: ONNX and TorchScript outputs equal PyTorch's.

The base classes are not named ``Test*``, so pytest collects their checks only through a
subclass. A subclass sets ``overfit_steps = 0`` or ``export_formats = ()`` to drop a check, with
a comment saying why or which other test covers it.
"""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch

from tests.helpers.detection import four_images
from visionkit.export import check_export, export_model
from visionkit.metrics.voc import voc_evaluate


def fit(model, loss_fn, steps: int, lr: float) -> list[float]:
    """``steps`` Adam steps on ``loss_fn()`` (a scalar); the loss of each step."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def assert_losses(losses: dict, keys: set[str]):
    """The training contract: exactly ``keys``, each a finite fp32 scalar with a gradient."""
    assert set(losses) == keys
    for name, value in losses.items():
        assert value.dim() == 0 and value.dtype == torch.float32, name
        assert torch.isfinite(value) and value.requires_grad, name


class _Tester:
    overfit_steps = 0  # 0: no overfit check
    lr = 1e-3
    loss_factor = 0.1  # the last step's loss is below this fraction of the first's
    export_formats: tuple[str, ...] = ()
    export_size = 128
    overfit_options: dict = {}  # build options for the overfit only (e.g. a score threshold)

    def build(self, **options):
        """The model under test (seeded by the caller); ``options`` are ``overfit_options``."""
        raise NotImplementedError

    def _require_overfit(self):
        if not self.overfit_steps:
            pytest.skip(f"{type(self).__name__}: no overfit check (overfit_steps = 0)")

    def _fit(self, model, loss_fn) -> list[float]:
        losses = fit(model, loss_fn, self.overfit_steps, self.lr)
        assert losses[-1] < self.loss_factor * losses[0], f"loss {losses[0]:.4f} -> {losses[-1]:.4f}"
        return losses

    def _check_export(self, task, tmp_path):
        if not self.export_formats:
            pytest.skip(f"{type(self).__name__}: no export check here (export_formats is empty)")
        torch.manual_seed(0)
        model = self.build().eval()
        for fmt in self.export_formats:
            path = export_model(model, task, fmt, tmp_path / f"model.{fmt}", self.export_size)
            assert check_export(model, task, path, self.export_size, seed=7) < 1e-4, fmt


class DetectorTester(_Tester):
    """Detectors: ``model(images, targets)`` -> losses; ``model(images)`` -> one
    ``{"boxes", "labels", "scores"}`` dict per image, in that image's pixels."""

    num_classes = 3
    loss_keys: set[str] = set()
    eval_sizes = [(128, 128), (100, 90)]
    min_map = 0.95
    export_formats = ("onnx", "torchscript")

    def test_train_returns_its_losses(self):
        images, targets = four_images()
        torch.manual_seed(0)
        assert_losses(self.build().train()(images, targets), self.loss_keys)

    def test_eval_returns_the_detection_contract(self):
        torch.manual_seed(0)
        model = self.build().eval()
        with torch.no_grad():
            out = model([torch.rand(3, h, w) for h, w in self.eval_sizes])
        assert isinstance(out, list) and len(out) == len(self.eval_sizes)
        for det, (h, w) in zip(out, self.eval_sizes):
            assert set(det) == {"boxes", "labels", "scores"}
            boxes, labels, scores = det["boxes"], det["labels"], det["scores"]
            n = len(boxes)
            assert boxes.shape == (n, 4) and labels.shape == scores.shape == (n,)
            assert boxes.dtype == scores.dtype == torch.float32 and labels.dtype == torch.int64
            if n:
                assert boxes.min() >= 0 and boxes[:, 2].max() <= w and boxes[:, 3].max() <= h
                assert (boxes[:, 2:] >= boxes[:, :2]).all()
                assert labels.min() >= 1 and labels.max() <= self.num_classes
                assert scores.min() >= 0 and scores.max() <= 1 and (scores[:-1] >= scores[1:]).all()

    def test_overfits_four_images(self):
        self._require_overfit()
        images, targets = four_images()
        torch.manual_seed(0)
        model = self.build(**self.overfit_options)
        self._fit(model, lambda: sum(model(images, targets).values()))
        model.eval()
        with torch.no_grad():
            preds = model(images)
        assert voc_evaluate(targets, preds, ["a", "b", "c"], iou_thr=0.5, metric="voc07")["mAP"] >= self.min_map
        self.after_overfit(model)

    def after_overfit(self, model):
        """Model-specific checks on the overfitted model."""

    def test_export_matches_pytorch(self, tmp_path):
        self._check_export("detection", tmp_path)


def segmentation_images(n=4, size=(32, 48), classes=3, void=11):
    """``n`` random images and masks: a class per image, the top rows tied to the red channel,
    the bottom rows void."""
    torch.manual_seed(0)
    images = torch.rand(n, 3, *size)
    masks = torch.randint(0, classes, (n, 1, 1)).expand(n, *size).clone()
    masks[:, :8] = (images[:, 0, :8] > 0.5).long()
    masks[:, -4:] = void
    return images, masks


class SegmenterTester(_Tester):
    """Segmenters: ``model(images, masks)`` -> losses (``ignore_index`` pixels ignored);
    ``model(images)`` -> one ``{"masks", "logits"}`` dict per image, at that image's size."""

    num_classes = 3
    ignore_index = 11
    loss_keys = {"loss_ce"}
    train_size = (32, 48)
    eval_sizes = [(40, 50), (61, 33)]
    min_pixel_accuracy = 0.95
    export_formats = ("onnx", "torchscript")

    def test_train_returns_its_losses(self):
        images, masks = segmentation_images(2, self.train_size, self.num_classes, self.ignore_index)
        assert_losses(self.build().train()(images, [{"masks": m} for m in masks]), self.loss_keys)

    def test_eval_returns_the_segmentation_contract(self):
        torch.manual_seed(0)
        model = self.build().eval()
        with torch.no_grad():
            out = model([torch.rand(3, h, w) for h, w in self.eval_sizes])
        assert isinstance(out, list) and len(out) == len(self.eval_sizes)
        for o, size in zip(out, self.eval_sizes):
            assert set(o) == {"masks", "logits"}
            assert o["masks"].shape == size and o["masks"].dtype == torch.int64
            assert o["logits"].shape == (self.num_classes, *size) and o["logits"].dtype == torch.float32
            assert torch.equal(o["masks"], o["logits"].argmax(0))

    def test_overfits_four_images(self):
        self._require_overfit()
        images, masks = segmentation_images(4, self.train_size, self.num_classes, self.ignore_index)
        model = self.build(**self.overfit_options)
        targets = [{"masks": m} for m in masks]  # the batch contract: one dict per image
        self._fit(model, lambda: sum(model(images, targets).values()))
        model.eval()
        with torch.no_grad():
            pred = torch.stack([o["masks"] for o in model(images)])
        valid = masks != self.ignore_index
        assert (pred[valid] == masks[valid]).float().mean() >= self.min_pixel_accuracy

    def test_export_matches_pytorch(self, tmp_path):
        self._check_export("segmentation", tmp_path)


class StepContext:
    """The engine's StepContext, reduced to what a model's ``train_step`` uses."""

    def autocast(self):
        return nullcontext()

    def backward(self, loss):
        loss.backward()

    def step(self, opt):
        opt.step()
        opt.zero_grad(set_to_none=True)


class OptimConfig:
    """The optimizer settings ``configure_optimizers`` reads (the DCGAN paper's)."""

    lr, betas, weight_decay = 2e-4, (0.5, 0.999), 0.0


def square_images(n=16, size=32, channels=1):
    """White squares on black, in [0, 1]: easy for a discriminator to tell from noise."""
    real = torch.zeros(n, channels, size, size)
    real[:, :, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1.0
    return real


class GeneratorTester(_Tester):
    """GANs: ``train_step((images, None), optimizers, ctx)`` -> a dict of floats with the
    discriminator's and generator's losses; ``model(batch)`` -> one ``{"images"}`` dict per
    item, ``C×S×S`` in [0, 1]. The overfit: in ``overfit_steps`` steps on 16 white squares, D's
    loss falls by ``loss_factor`` and its score for the real images rises."""

    size, channels = 32, 1
    step_keys = {"loss_d", "loss_g", "d_real", "d_fake"}

    def test_eval_returns_the_generation_contract(self):
        model = self.build().eval()
        out = model(torch.zeros(3, self.channels, self.size, self.size))
        assert isinstance(out, list) and len(out) == 3
        for o in out:
            assert set(o) == {"images"} and o["images"].shape == (self.channels, self.size, self.size)
            assert o["images"].dtype == torch.float32 and 0 <= o["images"].min() and o["images"].max() <= 1

    def test_train_step_returns_its_losses(self):
        torch.manual_seed(0)
        model = self.build()
        out = model.train_step((square_images(4, self.size, self.channels), None), model.configure_optimizers(OptimConfig()), StepContext())
        assert self.step_keys <= set(out)
        assert all(torch.isfinite(torch.as_tensor(out[k])) for k in self.step_keys)

    def test_discriminator_learns_the_real_images(self):
        self._require_overfit()
        torch.manual_seed(0)
        model = self.build()
        opts, real = model.configure_optimizers(OptimConfig()), square_images(16, self.size, self.channels)
        steps = [model.train_step((real, None), opts, StepContext()) for _ in range(self.overfit_steps)]
        first, last = steps[0], steps[-1]
        assert last["loss_d"] < self.loss_factor * first["loss_d"], f"{first['loss_d']:.4f} -> {last['loss_d']:.4f}"
        assert last["d_real"] > first["d_real"] and last["loss_g"] != first["loss_g"]


class CaptionerTester(_Tester):
    """Captioners: ``model(images, [{"tokens": L_i}, ...])`` -> ``{"loss_caption"}``; ``model(images)``
    -> one ``{"captions": [str]}`` dict per image. The overfit: four random images, four
    captions, said back word for word."""

    captions = ["a red bus on the road", "two dogs play in the grass", "a man rides a horse", "a plate of food on a table"]
    loss_keys = {"loss_caption"}
    image_size = 64

    def build(self, words, **options):
        raise NotImplementedError

    def data(self):
        from visionkit.data.vocab import Vocabulary

        vocab = Vocabulary.build(self.captions)
        words = [vocab.decode([i], strip=False) for i in range(len(vocab))]
        targets = [{"tokens": torch.tensor(vocab.encode(c)), "captions": [c]} for c in self.captions]  # one dict per image
        torch.manual_seed(0)
        return torch.rand(len(self.captions), 3, self.image_size, self.image_size), words, targets

    def test_train_returns_its_losses(self):
        images, words, targets = self.data()
        assert_losses(self.build(words).train()(images, targets), self.loss_keys)

    def test_eval_returns_the_captioning_contract(self):
        images, words, _ = self.data()
        with torch.no_grad():
            out = self.build(words).eval()(images[:2])
        assert isinstance(out, list) and len(out) == 2
        for o in out:
            assert set(o) == {"captions"} and len(o["captions"]) == 1 and isinstance(o["captions"][0], str)
            assert set(o["captions"][0].split()) <= set(words)

    def test_overfits_four_images(self):
        self._require_overfit()
        images, words, targets = self.data()
        model = self.build(words, **self.overfit_options)
        self._fit(model, lambda: model(images, targets)["loss_caption"])
        model.eval()
        with torch.no_grad():
            said = [o["captions"][0] for o in model(images)]
        assert said == self.captions
        self.after_overfit(model, images)

    def after_overfit(self, model, images):
        """Model-specific checks on the overfitted model."""
