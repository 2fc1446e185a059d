"""Golden BLEU-1..4 and CIDEr-D values from coco-caption's own scorers (``pycocoevalcap``),
written once to ``tests/metrics/golden/caption_scores.json`` so that the parity test of
``visionkit.metrics.caption`` runs in CI without the 100 MB scorer package.

    pip install --no-deps pycocoevalcap==1.2
    python tools/caption_golden.py [--data $VISIONKIT_DATA]

Two corpora: a synthetic one (seeded sentences over a small vocabulary, rebuilt by the test
from :func:`synthetic_corpus`), and, with ``--data``, the COCO captions subset's test split
scored leave-one-out (caption 0 against the others). Both are tokenised by visionkit's PTB-style
tokenizer first, so the comparison is of the scorers alone.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "metrics" / "golden" / "caption_scores.json"
WORDS = ("a man woman dog cat sits runs on the grass street red blue small big near with of two people "
         "ball table plate eating riding bike horse standing next to an white black").split()


def synthetic_corpus(seed: int = 0, images: int = 60, refs: int = 5) -> tuple[list[list[str]], list[str]]:
    """(references per image, one hypothesis per image): seeded sentences of 4-12 words, the
    hypothesis sharing a random part of one reference, so every n-gram order has matches."""
    rng = random.Random(seed)

    def sentence() -> list[str]:
        return [rng.choice(WORDS) for _ in range(rng.randint(4, 12))]

    references, hypotheses = [], []
    for _ in range(images):
        rs = [sentence() for _ in range(refs)]
        base = rs[rng.randrange(refs)]
        cut = rng.randint(1, len(base))
        hypotheses.append(" ".join(base[:cut] + sentence()[: rng.randint(0, 5)]))
        references.append([" ".join(r) for r in rs])
    return references, hypotheses


def coco_leave_one_out(data: Path) -> tuple[list[list[str]], list[str]]:
    d = json.loads((data / "coco-captions" / "captions_test.json").read_text())
    by: dict[int, list[str]] = {}
    for a in d["annotations"]:
        by.setdefault(a["image_id"], []).append(a["caption"])
    ids = sorted(by)
    return [by[i][1:] for i in ids], [by[i][0] for i in ids]


def reference_scores(references, hypotheses) -> dict[str, float]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    from visionkit.metrics.caption import tokenize

    gts = {i: [" ".join(tokenize(r)) for r in rs] for i, rs in enumerate(references)}
    res = {i: [" ".join(tokenize(h))] for i, h in enumerate(hypotheses)}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    cider, _ = Cider().compute_score(gts, res)
    return {**{f"bleu{k + 1}": float(bleu[k]) for k in range(4)}, "cider_d": float(cider)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="the shared data folder (VISIONKIT_DATA)")
    args = ap.parse_args()
    out = {"produced_by": "pycocoevalcap 1.2 (coco-caption's Bleu(4) and Cider), python tools/caption_golden.py --data DATA",
           "synthetic_seed0": reference_scores(*synthetic_corpus(0))}
    if args.data:
        out["coco_captions_test_leave_one_out"] = reference_scores(*coco_leave_one_out(args.data))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
