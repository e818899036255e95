"""The exact Gibbs sampler of the perceptron against exact averages at tiny size, its zero-temperature
chains against the version space, its determinism and its argument checks."""
import numpy as np
import pytest
import torch

from models.gibbs_sampler import gibbs_sample, log_normal_mass, training_errors, truncated_normal


def _problem(seed, N=3, P=4, K=1):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal(N)
    X = rng.standard_normal((P, N))
    y = np.sign(X @ B)
    return B, np.broadcast_to(X, (K, P, N)).copy(), np.broadcast_to(y, (K, P)).copy()


def _exact_averages(B, X, y, T, n=400_000, seed=1):
    """Averages over the spherical Gibbs measure by importance-weighted uniform directions
    (T = 0: rejection sampling of the version space)."""
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((n, X.shape[-1]))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    E = ((d @ (y[:, None] * X).T) < 0).sum(1)
    wts = (E == 0).astype(float) if T == 0 else np.exp(-E / T)
    wts /= wts.sum()
    return wts @ d, wts @ E


@pytest.mark.parametrize("direction", ["coordinate", "random"])
@pytest.mark.parametrize("T", [0.0, 0.7])
def test_sampler_matches_exact_averages_at_tiny_size(T, direction):
    B, X, y = _problem(3)
    K = 64
    X, y = np.broadcast_to(X[0], (K,) + X.shape[1:]), np.broadcast_to(y[0], (K, y.shape[1]))
    out = gibbs_sample(X, y, T, np.broadcast_to(B, (K, 3)), sweeps=300, burn_in=20, seeds=range(K),
                       direction=direction, observe=lambda w, E: w / w.norm(dim=-1, keepdim=True))
    d = out.samples.numpy()  # (n_saved, K, 3)
    mean_dir, mean_E = _exact_averages(B, X[0], y[0], T)
    per_chain = d.mean(0)
    se = per_chain.std(0, ddof=1) / np.sqrt(K)
    assert np.all(np.abs(per_chain.mean(0) - mean_dir) < 4 * se + 0.01), (per_chain.mean(0), mean_dir, se)
    E_chain = out.energy.numpy().mean(0)
    assert abs(E_chain.mean() - mean_E) < 4 * E_chain.std(ddof=1) / np.sqrt(K) + 0.01
