"""Frechet Inception Distance (FID) from features the caller provides.

FID models two sets of image features (usually Inception pool features; in this project the
Fashion-MNIST classifier's penultimate layer) as Gaussians N(mu1, S1) and N(mu2, S2) and
measures the Frechet (2-Wasserstein) distance between them:

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})

The matrix square root comes from ``scipy.linalg.sqrtm``. Two numerical details follow the
reference implementation (TTUR / pytorch-fid):

* if the product is singular enough that ``sqrtm`` returns non-finite values, ``eps`` is added
  to both diagonals and the root is taken again;
* ``sqrtm`` of a product of two PSD matrices may come back complex with tiny imaginary parts
  (round-off); they are dropped, but an imaginary diagonal larger than ``1e-3`` means the
  input is not a pair of covariances and raises ``ValueError``.

FID is biased for small sample sizes; compare values computed from the same number of samples.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def _np64(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def feature_stats(feats) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and (unbiased, N-1) covariance matrix of N×D features."""
    f = _np64(feats)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be N×D with N >= 2, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_terms(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> tuple[float, float]:
    """The Frechet distance's two parts: the mean term ``||mu1 - mu2||^2`` (the sets sit in
    different places) and the covariance term ``Tr(S1 + S2 - 2 (S1 S2)^{1/2})`` (they spread
    differently: too little variety in generated images shows up here)."""
    mu1, mu2 = np.atleast_1d(_np64(mu1)), np.atleast_1d(_np64(mu2))
    s1, s2 = np.atleast_2d(_np64(sigma1)), np.atleast_2d(_np64(sigma2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape} / {mu2.shape}, sigma {s1.shape} / {s2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            worst = np.max(np.abs(covmean.imag))
            raise ValueError(f"sqrt(S1 S2) has an imaginary component {worst:.3g}: inputs are not covariances")
        covmean = covmean.real
    return float(diff @ diff), float(np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (see module docstring)."""
    return sum(frechet_terms(mu1, sigma1, mu2, sigma2, eps))


def fid_terms(feats_a, feats_b, eps: float = 1e-6) -> tuple[float, float]:
    """FID's mean and covariance terms (:func:`frechet_terms`) for two N×D feature sets."""
    mu1, s1 = feature_stats(feats_a)
    mu2, s2 = feature_stats(feats_b)
    return frechet_terms(mu1, s1, mu2, s2, eps=eps)


def fid_from_features(feats_a, feats_b, eps: float = 1e-6) -> float:
    """FID between two N×D feature sets (numpy or torch): fit a Gaussian to each, compare."""
    return sum(fid_terms(feats_a, feats_b, eps))
