"""Perceptron learning curves against numpy simulations and published limits."""
import numpy as np
import pytest

from theory import perceptron as p
from theory._checks import SaddlePointError


def gibbs_perceptron_ess(N, alpha, temperature, n_instances, n_steps, burn_in, thin, rng):
    """Exact elliptical-slice sampler of exp(-E/T) on the sphere, E = number of training errors.

    J ~ N(0, I) weighted by exp(-E(J)/T) has its direction distributed as the spherical Gibbs measure
    (E depends on the direction only). A move J' = J cos(th) + nu sin(th), nu ~ N(0, I) fresh, leaves
    the Gaussian invariant for uniform th; E along the ellipse is piecewise constant with breakpoints
    phi_mu +- pi/2, so th is drawn exactly from exp(-E(th)/T) on the circle.
    """
    P = int(round(alpha * N))
    b = n_instances
    B = rng.standard_normal((b, N))
    X = rng.standard_normal((b, P, N))
    sigma = np.sign((X @ B[:, :, None])[..., 0])
    SX = sigma[:, :, None] * X
    J = B.copy()
    beta = np.inf if temperature == 0 else 1.0 / temperature
    ar = np.arange(b)
    Rs, Es = [], []
    for step in range(n_steps):
        nu = rng.standard_normal((b, N))
        a = (SX @ J[:, :, None])[..., 0]
        c = (SX @ nu[:, :, None])[..., 0]
        phi = np.arctan2(c, a)
        enter = np.mod(phi - np.pi / 2, 2 * np.pi)
        leave = np.mod(phi + np.pi / 2, 2 * np.pi)
        pts = np.concatenate([enter, leave], axis=1)
        dlt = np.concatenate([-np.ones_like(enter), np.ones_like(leave)], axis=1)
        order = np.argsort(pts, axis=1)
        pts = np.take_along_axis(pts, order, 1)
        dlt = np.take_along_axis(dlt, order, 1)
        E0 = np.sum(a < 0, axis=1)
        E = np.concatenate([E0[:, None], E0[:, None] + np.cumsum(dlt, axis=1)], axis=1)
        edges = np.concatenate([np.zeros((b, 1)), pts, np.full((b, 1), 2 * np.pi)], axis=1)
        length = np.diff(edges, axis=1)
        if beta == np.inf:
            w = length * (E <= 0)
        else:
            w = length * np.exp(-beta * (E - E.min(axis=1, keepdims=True)))
        cw = np.cumsum(w, axis=1)
        u = rng.random(b) * cw[:, -1]
        k = np.minimum(np.sum(cw < u[:, None], axis=1), w.shape[1] - 1)
        th = edges[ar, k] + rng.random(b) * length[ar, k]
        J = J * np.cos(th)[:, None] + nu * np.sin(th)[:, None]
        if step >= burn_in and (step - burn_in) % thin == 0:
            Rs.append(np.einsum("bn,bn->b", J, B) / np.linalg.norm(J, axis=1) / np.linalg.norm(B, axis=1))
            Es.append(np.mean((SX @ J[:, :, None])[..., 0] < 0, axis=1))
    return np.array(Rs), np.array(Es), J, B


def _teacher_data(rng, n_inst, N, P):
    B = rng.standard_normal((n_inst, N))
    X = rng.standard_normal((n_inst, P, N))
    sigma = np.sign((X @ B[:, :, None])[..., 0])
    return B, X, sigma


def _overlap(J, B):
    return np.sum(J * B, axis=-1) / np.linalg.norm(J, axis=-1) / np.linalg.norm(B, axis=-1)


def test_hebb_matches_simulation_and_error_shrinks_with_N():
    rng = np.random.default_rng(0)
    alpha = 2.0
    devs = []
    for N, n_inst in [(50, 400), (800, 25)]:
        B, X, sigma = _teacher_data(rng, n_inst, N, int(alpha * N))
        J = np.einsum("bp,bpn->bn", sigma, X)
        R = _overlap(J, B)
        se = R.std(ddof=1) / np.sqrt(n_inst)
        R_th = np.cos(np.pi * p.hebb_error(alpha))
        assert abs(R.mean() - R_th) < 4 * se + 1.0 / N
        devs.append(R.std(ddof=1))
    assert devs[1] < devs[0] / 2  # the overlap self-averages (~ 1/sqrt(N))


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_pseudoinverse_matches_simulation(alpha):
    rng = np.random.default_rng(1)
    N, n_inst = 120, 20
    P = int(alpha * N)
    B, X, sigma = _teacher_data(rng, n_inst, N, P)
    J = np.stack([np.linalg.lstsq(X[i], sigma[i], rcond=None)[0] for i in range(n_inst)])  # min-norm / LS
    R = _overlap(J, B)
    se = R.std(ddof=1) / np.sqrt(n_inst)
    R_th = np.cos(np.pi * p.pseudoinverse_error(alpha))
    assert abs(R.mean() - R_th) < 4 * se + 2.0 / N
    assert p.pseudoinverse_error(1.0) == pytest.approx(0.5)


