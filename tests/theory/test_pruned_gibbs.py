"""theory.pruned_gibbs against Monte Carlo of the stated laws, its reductions to theory.perceptron and
theory.ridge, an independent solve of the fresh-data problem, and exact Gibbs sampling at two sizes."""
import numpy as np
import pytest
import torch
from scipy import integrate, optimize, special

from models.gibbs_sampler import gibbs_sample
from theory import perceptron, ridge
from theory import pruned_gibbs as pg
from theory._checks import SaddlePointError
from theory.pruning import gaussian_kept_energy


def _cos(a, b):
    return np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


# ----------------------------------------------------------------------------- the Gaussian laws
@pytest.mark.parametrize("alpha, T", [(2.0, 0.5), (1.0, 0.0)])
def test_coordinate_law_gives_the_pruned_overlaps_and_the_kept_teacher_energy(alpha, T):
    """Top-k selection on vectors with the joint law (G): teacher, data part, thermal part."""
    rng = np.random.default_rng(0)
    N, c = 400_000, 0.2
    R, q = (float(x) for x in perceptron.gibbs_order_parameters(alpha, T))
    g, z, zeta = rng.standard_normal((3, N))
    mean = R * g + np.sqrt(q - R * R) * z
    J = mean + np.sqrt(1 - q) * zeta
    k = int(c * N)
    S = np.argsort(-np.abs(J))[:k]
    Sm = np.argsort(-np.abs(mean))[:k]
    tol = 5 / np.sqrt(k)
    assert abs(_cos(J[S], g[S]) * np.linalg.norm(g[S]) / np.linalg.norm(g) - pg.pruned_overlap(alpha, T, c)) < tol
    mean_pruned = _cos(mean[Sm], g[Sm]) * np.linalg.norm(g[Sm]) / np.linalg.norm(g)
    assert abs(mean_pruned - pg.pruned_overlap(alpha, T, c, estimator="mean")) < tol
    assert abs(g[S] @ g[S] / (g @ g) - pg.kept_teacher_energy(alpha, T, c)) < tol
    # second moments of (g, z, zeta) on the support: c I + (q(c) - c) a a^T
    e = np.stack([g, z, zeta])[:, S]
    a = np.array([R, np.sqrt(q - R * R), np.sqrt(1 - q)])
    expected = c * np.eye(3) + (gaussian_kept_energy(c) - c) * np.outer(a, a)
    assert np.allclose(e @ e.T / N, expected, atol=tol * c)
    assert float(pg.pruned_error(alpha, T, 1.0)) == pytest.approx(float(perceptron.gibbs_error(alpha, T)), abs=1e-12)


@pytest.mark.parametrize("alpha, T", [(2.0, 0.5), (1.0, 1.0)])
def test_tilted_moments_match_rejection_sampling(alpha, T):
    """xi given (u, v) drawn by rejection from N(0, 1) with acceptance exp(-beta theta(-sigma lambda))."""
    rng = np.random.default_rng(1)
    n, tries = 100_000, 60
    R, q = (float(x) for x in perceptron.gibbs_order_parameters(alpha, T))
    u, v = rng.standard_normal((2, n))
    xi = rng.standard_normal((tries, n))
    lam = R * u + np.sqrt(q - R * R) * v + np.sqrt(1 - q) * xi
    accept = rng.random((tries, n)) < np.where(np.sign(u) * lam > 0, 1.0, np.exp(-1.0 / T))
    first = np.argmax(accept, axis=0)
    assert accept.any(axis=0).all()
    x = xi[first, np.arange(n)]
    mo = pg.tilted_moments(alpha, T)
    for key, sample in [("m", np.sign(u) * x), ("mu2", x * x), ("mu_u", u * x), ("mu_v", v * x)]:
        assert abs(sample.mean() - mo[key]) < 5 * sample.std() / np.sqrt(n), key
    assert mo["m"] > 0  # a sample's thermal field leans towards the label on its own examples


# ----------------------------------------------------------------------------- ridge retraining
@pytest.mark.parametrize("data", ["same", "fresh"])
def test_ridge_on_every_coordinate_is_least_squares_and_forgets_the_dense_student(data):
    for alpha in [0.5, 2.0]:
        for T in [0.0, 0.5, 2.0]:
            e = pg.retrained_error(alpha, T, 1.0, reg=0.0, data=data)
            assert e == pytest.approx(perceptron.pseudoinverse_error(alpha), abs=1e-12)
            s = pg.retrained_saddle(alpha, T, 1.0, reg=0.0, data=data)
            assert abs(float(s.C)) < 1e-12  # no overlap with the thermal part of J


