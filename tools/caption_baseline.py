"""Show and Tell against the nearest-neighbour baseline, on the same test split, in one run.

    python tools/caption_baseline.py configs/show_tell_coco_captions.yaml \
        --weights runs/show_tell_coco_captions/best.pt [--k 5] [--out baseline.json] [key=value ...]

The baseline (visionkit/models/captioning/nearest.py) describes each image by the Show and
Tell encoder's pooled CNN features -- taken from the checkpoint when ``--weights`` is given,
else from the config's ImageNet backbone -- and returns the consensus caption of the ``k``
nearest training images. Both are scored with the same corpus BLEU-1..4 and CIDEr-D.
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
from visionkit.errors import run_script  # noqa: E402
from visionkit.metrics.caption import caption_metrics, corpus_bleu  # noqa: E402
from visionkit.models.captioning.nearest import NearestNeighbourCaptioner  # noqa: E402
from visionkit.utils.io import atomic_write_text  # noqa: E402


def bleu_agreement(others: list[str], candidate: str) -> float:
    """The consensus score of the nearest-neighbour baseline: BLEU-1..4 of ``candidate``
    against the other candidates as its references, summed."""
    return sum(corpus_bleu([others], [candidate]).values())


@torch.inference_mode()
def encode(encoder, dataset, batch_size: int) -> tuple[torch.Tensor, list[list[str]]]:
    """Pooled encoder features and the reference captions of every image of ``dataset``."""
    feats, refs = [], []
    for images, targets in make_loader(dataset, batch_size, shuffle=False, workers=2):
        feats.append(encoder.pooled(images))
        refs.extend(t["captions"] for t in targets)
    return torch.cat(feats), refs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("overrides", nargs="*", help="key=value config overrides, e.g. model.beam_size=5")
    ap.add_argument("--weights", default="", help="a Show and Tell checkpoint, scored side by side")
    ap.add_argument("--k", type=int, default=5, help="nearest training images whose captions are candidates")
    ap.add_argument("--out", default="", help="also write the metrics JSON here")
    args = ap.parse_intermixed_args(argv)  # overrides may come after --weights
    torch.set_num_threads(2)
    cfg = load_config(args.config, args.overrides)
    cfg.data.options = dict(cfg.data.options, per_caption=False)  # one item per image, all references
    train_set = build_dataset(cfg.data, cfg.data.train, False)
    test_set = build_dataset(cfg.data, cfg.eval.split or cfg.data.test, False)

    results = {}
    if args.weights:
        from visionkit.engine.restore import build_from_checkpoint
        from visionkit.engine.evaluator import evaluate_checkpoint

        model, _, _ = build_from_checkpoint(args.weights)
        encoder = model.encoder
        res, _ = evaluate_checkpoint(cfg, args.weights, split=cfg.eval.split or cfg.data.test)
        results["show_tell"] = res.metrics
    else:
        from visionkit.models.captioning.show_tell import ImageEncoder
        from visionkit.models.common import build_backbone

        encoder = ImageEncoder(build_backbone(cfg.model.get("backbone", "mobilenet_v2"), cfg.model.get("pretrained", True)), 8)
    encoder.eval()
    bs = cfg.eval.batch_size or cfg.data.batch_size
    train_f, train_refs = encode(encoder, train_set, bs)
    test_f, test_refs = encode(encoder, test_set, bs)
    hyps = NearestNeighbourCaptioner(train_f, train_refs, bleu_agreement, args.k)(test_f)
    results[f"nearest_k{args.k}"] = caption_metrics(test_refs, hyps)

    names = list(results)
    print(f"{'metric':<8}" + "".join(f"{n:>14}" for n in names) + ("   ratio" if len(names) == 2 else ""))
    for key in results[names[-1]]:
        vals = [results[n].get(key, float("nan")) for n in names]
        ratio = f"{vals[0] / vals[1]:8.2f}" if len(vals) == 2 and vals[1] else ""
        print(f"{key:<8}" + "".join(f"{v:14.4f}" for v in vals) + ("   " + ratio if ratio else ""))
    print("examples (nearest neighbour):")
    for refs, hyp in list(zip(test_refs, hyps))[:3]:
        print(f"  NN: {hyp!r}\n  ref: {refs[0]!r}")
    if args.out:
        atomic_write_text(args.out, json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    run_script(main)
