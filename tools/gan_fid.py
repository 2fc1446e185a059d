"""A GAN's FID against the real-vs-real floor, in one run (issue #8's goal: within 3x).

    python tools/gan_fid.py configs/dcgan_fashion_mnist.yaml --weights runs/dcgan_fashion_mnist/best.pt

All FIDs are taken in the feature space of the classifier named by the config's
``eval.fid_weights`` (LeNet-5 trained on Fashion-MNIST: 84-d penultimate features), against the
whole test split, with the same number of samples on the other side (``--n``, default: the test
split's size) because FID's bias depends on it:

* floor: ``--n`` random *real* training images vs the test split -- what a perfect generator
  would score, the sampling noise of FID itself;
* GAN: ``--n`` generated images vs the test split.

Each FID is also split into its mean and covariance terms, and the classifier's predicted class
shares of the generated images are set beside the test split's: a generator that skips some
classes (mode dropping) shows up as a large total-variation distance between the two.

``--bn`` chooses the generator's BatchNorm statistics when sampling: ``running`` (the checkpoint's,
the default), ``recalibrated`` (recomputed over 200 fresh batches of noise with the weights as
they are, which matters when the weights are an EMA whose running statistics were averaged
too), or ``batch`` (each batch's own statistics, as in training). ``--raw`` samples with the
weights the optimizer trained instead of their EMA (``train.ema``), where the checkpoint has both.

The floor moves by a quarter with the choice of real training images, so ``--seed 0 1 2 3 4``
repeats both measurements over several seeds (each seed picks the real images and the noise) and
reports the ratio of the mean FIDs beside each seed's own.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.config import load_config  # noqa: E402
from visionkit.data.build import build_dataset, make_loader  # noqa: E402
from visionkit.engine.restore import attach_fid_extractor, build_from_checkpoint  # noqa: E402
from visionkit.errors import UserError, run_script  # noqa: E402
from visionkit.metrics.fid import fid_terms  # noqa: E402
from visionkit.utils.io import atomic_write_text  # noqa: E402


def _features_and_logits(features, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return features.classifier.features_and_logits(images.float())  # one pass for both


def _cat(pairs) -> tuple[np.ndarray, np.ndarray]:
    feats, logits = zip(*pairs)
    return torch.cat(feats).numpy(), torch.cat(logits).numpy()


@torch.inference_mode()
def real_features(features, dataset, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and classifier logits of a real data set."""
    loader = make_loader(dataset, batch_size, shuffle=False, workers=2)
    return _cat(_features_and_logits(features, images) for images, _ in loader)


@torch.inference_mode()
def fake_features(features, gan, n: int, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and classifier logits of ``n`` generated images."""
    g = torch.Generator().manual_seed(seed)
    return _cat(_features_and_logits(features, gan.sample(min(batch_size, n - i), generator=g))
                for i in range(0, n, batch_size))


@torch.no_grad()
def with_bn_statistics(gan, mode: str, batches: int = 200, batch_size: int = 128, seed: int = 1):
    """A copy of ``gan`` whose generator samples with ``mode`` BatchNorm statistics (``--bn``)."""
    if mode == "running":
        return gan
    gan = copy.deepcopy(gan)
    bns = [m for m in gan.generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if mode == "recalibrated":  # a plain average over the batches (momentum None), then eval mode
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        gan.generator.train()
        g = torch.Generator().manual_seed(seed)
        for _ in range(batches):
            gan.generator(torch.randn(batch_size, gan.z_dim, generator=g))
        gan.generator.eval()
    else:  # "batch": sample in training mode, each batch normalised by its own statistics
        for m in bns:
            m.train()
            m.track_running_stats = False
            m.running_mean = m.running_var = None
    return gan


def fid_parts(a: np.ndarray, b: np.ndarray) -> dict:
    mean_term, cov_term = fid_terms(a, b)
    return {"fid": mean_term + cov_term, "mean_term": mean_term, "cov_term": cov_term}


def class_shares(logits: np.ndarray) -> list[float]:
    """The share of each class among the arg-max predictions of N×K ``logits``."""
    return (np.bincount(logits.argmax(1), minlength=logits.shape[1]) / max(len(logits), 1)).tolist()


def measure(features, gan, train, f_test: np.ndarray, n: int, batch_size: int, seed: int) -> dict:
    """The floor (``n`` real training images picked by ``seed``) and the GAN (``n`` samples drawn
    with ``seed``), each against the test split's features ``f_test``."""
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n].tolist()
    f_train, _ = real_features(features, torch.utils.data.Subset(train, pick), batch_size)
    f_fake, l_fake = fake_features(features, gan, n, batch_size, seed)
    floor, fake = fid_parts(f_train, f_test), fid_parts(f_fake, f_test)
    return {"seed": seed, "floor_terms": floor, "gan_terms": fake, "ratio": fake["fid"] / floor["fid"],
            "class_share_generated": class_shares(l_fake)}