@pytest.mark.parametrize("alpha, T, reg", [(2.0, 0.5, 0.0), (0.5, 1.0, 0.1), (3.0, 0.0, 0.3)])
def test_fresh_data_ridge_is_the_noisy_teacher_ridge_of_theory_ridge(alpha, T, reg):
    """Fresh examples: Marchenko-Pastur ridge on cN inputs at load alpha/c, signal sqrt(2/pi) rho."""
    for c in [0.1, 0.4, 0.8]:
        rho = np.sqrt(pg.kept_teacher_energy(alpha, T, c))
        a2 = 2 / np.pi * rho**2
        noise, load, reg_s = (1 - a2) / a2, alpha / c, reg / c  # W' = sqrt(c) W on the support
        excess = ridge.excess_error(load, noise, reg_s)
        if reg > 0:
            m = 1 - reg_s * ridge.stieltjes_mp(load, reg_s)[0]
        else:
            m = min(load, 1.0)
        expected = rho * m / np.sqrt(excess - 1 + 2 * m)
        assert pg.retrained_overlap(alpha, T, c, reg=reg, data="fresh") == pytest.approx(expected, rel=1e-9)


def test_optimal_ridge_beats_fixed_penalties():
    for data in ["same", "fresh"]:
        best = pg.retrained_saddle(2.0, 0.5, 0.3, reg="optimal", data=data)
        for reg in [0.0, 0.05, 0.5, 5.0]:
            assert best.overlap >= pg.retrained_overlap(2.0, 0.5, 0.3, reg=reg, data=data) - 1e-12
        assert pg.retrained_overlap(2.0, 0.5, 0.3, reg=float(best.reg), data=data) == pytest.approx(float(best.overlap))


# ----------------------------------------------------------------------------- Gibbs retraining
@pytest.mark.parametrize("data", ["same", "fresh"])
def test_gibbs_retraining_on_every_coordinate_is_gibbs_learning_at_the_retraining_temperature(data):
    R, q = perceptron.gibbs_order_parameters(2.0, 0.3)
    s = pg.retrained_saddle(2.0, 0.6, 1.0, "gibbs", retrain_temperature=0.3, data=data)
    assert float(s.overlap) == pytest.approx(float(R), abs=1e-8)
    assert float(s.Q) == pytest.approx(float(q), abs=1e-8)
    assert abs(float(s.C)) < 1e-8


def _gibbs_energetic(M, Q0, beta):
    """G_E(R=M, q=Q0) = 2 int Dt H(-M t/Delta) ln[e^-beta + (1 - e^-beta) H(-a t)] by adaptive quadrature."""
    Delta, a = np.sqrt(Q0 - M * M), np.sqrt(Q0 / (1 - Q0))

    def f(t):
        return (2 * np.exp(-t * t / 2) / np.sqrt(2 * np.pi) * special.ndtr(M * t / Delta)
                * np.logaddexp(-beta, np.log(-np.expm1(-beta)) + special.log_ndtr(a * t)))

    return integrate.quad(f, -12, 12, epsabs=1e-13, epsrel=1e-12, limit=200, points=[0.0])[0]


@pytest.mark.parametrize("alpha, T, c, T_r", [(2.0, 0.5, 0.4, 0.5), (1.0, 0.0, 0.2, 1.0)])
def test_fresh_data_gibbs_retraining_matches_an_independent_two_parameter_solve(alpha, T, c, T_r):
    """A student on cN inputs facing a teacher of norm rho on them: extremise
    (c/2)[ln(1-Q0) + (Q0 - M^2/rho^2)/(1-Q0)] + alpha G_E(M, Q0) with its own quadrature and root finder."""
    rho2 = pg.kept_teacher_energy(alpha, T, c)
    beta = 1 / T_r

    def f(x):
        M, Q0 = x
        return c / 2 * (np.log(1 - Q0) + (Q0 - M * M / rho2) / (1 - Q0)) + alpha * _gibbs_energetic(M, Q0, beta)

    def grad(x, h=1e-5):
        return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(2)])

    s = pg.retrained_saddle(alpha, T, c, "gibbs", retrain_temperature=T_r, data="fresh")
    sol = optimize.root(grad, [0.9 * float(s.M), 0.9 * float(s.Q)], tol=1e-10)
    assert np.max(np.abs(grad(sol.x))) < 1e-8  # a stationary point (the quadrature's noise floor is ~1e-11)
    assert float(s.M) == pytest.approx(sol.x[0], abs=2e-5)
    assert float(s.Q) == pytest.approx(sol.x[1], abs=2e-5)


