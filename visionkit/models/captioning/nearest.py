"""The nearest-neighbour captioning baseline (Devlin et al. 2015, "Exploring Nearest Neighbor
Approaches for Image Captioning"): caption a new image with a caption *borrowed* from the
training images that look most like it.

1. Describe every image by the encoder's globally pooled CNN features (the same frozen
   ImageNet CNN as Show and Tell's encoder) and compare them by cosine similarity.
2. Take the ``k`` most similar training images; their captions are the candidates.
3. Return the *consensus* candidate: the one that agrees best with the other candidates, by
   an ``agreement(others, candidate)`` score passed in (``tools/caption_baseline.py`` passes
   the sum of BLEU-1..4 against the others as references, as the paper does). With ``k = 1``
   this picks the most typical of the nearest image's own captions.

A learned captioner has to beat this to show that it generalises rather than retrieves.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

# agreement(others, candidate) -> how well ``candidate`` agrees with the ``others`` (higher: better)
Agreement = Callable[[Sequence[str], str], float]


def consensus_caption(candidates: Sequence[str], agreement: Agreement) -> str:
    """The candidate with the highest ``agreement`` with all the others (first on ties)."""
    if len(candidates) == 1:
        return candidates[0]
    best, best_score = candidates[0], float("-inf")
    for i, cand in enumerate(candidates):
        others = [c for j, c in enumerate(candidates) if j != i]
        score = agreement(others, cand)
        if score > best_score:
            best, best_score = cand, score
    return best


class NearestNeighbourCaptioner:
    """``NearestNeighbourCaptioner(train_features, train_captions, agreement)(features) -> captions``."""

    def __init__(self, features: torch.Tensor, captions: Sequence[Sequence[str]], agreement: Agreement, k: int = 5):
        if len(features) != len(captions) or len(features) == 0:
            raise ValueError(f"need one caption list per feature row, got {len(features)} rows and {len(captions)} lists")
        self.features = F.normalize(features.float(), dim=1)
        self.captions = [list(c) for c in captions]
        self.k = max(1, min(k, len(captions)))
        self.agreement = agreement

    def neighbours(self, features: torch.Tensor) -> torch.Tensor:
        """Indices (N×k) of the most similar training images, most similar first."""
        sim = F.normalize(features.float(), dim=1) @ self.features.T
        return sim.topk(self.k, dim=1).indices

    def __call__(self, features: torch.Tensor) -> list[str]:
        return [consensus_caption([c for j in row for c in self.captions[j]], self.agreement)
                for row in self.neighbours(features).tolist()]