def _mean_terms(rows: list[dict], key: str) -> dict:
    return {k: float(np.mean([r[key][k] for r in rows])) for k in ("fid", "mean_term", "cov_term")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--weights", required=True, help="the GAN checkpoint")
    ap.add_argument("--n", type=int, default=0, help="samples per side (default: the test split's size)")
    ap.add_argument("--seed", type=int, nargs="+", default=[0],
                    help="one or more seeds; each picks the floor's real images and the GAN's noise")
    ap.add_argument("--bn", choices=["running", "recalibrated", "batch"], default="running",
                    help="the generator's BatchNorm statistics when sampling (see above)")
    ap.add_argument("--raw", action="store_true", help="the trained weights, not their EMA (where the checkpoint has one)")
    ap.add_argument("--out", default="", help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    cfg = load_config(args.config)
    if not cfg.eval.fid_weights:
        raise UserError(f"{args.config}: eval.fid_weights is empty: name the classifier checkpoint that defines the features")
    gan, _, _ = build_from_checkpoint(args.weights, use_ema=not args.raw)
    gan = with_bn_statistics(gan, args.bn)
    attach_fid_extractor(gan, cfg)
    features, bs = gan.fid_extractor, cfg.eval.batch_size or cfg.data.batch_size

    test = build_dataset(cfg.data, cfg.data.test, False)
    train = build_dataset(cfg.data, cfg.data.train, False)
    n = args.n or len(test)
    f_test, l_test = real_features(features, test, bs)
    rows = [measure(features, gan, train, f_test, n, bs, seed) for seed in args.seed]

    # one seed: its own numbers; several: the means over seeds, and the ratio of the mean FIDs
    floor, fake = _mean_terms(rows, "floor_terms"), _mean_terms(rows, "gan_terms")
    share_test = class_shares(l_test)
    share_fake = np.mean([r["class_share_generated"] for r in rows], axis=0).tolist()
    k = len(share_test)
    out = {"bn": args.bn, "raw": args.raw, "n": n, "n_test": len(test), "seeds": args.seed,
           "fid_floor_train_vs_test": floor["fid"], "fid_gan_vs_test": fake["fid"], "ratio": fake["fid"] / floor["fid"],
           "floor_terms": floor, "gan_terms": fake, "class_share_test": share_test, "class_share_generated": share_fake,
           "class_share_tv": 0.5 * float(np.abs(np.subtract(share_fake, share_test)).sum()), "per_seed": rows}
    print(f"FID (features of {cfg.eval.fid_weights}), {n} samples vs {len(test)} test images")
    if len(rows) > 1:
        for r in rows:
            print(f"  seed {r['seed']:<4d} floor {r['floor_terms']['fid']:.4f}   GAN {r['gan_terms']['fid']:.4f}   ratio {r['ratio']:.2f}")
        print(f"  means over the {len(rows)} seeds (ratios {min(r['ratio'] for r in rows):.2f}-{max(r['ratio'] for r in rows):.2f}):")
    print(f"  real train vs test (floor) {floor['fid']:10.4f}   mean term {floor['mean_term']:.4f}, covariance term {floor['cov_term']:.4f}")
    print(f"  generated vs test          {fake['fid']:10.4f}   mean term {fake['mean_term']:.4f}, covariance term {fake['cov_term']:.4f}")
    print(f"  ratio GAN / floor          {out['ratio']:10.2f}   (goal <= 3)")
    names = list(getattr(test, "classes", None) or [])
    names = names if len(names) == k else [str(i) for i in range(k)]
    print("  predicted class shares, generated / test: "
          + ", ".join(f"{name} {a:.3f}/{b:.3f}" for name, a, b in zip(names, share_fake, share_test)))
    print(f"  total-variation distance between them {out['class_share_tv']:.3f}")
    if args.out:
        atomic_write_text(args.out, json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    run_script(main)
