"""Exact HMC of the perceptron's Gibbs measure: against exact averages at N = 1, 2 and 3, against the
line sampler at N = 10, against the replica-symmetric theory at N = 64 and 100, its zero-temperature
chains, its independence of the batch and its argument checks."""
import numpy as np
import pytest
import torch

from models.gibbs_sampler import gibbs_sample, perceptron_algorithm, training_errors
from models.hmc_sampler import hmc_sample
from theory.perceptron import gibbs_order_parameters


def _problem(seed, N, P, K=1, same_data=True):
    """Teacher(s) B ~ N(0, I), patterns x ~ N(0, I), labels sign(B.x); one data set for all K chains
    (same_data) or one per chain."""
    rng = np.random.default_rng(seed)
    n = 1 if same_data else K
    B = rng.standard_normal((n, N))
    X = rng.standard_normal((n, P, N))
    y = np.where(np.einsum("kpn,kn->kp", X, B) >= 0, 1.0, -1.0)
    return tuple(np.broadcast_to(a, (K,) + a.shape[1:]).copy() for a in (B, X, y))


def _weights(E, T):
    return (E == 0).astype(float) if T == 0 else np.exp(-(E - E.min()) / T)


def _exact_overlap_2d(B, X, y, T):
    """Mean cosine with B and mean energy of the spherical Gibbs measure at N = 2, exactly: the energy is
    constant on the arcs between the angles phi_mu +- pi/2 of the hyperplanes."""
    Z = y[:, None] * X
    phi = np.arctan2(Z[:, 1], Z[:, 0])
    cuts = np.sort(np.mod(np.concatenate([phi + np.pi / 2, phi - np.pi / 2]), 2 * np.pi))
    lo, hi = cuts, np.append(cuts[1:], cuts[0] + 2 * np.pi)
    mid = (lo + hi) / 2
    E = ((np.stack([np.cos(mid), np.sin(mid)], 1) @ Z.T) < 0).sum(1)
    w = _weights(E, T)
    theta_B = np.arctan2(B[1], B[0])
    cos_integral = np.sin(hi - theta_B) - np.sin(lo - theta_B)
    return (w @ cos_integral) / (w @ (hi - lo)), (w * E) @ (hi - lo) / (w @ (hi - lo))


def _exact_overlap_3d(B, X, y, T, n=600):
    """The same at N = 3 by a midpoint rule on the sphere (uniform in cos(theta) and phi)."""
    c = (np.arange(n) + 0.5) / n * 2 - 1
    p = (np.arange(2 * n) + 0.5) / (2 * n) * 2 * np.pi
    C, Ph = np.meshgrid(c, p, indexing="ij")
    S = np.sqrt(1 - C**2)
    d = np.stack([S * np.cos(Ph), S * np.sin(Ph), C], -1).reshape(-1, 3)
    E = ((d @ (y[:, None] * X).T) < 0).sum(1)
    w = _weights(E, T)
    return (w @ (d @ (B / np.linalg.norm(B)))) / w.sum(), (w @ E) / w.sum()


def _chain_means(out, burn_in):
    R = out.overlap_trace[burn_in:].numpy().mean(0)
    E = out.energy_trace[burn_in:].numpy().astype(float).mean(0)
    return R, E


def test_one_dimension_one_pattern_gives_the_exact_error_probability():
    # w ~ N(0, 1) exp(-E/T) with one pattern: P(error) = e^{-1/T} / (1 + e^{-1/T}); every sample that
    # has an error got there by refraction
    K, T = 400, 0.8
    out = hmc_sample(np.ones((K, 1, 1)), np.ones((K, 1)), T, np.ones((K, 1)), sweeps=60, seeds=range(K))
    err = out.energy.numpy().astype(float).mean(0)
    p = np.exp(-1 / T) / (1 + np.exp(-1 / T))
    assert abs(err.mean() - p) < 4 * err.std(ddof=1) / np.sqrt(K)


