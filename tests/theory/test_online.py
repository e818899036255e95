"""Saad-Solla ODEs against Monte Carlo averages and a simulated online SGD run."""
import numpy as np
import pytest
from scipy.special import erf

from theory import online
from theory._checks import SaddlePointError


def g(u):
    return erf(u / np.sqrt(2))


def gp(u):
    return np.sqrt(2 / np.pi) * np.exp(-u * u / 2)


def test_gaussian_averages_match_monte_carlo():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    C = A @ A.T / 4 + 0.2 * np.eye(4)
    x = rng.multivariate_normal(np.zeros(4), C, size=1_000_000)
    u, v, w, z = x.T
    se = 5 / np.sqrt(len(x))
    assert abs(np.mean(g(u) * g(v)) - online.I2(C[0, 0], C[0, 1], C[1, 1])) < 3 * se
    mc3 = np.mean(gp(u) * v * g(w))
    assert abs(mc3 - online.I3(C[0, 0], C[0, 1], C[0, 2], C[1, 1], C[1, 2], C[2, 2])) < 10 * se
    mc4 = np.mean(gp(u) * gp(v) * g(w) * g(z))
    th4 = online.I4(C[0, 0], C[0, 1], C[0, 2], C[0, 3], C[1, 1], C[1, 2], C[1, 3], C[2, 2], C[2, 3], C[3, 3])
    assert abs(mc4 - th4) < 3 * se


def _simulate(N, K, M, eta, alphas, n_seeds, rng, noise_var=0.0):
    """Vectorised online SGD over seeds; returns eps_g(alpha) from the exact order parameters and Q0, R0."""
    B = rng.standard_normal((n_seeds, M, N))
    J = 0.1 * rng.standard_normal((n_seeds, K, N))  # small random initialisation (shared by the ODE)
    eps = []
    Q0 = np.einsum("sin,skn->sik", J, J) / N
    R0 = np.einsum("sin,smn->sim", J, B) / N
    T = np.einsum("smn,sln->sml", B, B) / N
    steps = np.rint(np.asarray(alphas) * N).astype(int)
    t = 0
    for target in steps:
        while t < target:
            xi = rng.standard_normal((n_seeds, N))
            lam = np.einsum("sin,sn->si", J, xi) / np.sqrt(N)
            rho = np.einsum("smn,sn->sm", B, xi) / np.sqrt(N)
            y = g(rho).sum(1) + np.sqrt(noise_var) * rng.standard_normal(n_seeds)
            delta = gp(lam) * (y - g(lam).sum(1))[:, None]
            J += eta / np.sqrt(N) * delta[:, :, None] * xi[:, None, :]
            t += 1
        Q = np.einsum("sin,skn->sik", J, J) / N
        R = np.einsum("sin,smn->sim", J, B) / N
        eps.append([online.generalization_error(Q[s], R[s], T[s]) for s in range(n_seeds)])
    return np.array(eps), Q0, R0, T


def test_ode_matches_simulated_sgd():
    rng = np.random.default_rng(1)
    N, K, M, eta = 400, 2, 2, 0.5
    alphas = np.array([1.0, 5.0, 15.0])
    sim, Q0, R0, T = _simulate(N, K, M, eta, alphas, 8, rng)
    theory = np.array([online.saad_solla(alphas, Q0[s], R0[s], T[s], eta)[2] for s in range(len(Q0))]).T
    diff = sim - theory  # per seed, same initial conditions and teacher
    tol = 4 * diff.std(axis=1, ddof=1) / np.sqrt(diff.shape[1]) + 0.5 * theory.mean(axis=1) / np.sqrt(N)
    assert np.all(np.abs(diff.mean(axis=1)) < tol), (sim.mean(1), theory.mean(1))
    assert np.all(np.diff(theory.mean(axis=1)) < 0)  # the error decreases during learning


def test_learning_rate_acts_like_a_temperature():
    # with label noise the asymptotic error grows with the learning rate (SGD noise)
    T = np.eye(1)
    out = [online.saad_solla([200.0], [[0.5]], [[0.2]], T, eta, noise_var=0.1)[2][0] for eta in (0.1, 0.5, 1.0)]
    assert out[0] < out[1] < out[2]
    # perfect learning is a fixed point without noise
    eps = online.saad_solla([0.0, 1.0], [[1.0]], [[1.0]], T, 0.5)[2]
    assert eps[0] == pytest.approx(0, abs=1e-12) and eps[1] == pytest.approx(0, abs=1e-8)


def test_bad_input_and_failed_integration(monkeypatch):
    T = np.eye(1)
    with pytest.raises(ValueError, match="learning_rate"):
        online.saad_solla([1.0], [[0.5]], [[0.2]], T, -0.1)
    with pytest.raises(ValueError, match="alpha"):
        online.saad_solla([2.0, 1.0], [[0.5]], [[0.2]], T, 0.1)
    with pytest.raises(ValueError, match="Q0"):
        online.saad_solla([1.0], [[-0.5]], [[0.2]], T, 0.1)
    # a failed integration raises instead of returning a wrong curve
    real = online.integrate.solve_ivp

    def failing(*args, **kwargs):
        sol = real(*args, **kwargs)
        sol.success, sol.message = False, "step size too small"
        return sol

    monkeypatch.setattr(online.integrate, "solve_ivp", failing)
    with pytest.raises(SaddlePointError, match="failed"):
        online.saad_solla([5.0], [[0.5]], [[0.2]], T, 0.5)
