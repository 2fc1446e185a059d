"""FID against the closed form for Gaussians and against samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visionkit.metrics.fid import feature_stats, fid_from_features, frechet_distance, frechet_terms


def test_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    v1, v2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-10)
    mean_term, cov_term = frechet_terms(mu1, np.diag(v1), mu2, np.diag(v2))
    assert mean_term == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-12)
    assert cov_term == pytest.approx(np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2), rel=1e-10)


def test_identical_and_commuting_full_covariances():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    s = a @ a.T + np.eye(5)
    mu = rng.normal(size=5)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    # S and 4S commute: Tr(S + 4S - 2*sqrt(4 S^2)) = Tr(S)
    assert frechet_distance(mu, s, mu + 1, 4 * s) == pytest.approx(5 + np.trace(s), rel=1e-8)


def test_from_samples_approaches_population_value():
    rng = np.random.default_rng(2)
    a = rng.normal(0.0, 1.0, (20000, 3))
    b = rng.normal(0.5, 2.0, (20000, 3))
    expected = 3 * 0.25 + 3 * (1 + 4 - 2 * 2)
    assert fid_from_features(a, b) == pytest.approx(expected, rel=0.05)
    assert fid_from_features(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(fid_from_features(a, b))
    mu, s = feature_stats(a)
    np.testing.assert_allclose(s, np.cov(a.T))


def test_singular_covariance_uses_eps_and_errors():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(4, 10))  # 4 samples in 10-D: rank-deficient covariance
    assert np.isfinite(fid_from_features(f, f + 1.0))
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(ValueError):
        feature_stats(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
