"""The Metropolis sampler of the Ising perceptron against the exact Gibbs distribution of all 2^N
students, its zero-temperature behaviour, its traces against recomputation, its independence of
the batch and its argument checks."""
import itertools
from collections import deque

import numpy as np
import pytest
import torch
from scipy import stats

from models.ising_sampler import ising_metropolis, ising_training_errors


def _problem(seed, N, P, K, binary_teacher=True):
    rng = np.random.default_rng(seed)
    B = np.where(rng.standard_normal(N) >= 0, 1.0, -1.0) if binary_teacher else rng.standard_normal(N)
    X = rng.standard_normal((P, N))
    y = np.where(X @ B >= 0, 1.0, -1.0)
    return B, np.broadcast_to(X, (K, P, N)).copy(), np.broadcast_to(y, (K, P)).copy()


def _all_students(N):
    return np.array(list(itertools.product([-1.0, 1.0], repeat=N)))


def _energies(X, y, J):
    return ((J @ (y[:, None] * X).T) < 0).sum(1)


def _codes(J):
    """Integer code of each binary student (bit n set for J_n = +1), matching _all_students."""
    bits = (np.asarray(J) > 0).astype(np.int64)
    return bits @ (1 << np.arange(bits.shape[-1])[::-1])


def _chisquare_p(counts, probs):
    """Chi-square goodness of fit, cells with expected count < 5 pooled into one."""
    expected = probs * counts.sum()
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("T, scan", [(0.5, "systematic"), (1.5, "random")])
def test_final_states_follow_the_exact_gibbs_distribution(T, scan):
    N, P, K = 8, 12, 4000
    B, X, y = _problem(11, N, P, K)
    J_all = _all_students(N)
    E_all = _energies(X[0], y[0], J_all)
    p = np.exp(-(E_all - E_all.min()) / T)
    p /= p.sum()
    start = np.broadcast_to(B, (K, N))  # every chain from the teacher; the final states are independent
    out = ising_metropolis(X, y, T, start, teacher=start, sweeps=40, seeds=range(K), scan=scan, keep_samples=False)
    counts = np.bincount(_codes(out.states.numpy()), minlength=2 ** N)
    assert _chisquare_p(counts, p) > 1e-3
    # the test has power: the Gibbs distribution at a 30% different temperature is rejected
    q = np.exp(-(E_all - E_all.min()) / (1.3 * T))
    assert _chisquare_p(counts, q / q.sum()) < 1e-6
    # and the mean energy matches the exact one within 4 standard errors
    E = out.energy_trace[-1].numpy()
    assert abs(E.mean() - p @ E_all) < 4 * E.std(ddof=1) / np.sqrt(K)


def _component(start_code, zero_error, N):
    """Codes of the zero-error students reachable from ``start_code`` by single zero-error flips."""
    seen, todo = {start_code}, deque([start_code])
    while todo:
        c = todo.popleft()
        for n in range(N):
            d = c ^ (1 << n)
            if zero_error[d] and d not in seen:
                seen.add(d)
                todo.append(d)
    return np.array(sorted(seen))


def test_zero_temperature_is_uniform_on_the_version_space_component_of_the_start():
    N, P, K = 9, 5, 3000
    B, X, y = _problem(4, N, P, K)
    J_all = _all_students(N)
    zero_error = _energies(X[0], y[0], J_all) == 0
    comp = _component(int(_codes(B[None])[0]), zero_error, N)
    assert 8 < len(comp) < 2 ** N / 2  # a nontrivial component
    start = np.broadcast_to(B, (K, N))
    out = ising_metropolis(X, y, 0.0, start, teacher=start, sweeps=30, seeds=range(K), keep_samples=False)
    assert int(out.energy_trace.max()) == 0  # no error is ever created
    counts = np.bincount(_codes(out.states.numpy()), minlength=2 ** N)
    assert counts[np.setdiff1d(np.arange(2 ** N), comp)].sum() == 0
    assert stats.chisquare(counts[comp]).pvalue > 1e-3


def test_zero_temperature_from_a_random_start_only_descends():
    N, P, K = 30, 45, 8
    B, X, y = _problem(2, N, P, K)
    start = np.where(np.random.default_rng(0).standard_normal((K, N)) >= 0, 1.0, -1.0)
    out = ising_metropolis(X, y, 0.0, start, teacher=np.broadcast_to(B, (K, N)), sweeps=20, seeds=range(K),
                           )
    E = torch.cat([ising_training_errors(X, y, start)[None], out.energy_trace])
    assert torch.all(E[1:] <= E[:-1])