def test_unconverged_retraining_saddle_point_raises():
    R, q = (float(x) for x in perceptron.gibbs_order_parameters(2.0, 0.5))
    with pytest.raises(SaddlePointError, match="did not converge"):
        pg._gibbs_point(2.0, R, q, 2.0, 0.5, 2.0, "same", tol=1e-30)


# ----------------------------------------------------------------------------- exact Gibbs sampling, two sizes
ALPHA, T, T_R = 2.0, 0.5, 0.5
DENSITIES = (0.5, 0.25)
GIBBS_DENSITY = 0.5
SIZES = ((40, 128), (80, 64))  # (N, chains)


def _simulate(N, K, seed, burn_in=20):
    """Dense Gibbs samples at (ALPHA, T), pruned by magnitude, retrained on the support; per-chain overlaps.

    Chains start at the theoretical overlap R (a point R B/|B| + sqrt(1-R^2) n, n isotropic orthogonal to B)
    and run burn_in sweeps; Gibbs retraining starts from the pruned weights (fine-tuning)."""
    rng = np.random.default_rng(seed)
    P = int(ALPHA * N)
    B = rng.standard_normal((K, N))
    X = rng.standard_normal((K, P, N))
    y = np.sign(np.einsum("kpn,kn->kp", X, B))
    R = float(perceptron.gibbs_order_parameters(ALPHA, T)[0])
    n = rng.standard_normal((K, N))
    n -= np.sum(n * B, 1, keepdims=True) / np.sum(B * B, 1, keepdims=True) * B
    start = np.sqrt(N) * (R * B / np.linalg.norm(B, axis=1, keepdims=True)
                          + np.sqrt(1 - R * R) * n / np.linalg.norm(n, axis=1, keepdims=True))
    seeds = [seed * 10_000 + k for k in range(K)]
    J = gibbs_sample(X, y, T, start, sweeps=1, burn_in=burn_in, seeds=seeds).weights.numpy()
    Bn = np.linalg.norm(B, axis=1)
    out = {}
    for c in DENSITIES:
        S = np.argsort(-np.abs(J), axis=1)[:, : int(round(c * N))]
        JS, BS = np.take_along_axis(J, S, 1), np.take_along_axis(B, S, 1)
        out[("pruned", c)] = np.sum(JS * BS, 1) / np.linalg.norm(JS, axis=1) / Bn
        out[("kept energy", c)] = np.sum(BS * BS, 1) / Bn**2
        Xf = rng.standard_normal((K, P, N))
        yf = np.sign(np.einsum("kpn,kn->kp", Xf, B))
        for data, XX, yy in [("same", X, y), ("fresh", Xf, yf)]:
            XS = np.take_along_axis(XX, S[:, None, :], 2) / np.sqrt(N)
            W = np.stack([np.linalg.lstsq(XS[k], yy[k], rcond=None)[0] for k in range(K)])
            out[("ridge " + data, c)] = np.sum(W * BS, 1) / np.linalg.norm(W, axis=1) / Bn
        out[("ridge reuse", c)] = out[("ridge same", c)] - out[("ridge fresh", c)]
        if c == GIBBS_DENSITY:
            XS = np.take_along_axis(X, S[:, None, :], 2)
            W = gibbs_sample(XS, y, T_R, JS, sweeps=1, burn_in=burn_in, seeds=[s + 1 for s in seeds]).weights.numpy()
            out[("gibbs same", c)] = np.sum(W * BS, 1) / np.linalg.norm(W, axis=1) / Bn
    return out


def _theory(name, c):
    if name == "pruned":
        return pg.pruned_overlap(ALPHA, T, c)
    if name == "kept energy":
        return pg.kept_teacher_energy(ALPHA, T, c)
    if name == "ridge reuse":
        return pg.retrained_overlap(ALPHA, T, c) - pg.retrained_overlap(ALPHA, T, c, data="fresh")
    if name.startswith("ridge"):
        return pg.retrained_overlap(ALPHA, T, c, data=name.split()[1])
    return pg.retrained_overlap(ALPHA, T, c, "gibbs", retrain_temperature=T_R)


@pytest.fixture(scope="module")
def simulations():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the sampler's moves are small: one thread is fastest on a shared machine
    try:
        return {N: _simulate(N, K, seed=N) for N, K in SIZES}
    finally:
        torch.set_num_threads(threads)


