"""The exact Gibbs sampler of the perceptron against exact averages at tiny size, its zero-temperature
chains against the version space, its determinism and its argument checks."""
import numpy as np
import pytest
import torch

from models.gibbs_sampler import gibbs_sample, perceptron_algorithm, training_errors, truncated_normal


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


def test_zero_temperature_chains_never_leave_the_version_space():
    B, X, y = _problem(5, N=12, P=60, K=6)
    seen = []
    out = gibbs_sample(X, y, 0.0, np.broadcast_to(B, (6, 12)), sweeps=30, seeds=range(6),
                       observe=lambda w, E: (seen.append(int(E.max())), w)[1])
    assert max(seen) == 0 and int(out.energy_trace.max()) == 0
    # a perceptron-algorithm start is another version-space point
    start = perceptron_algorithm(X, y, np.random.default_rng(0).standard_normal((6, 12)))
    assert int(training_errors(torch.as_tensor(y[..., None] * X), start).max()) == 0
    out = gibbs_sample(X, y, 0.0, start, sweeps=20, seeds=range(6), direction="random")
    assert int(out.energy_trace.max()) == 0


def test_same_seeds_same_samples_and_chains_independent_of_their_batch():
    B, X, y = _problem(7, N=6, P=12, K=4)
    kw = dict(sweeps=5, burn_in=2, seeds=[3, 4, 5, 6])
    a = gibbs_sample(X, y, [0.0, 0.5, 1.0, 2.0], np.broadcast_to(B, (4, 6)), **kw)
    b = gibbs_sample(X, y, [0.0, 0.5, 1.0, 2.0], np.broadcast_to(B, (4, 6)), **kw)
    assert torch.equal(a.samples, b.samples)
    alone = gibbs_sample(X[2:3], y[2:3], 1.0, B[None], sweeps=5, burn_in=2, seeds=[5])
    assert torch.allclose(alone.samples[:, 0], a.samples[:, 2], atol=1e-9)


def test_truncated_normal_stays_inside_its_segment_in_both_tails():
    lo = torch.tensor([-40.0, 30.0, -1.0, 2.0, -torch.inf])
    hi = torch.tensor([-39.0, 31.0, 1.0, torch.inf, -5.0])
    for u in (0.0, 0.3, 1.0):
        x = truncated_normal(lo, hi, torch.full_like(lo, u))
        assert torch.all((x >= lo) & (x <= hi))


@pytest.mark.parametrize("kwargs, match", [
    (dict(temperature=-1.0), "temperature"),
    (dict(sweeps=0), "sweeps"),
    (dict(direction="diagonal"), "direction"),
    (dict(seeds=[1]), "seeds"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    B, X, y = _problem(1, K=2)
    args = dict(temperature=0.0, sweeps=2, seeds=[0, 1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gibbs_sample(X, y, args.pop("temperature"), np.broadcast_to(B, (2, 3)), **args)
    with pytest.raises(ValueError, match="labels"):
        gibbs_sample(X, 2 * y, 0.0, np.broadcast_to(B, (2, 3)), sweeps=2, seeds=[0, 1])