@pytest.mark.parametrize("alpha, T, N, steps", [(1.0, 1.0, 40, 1200), (0.5, 0.0, 30, 1500)])
def test_gibbs_matches_exact_sampler(alpha, T, N, steps):
    """Elliptical-slice sampling of exp(-E/T) on the sphere (exact moves) at small N."""
    rng = np.random.default_rng(2)
    R, E, _, _ = gibbs_perceptron_ess(N, alpha, T, 64, steps, steps // 2, 2, rng)
    per_instance = R.mean(axis=0)
    se = per_instance.std(ddof=1) / np.sqrt(per_instance.size)
    R_th, q_th = p.gibbs_order_parameters(alpha, T)
    assert abs(per_instance.mean() - R_th) < 4 * se + 0.5 / N, (per_instance.mean(), R_th, se)
    if T > 0:
        Et = E.mean(axis=0)
        assert abs(Et.mean() - p.gibbs_training_error(alpha, T)) < 4 * Et.std(ddof=1) / np.sqrt(Et.size) + 0.5 / N
    else:
        assert q_th == pytest.approx(R_th) and np.all(E == 0)


def test_large_alpha_constants_match_evdb():
    I = p.asymptotic_constant()
    assert I == pytest.approx(2.2640, abs=2e-4)
    # EvdB: Gibbs ~ 0.625/alpha, Bayes ~ 0.442/alpha
    assert np.sqrt(2) / I == pytest.approx(0.625, abs=1e-3)
    assert 1 / I == pytest.approx(0.442, abs=1e-3)
    a = np.array([1e3, 1e4])
    rel_g = np.abs(p.gibbs_error(a) / p.gibbs_asymptotic_error(a) - 1)
    rel_b = np.abs(p.bayes_error(a) / p.bayes_asymptotic_error(a) - 1)
    assert np.all(rel_g < 2e-3) and rel_g[1] < rel_g[0]
    assert np.all(rel_b < 2e-3) and rel_b[1] < rel_b[0]
    assert p.hebb_error(1e6) / p.hebb_asymptotic_error(1e6) == pytest.approx(1, abs=1e-3)
    assert p.pseudoinverse_error(1e6) / p.pseudoinverse_asymptotic_error(1e6) == pytest.approx(1, abs=1e-3)
    # small alpha: R_Gibbs ~ 2 alpha / pi
    R, _ = p.gibbs_order_parameters(1e-4)
    assert R == pytest.approx(2e-4 / np.pi, rel=1e-3)


def test_high_temperature_limit_depends_on_alpha_over_T_only():
    ratio = 2.0
    limit = p.high_temperature_error(ratio)
    devs = [abs(p.gibbs_error(ratio * T, T) - limit) for T in (5.0, 20.0, 80.0)]
    assert devs[0] > devs[1] > devs[2] and devs[2] < 2e-3
    # large alpha/T: epsilon ~ T/alpha
    assert p.high_temperature_error(1e4) * 1e4 == pytest.approx(1.0, rel=1e-3)


def test_orderings_and_low_temperature_continuity():
    a = np.geomspace(0.2, 50, 12)
    g0 = p.gibbs_error(a)
    assert np.all(np.diff(g0) < 0)
    assert np.all(p.bayes_error(a) < g0)
    np.testing.assert_allclose(p.gibbs_error(a, 0.01), g0, rtol=1e-6)
    # vectorised over a grid; error increases with temperature
    grid = p.gibbs_error(a[None, :], np.array([0.2, 1.0, 5.0])[:, None])
    assert grid.shape == (3, 12) and np.all(np.diff(grid, axis=0) > 0) and np.all(grid[0] > g0)
    # training error below generalization error at finite T
    assert np.all(p.gibbs_training_error(a, 1.0) < p.gibbs_error(a, 1.0))


def test_unconverged_saddle_point_raises():
    a = np.array([2.0])
    with pytest.raises(SaddlePointError, match="did not converge"):
        p._finite_temperature_Rq(a, np.array([1.0]), np.array([0.01]), np.array([0.0002]), max_iter=1)
    with pytest.raises(SaddlePointError, match="did not converge"):
        p._zero_temperature_R(a, max_iter=1)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: p.gibbs_error(0.0), "alpha"),
        (lambda: p.gibbs_error(-1.0), "alpha"),
        (lambda: p.gibbs_error(1.0, -0.5), "temperature"),
        (lambda: p.bayes_error([1.0, np.nan]), "alpha"),
        (lambda: p.hebb_error("x"), "alpha"),
        (lambda: p.high_temperature_error(0), "alpha_over_T"),
    ],
)
def test_bad_input_raises_value_error(call, name):
    with pytest.raises(ValueError, match=name):
        call()
