"""A GAN's FID against the real-vs-real floor, in one run (issue #8's goal: within 3x).

    python tools/gan_fid.py configs/dcgan_fashion_mnist.yaml --weights runs/dcgan_fashion_mnist/best.pt

All FIDs are taken in the feature space of the classifier named by the config's
``eval.fid_weights`` (LeNet-5 trained on Fashion-MNIST: 84-d penultimate features), against the
whole test split, with the same number of samples on the other side (``--n``, default: the test
split's size) because FID's bias depends on it:

* floor: ``--n`` random *real* training images vs the test split -- what a perfect generator
  would score, the sampling noise of FID itself;
* GAN: ``--n`` generated images vs the test split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.config import load_config  # noqa: E402
from visionkit.data.build import build_dataset, make_loader  # noqa: E402
from visionkit.engine.build import attach_fid_extractor  # noqa: E402
from visionkit.engine.checkpoint import build_from_checkpoint  # noqa: E402
from visionkit.engine.io import atomic_write_text  # noqa: E402
from visionkit.errors import UserError, run_script  # noqa: E402
from visionkit.metrics.fid import fid_from_features  # noqa: E402


@torch.inference_mode()
def real_features(features, dataset, batch_size: int) -> torch.Tensor:
    return torch.cat([features(images) for images, _ in make_loader(dataset, batch_size, shuffle=False, workers=2)])


@torch.inference_mode()
def fake_features(features, gan, n: int, batch_size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.cat([features(gan.sample(min(batch_size, n - i), generator=g)) for i in range(0, n, batch_size)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--weights", required=True, help="the GAN checkpoint")
    ap.add_argument("--n", type=int, default=0, help="samples per side (default: the test split's size)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="", help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    cfg = load_config(args.config)
    if not cfg.eval.fid_weights:
        raise UserError(f"{args.config}: eval.fid_weights is empty: name the classifier checkpoint that defines the features")
    gan, _, _ = build_from_checkpoint(args.weights)
    attach_fid_extractor(gan, cfg)
    features, bs = gan.fid_extractor, cfg.eval.batch_size or cfg.data.batch_size

    test = build_dataset(cfg.data, cfg.data.test, False)
    train = build_dataset(cfg.data, cfg.data.train, False)
    n = args.n or len(test)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))[:n].tolist()
    f_test = real_features(features, test, bs).numpy()
    f_train = real_features(features, torch.utils.data.Subset(train, pick), bs).numpy()
    f_fake = fake_features(features, gan, n, bs, args.seed).numpy()

    out = {"n": n, "n_test": len(test), "fid_floor_train_vs_test": fid_from_features(f_train, f_test),
           "fid_gan_vs_test": fid_from_features(f_fake, f_test)}
    out["ratio"] = out["fid_gan_vs_test"] / out["fid_floor_train_vs_test"]
    print(f"FID (features of {cfg.eval.fid_weights}), {n} samples vs {len(test)} test images")
    print(f"  real train vs test (floor) {out['fid_floor_train_vs_test']:10.4f}")
    print(f"  generated vs test          {out['fid_gan_vs_test']:10.4f}")
    print(f"  ratio GAN / floor          {out['ratio']:10.2f}   (goal <= 3)")
    if args.out:
        atomic_write_text(args.out, json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    run_script(main)