@pytest.mark.parametrize("N", [2, 3])
@pytest.mark.parametrize("T", [0.0, 0.7])
def test_mean_overlap_matches_numerical_integration_at_tiny_size(N, T):
    B, X, y = _problem(3, N, 5, K=64)
    exact = _exact_overlap_2d if N == 2 else _exact_overlap_3d
    R_exact, E_exact = exact(B[0], X[0], y[0], T)
    out = hmc_sample(X, y, T, B, sweeps=300, burn_in=10, seeds=range(64), teacher=B)
    R, E = _chain_means(out, 10)
    assert abs(R.mean() - R_exact) < 4 * R.std(ddof=1) / 8 + 1e-3, (R.mean(), R_exact)
    if T > 0:
        assert abs(E.mean() - E_exact) < 4 * E.std(ddof=1) / 8 + 1e-3, (E.mean(), E_exact)
    else:
        assert int(out.energy_trace.max()) == 0


@pytest.mark.parametrize("T", [0.0, 0.5])
def test_agrees_with_the_line_sampler_at_n10(T):
    N, P, K = 10, 15, 32
    B, X, y = _problem(8, N, P, K=K)
    line = gibbs_sample(X, y, T, B, sweeps=120, burn_in=20, seeds=range(K), teacher=B)
    hmc = gibbs_sample(X, y, T, B, sweeps=120, burn_in=20, seeds=range(K, 2 * K), teacher=B, method="hmc")
    for a, b in zip(_chain_means(line, 20), _chain_means(hmc, 20)):
        se = np.hypot(a.std(ddof=1), b.std(ddof=1)) / np.sqrt(K)
        assert abs(a.mean() - b.mean()) < 4 * se + 1e-3, (a.mean(), b.mean(), se)


def test_zero_temperature_chains_stay_in_the_version_space_and_descend_into_it():
    N, P, K = 20, 60, 6
    B, X, y = _problem(5, N, P, K=K, same_data=False)
    out = hmc_sample(X, y, 0.0, B, sweeps=20, seeds=range(K))
    assert int(out.energy_trace.max()) == 0
    start = perceptron_algorithm(X, y, np.random.default_rng(0).standard_normal((K, N)))
    out = hmc_sample(X, y, 0.0, start, sweeps=10, seeds=range(K))
    assert int(out.energy_trace.max()) == 0
    # from a start with errors E never increases
    start = np.random.default_rng(1).standard_normal((K, N))
    out = hmc_sample(X, y, 0.0, start, sweeps=30, seeds=range(K))
    E = torch.cat([training_errors(torch.as_tensor(y[..., None] * X), torch.as_tensor(start))[None], out.energy_trace])
    assert torch.all(E[1:] <= E[:-1]) and int(E[-1].max()) < int(E[0].min())


def test_a_chain_alone_equals_the_same_chain_in_an_ensemble_and_padding_is_ignored():
    N, P, K = 8, 12, 4
    B, X, y = _problem(7, N, P, K=K, same_data=False)
    T = [0.0, 0.5, 1.0, 2.0]
    kw = dict(sweeps=6, burn_in=2, seeds=[3, 4, 5, 6])
    a = hmc_sample(X, y, T, B, teacher=B, **kw)
    b = hmc_sample(X, y, T, B, teacher=B, **kw)
    assert torch.equal(a.samples, b.samples)
    alone = hmc_sample(X[2:3], y[2:3], 1.0, B[2:3], sweeps=6, burn_in=2, seeds=[5])
    assert torch.allclose(alone.samples[:, 0], a.samples[:, 2], atol=1e-9)
    assert torch.equal(alone.events[0], a.events[2])
    # chain 1 with 4 garbage rows of padding is chain 1 (and the Gram matrix on the fly changes nothing)
    Xp = np.concatenate([X, np.random.default_rng(0).standard_normal((K, 4, N))], 1)
    yp = np.concatenate([y, np.full((K, 4), 7.0)], 1)
    padded = hmc_sample(Xp, yp, T, B, teacher=B, n_patterns=[P] * K, gram_limit=0, **kw)
    assert torch.allclose(padded.samples, a.samples, atol=1e-9)
    assert torch.equal(padded.energy_trace, a.energy_trace)