def test_pruned_and_retrained_gibbs_students_match_exact_sampling_at_two_sizes(simulations):
    """Within 3 standard errors plus 1/N of the theory at N = 40 and 80, the deviation not growing."""
    (N1, _), (N2, _) = SIZES
    for key in simulations[N1]:
        devs, ses = [], []
        for N, _ in SIZES:
            x = simulations[N][key]
            dev, se = x.mean() - _theory(*key), x.std(ddof=1) / np.sqrt(x.size)
            assert abs(dev) < 3 * se + 1.0 / N, (key, N, x.mean(), _theory(*key), se)
            devs.append(abs(dev))
            ses.append(se)
        assert devs[1] < devs[0] + 2 * np.hypot(*ses), (key, devs, ses)


# ----------------------------------------------------------------------------- the temperature effect
def test_temperature_effect_signs_and_flat_limits():
    te = pg.temperature_effect([1.0, 3.0], [0.0, 0.3, 1.0], [0.1, 0.5, 0.9, 1.0], reg="optimal")
    assert te.error.shape == te.slope.shape == te.sign.shape == (2, 3, 4)
    assert np.all(te.sign[:, 0] == 0)  # T = 0: every T-derivative vanishes
    assert np.all(te.sign[:, 1:, :3] == 1)  # hotter hurts at every density < 1
    assert np.all(te.sign[:, :, 3] == 0)  # retraining on every coordinate forgets J
    assert te.flips() == []
    for quantity in ["pruned", "dense"]:
        t = pg.temperature_effect(2.0, [0.3, 1.0], [0.1, 1.0], quantity)
        assert np.all(t.sign == 1)
    # the slope is the derivative of the error: compare with a fine central difference
    h = 1e-4
    direct = (pg.retrained_error(2.0, 0.5 + h, 0.3) - pg.retrained_error(2.0, 0.5 - h, 0.3)) / (2 * h)
    assert pg.temperature_effect(2.0, 0.5, 0.3).slope[0, 0, 0] == pytest.approx(direct, rel=1e-4)


def test_temperature_effect_with_gibbs_retraining():
    te = pg.temperature_effect(2.0, 0.5, [0.3, 0.7], retrain="gibbs", retrain_temperature=0.5)
    assert np.all(te.sign == 1)
    assert te.error[0, 0] == pytest.approx(
        pg.retrained_error(2.0, 0.5, [0.3, 0.7], "gibbs", retrain_temperature=0.5), abs=1e-12)


def test_flips_reports_sign_changes_along_density():
    sign = np.array([[[1, 0, -1, 1], [1, 1, 1, 1]]])
    te = pg.TemperatureEffect(np.array([2.0]), np.array([0.5, 1.0]), np.array([0.1, 0.2, 0.3, 0.4]),
                              np.zeros((1, 2, 4)), sign.astype(float), sign)
    assert te.flips() == [(2.0, 0.5, 0.1, 0.3), (2.0, 0.5, 0.3, 0.4)]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: pg.pruned_error(-1.0, 0.5, 0.5), "alpha"),
        (lambda: pg.pruned_error(0.0, 0.5, 0.5), "alpha"),
        (lambda: pg.pruned_error(1.0, -0.5, 0.5), "temperature"),
        (lambda: pg.pruned_error(1.0, 0.5, 0.0), "density"),
        (lambda: pg.pruned_error(1.0, 0.5, 1.5), "density"),
        (lambda: pg.pruned_error(1.0, 0.5, 0.5, estimator="median"), "estimator"),
        (lambda: pg.kept_teacher_energy(1.0, np.nan, 0.5), "temperature"),
        (lambda: pg.retrained_error(1.0, 0.5, 0.5, retrain="lasso"), "retrain"),
        (lambda: pg.retrained_error(1.0, 0.5, 0.5, data="test"), "data"),
        (lambda: pg.retrained_error(1.0, 0.5, 0.5, reg=-1.0), "reg"),
        (lambda: pg.retrained_error(1.0, 0.5, 0.5, reg="best"), "reg"),
        (lambda: pg.retrained_error(1.0, 0.5, 0.5, "gibbs", retrain_temperature=-1.0), "retrain_temperature"),
        (lambda: pg.temperature_effect(1.0, [0.5, -1.0], 0.5), "temperature"),
        (lambda: pg.temperature_effect(1.0, 0.5, 0.5, quantity="train"), "quantity"),
        (lambda: pg.temperature_effect(1.0, 0.5, 0.5, rel_step=0.0), "rel_step"),
        (lambda: pg.tilted_moments(1.0, -1.0), "temperature"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