def test_traces_equal_a_recomputation_from_scratch():
    N, P, K = 30, 60, 6
    B, X, y = _problem(5, N, P, K, binary_teacher=False)
    start = np.where(np.random.default_rng(1).standard_normal((K, N)) >= 0, 1.0, -1.0)
    T = [0.0, 0.3, 1.0, 2.0, 0.5, 5.0]
    out = ising_metropolis(X, y, T, start, teacher=np.broadcast_to(B, (K, N)), sweeps=25, burn_in=5,
                           seeds=range(K), scan="random")
    J = out.samples.to(torch.float64)  # every sweep after the burn-in
    E = torch.stack([ising_training_errors(X, y, j) for j in J])
    assert torch.equal(E, out.energy_trace[5:])
    R = (J @ torch.as_tensor(B / np.linalg.norm(B))) / np.sqrt(N)
    assert torch.allclose(R, out.overlap_trace[5:], atol=1e-12)
    assert out.saved_sweeps == list(range(6, 31))
    assert torch.all((out.acceptance > 0) & (out.acceptance < 1))


def test_a_chain_alone_equals_the_same_chain_in_an_ensemble():
    N, P, K = 12, 20, 4
    B, X, y = _problem(7, N, P, K)
    rng = np.random.default_rng(3)
    X[1:] = rng.standard_normal((K - 1, P, N))  # other chains: other patterns
    start = np.where(rng.standard_normal((K, N)) >= 0, 1.0, -1.0)
    teacher = np.broadcast_to(B, (K, N))
    kw = dict(sweeps=15, burn_in=3)
    batch = ising_metropolis(X, y, [0.2, 0.7, 1.0, 0.0], start, teacher=teacher, seeds=[5, 6, 7, 8], **kw)
    again = ising_metropolis(X, y, [0.2, 0.7, 1.0, 0.0], start, teacher=teacher, seeds=[5, 6, 7, 8], **kw)
    assert torch.equal(batch.samples, again.samples)
    alone = ising_metropolis(X[:1], y[:1], 0.2, start[:1], teacher=teacher[:1], seeds=[5], **kw)
    assert torch.equal(alone.samples[:, 0], batch.samples[:, 0])
    assert torch.equal(alone.energy_trace[:, 0], batch.energy_trace[:, 0])


def test_mixing_check_of_the_overlap():
    N, P, K = 20, 20, 8
    B, X, y = _problem(9, N, P, K)
    start = np.concatenate([np.broadcast_to(B, (4, N)), -np.broadcast_to(B, (4, N))])
    out = ising_metropolis(X, y, 1.0, start, teacher=np.broadcast_to(B, (K, N)), sweeps=200, burn_in=50,
                           seeds=range(K), keep_samples=False)
    check = out.mixing(np.arange(K) < 4)
    assert check.n_samples == 200 and check.equilibrated
    assert abs(check.mean - out.overlap_trace[50:].mean().item()) < 1e-12
    short = ising_metropolis(X, y, 1.0, start, teacher=np.broadcast_to(B, (K, N)), sweeps=4, seeds=range(K),
                             keep_samples=False)
    assert not short.mixing(np.arange(K) < 4).equilibrated  # the starts are still apart


@pytest.mark.parametrize("kwargs, match", [
    (dict(temperature=-1.0), "temperature"),
    (dict(sweeps=0), "sweeps"),
    (dict(scan="diagonal"), "scan"),
    (dict(scan="systematic", temperature=0.0), "systematic"),
    (dict(seeds=[1]), "seeds"),
    (dict(start=0.5), "start"),
    (dict(teacher=0.0), "teacher"),
    (dict(labels=2.0), "labels"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    B, X, y = _problem(1, 5, 6, 2)
    args = dict(temperature=0.5, sweeps=2, seeds=[0, 1], start=np.broadcast_to(B, (2, 5)),
                teacher=np.broadcast_to(B, (2, 5)), labels=y)
    for name in ("start", "teacher", "labels"):
        if name in kwargs:
            kwargs = {**kwargs, name: args[name] * kwargs[name]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ising_metropolis(X, args.pop("labels"), args.pop("temperature"), args.pop("start"), **args)