def test_mixing_check_from_two_starts():
    N, P, K = 20, 40, 8
    B, X, y = _problem(2, N, P, K=K)
    start = np.concatenate([B[:4], perceptron_algorithm(X[4:], y[4:], -B[4:]).numpy()])
    out = hmc_sample(X, y, 0.0, start, sweeps=100, seeds=range(K), teacher=B)
    check = out.mixing(np.arange(K) < 4)
    assert check.equilibrated and check.autocorrelation_time < 3
    assert abs(check.mean - out.overlap_trace.mean().item()) < 1e-12


def _theory_deviation(N, points, seeds, sweeps=10, burn_in=6):
    """(mean R over seeds - theory, its standard error) at each (alpha, T), one chain per seed from the
    teacher, all points of one alpha in one batch. The spread over seeds (the disorder) dominates the
    error, so many short chains: R relaxes from the teacher in 3-4 iterations."""
    out = {}
    for alpha in sorted({a for a, _ in points}):
        Ts = [T for a, T in points if a == alpha]
        P = int(round(alpha * N))
        B, X, y = (np.concatenate(z) for z in zip(*[_problem(1000 * N + s, N, P) for s in range(seeds)]))
        B, X, y = (np.tile(z, (len(Ts),) + (1,) * (z.ndim - 1)) for z in (B, X, y))
        temps = np.repeat(Ts, seeds)
        run = hmc_sample(X, y, temps, B, sweeps=sweeps, burn_in=burn_in, seeds=range(len(temps)), teacher=B)
        R = run.overlap_trace[burn_in:].numpy().mean(0).reshape(len(Ts), seeds)
        for T, r in zip(Ts, R):
            out[(alpha, T)] = (r.mean() - float(gibbs_order_parameters(alpha, T)[0]), r.std(ddof=1) / np.sqrt(seeds))
    return out


C_OVER_N = 0.5  # allowance c/N on R: N (R - theory) measured at N = 12, 24, 48 (9 points each) was -0.06..0.44


def test_mean_overlap_agrees_with_the_replica_theory_at_n64_and_n100():
    grid = [(a, T) for a in (1, 2, 4) for T in (0.0, 0.5, 1.0)]
    dev64 = _theory_deviation(64, grid, seeds=16)
    for point, (d, se) in dev64.items():
        assert abs(d) < 3 * se + C_OVER_N / 64, (point, d, se)
    few = [(2, 0.0), (2, 1.0)]
    dev100 = _theory_deviation(100, few, seeds=32)
    for point, (d, se) in dev100.items():
        assert abs(d) < 3 * se + C_OVER_N / 100, (point, d, se)
    # the finite-size deviation shrinks: N = 100 against N = 12 at the same points
    dev12 = _theory_deviation(12, few, seeds=200)
    assert np.mean([abs(dev100[p][0]) for p in few]) < np.mean([abs(dev12[p][0]) for p in few])


@pytest.mark.parametrize("kwargs, match", [
    (dict(temperature=-1.0), "temperature"),
    (dict(sweeps=0), "sweeps"),
    (dict(seeds=[1]), "seeds"),
    (dict(travel_time=0.0), "travel_time"),
    (dict(jitter=1.0), "jitter"),
    (dict(max_events=0), "max_events"),
    (dict(start=np.zeros((2, 4))), "start"),
    (dict(teacher=np.zeros((2, 3))), "teacher"),
    (dict(n_patterns=[5, 1]), "n_patterns"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    B, X, y = _problem(1, 3, 4, K=2)
    args = dict(temperature=0.0, sweeps=2, seeds=[0, 1], start=B)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        hmc_sample(X, y, args.pop("temperature"), args.pop("start"), **args)
    with pytest.raises(ValueError, match="labels"):
        hmc_sample(X, 2 * y, 0.0, B, sweeps=2, seeds=[0, 1])
    with pytest.raises(ValueError, match="method"):
        gibbs_sample(X, y, 0.0, B, sweeps=2, seeds=[0, 1], method="langevin")


def test_too_many_events_raise():
    B, X, y = _problem(4, 5, 40, K=2)
    with pytest.raises(RuntimeError, match="max_events"):
        hmc_sample(X, y, 0.0, B, sweeps=1, seeds=[0, 1], max_events=2)
