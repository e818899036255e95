"""theory.subspace: the linear student's dense, one-shot and retrained errors from n, d, D alone, against
adaptive quadrature, the published least-squares curve, the infinite-data reach, and exact least-squares
simulations at two sizes."""
import numpy as np
import pytest
from scipy import integrate, stats
from threadpoolctl import threadpool_limits

from manifolds.base import random_orthonormal
from theory import subspace
from theory.perceptron import pseudoinverse_error
from theory.retraining import subspace_retrained_error


def quadrature(n, d, k):
    """The same averages by nested adaptive quadrature over r = |P_V u| and y = sqrt(X) (smooth densities),
    an independent numerical route to the Gauss-Legendre rules in probability."""
    def given(r):
        c2 = 2 * r * r / np.pi
        if k == 1:
            return np.arccos(r) / np.pi
        density = lambda y: 2 * y * stats.chi2.pdf(y * y, k - 1)  # noqa: E731
        f = lambda y: density(y) * np.arccos(r / np.sqrt(1 + (1 - c2) / (c2 * (n - k)) * y * y)) / np.pi  # noqa: E731
        return integrate.quad(f, 0, np.inf, epsabs=1e-11)[0]
    if k == d:
        return given(1.0)
    outer = lambda r: 2 * r * stats.beta.pdf(r * r, k / 2, (d - k) / 2) * given(r)  # noqa: E731
    return integrate.quad(outer, 0, 1, epsabs=1e-10)[0]


@pytest.mark.parametrize("n, d, k", [(2000, 2, 2), (2000, 16, 16), (2000, 16, 1), (300, 8, 3), (2000, 16, 8)])
def test_the_gauss_rules_agree_with_adaptive_quadrature(n, d, k):
    D = 256
    got = subspace.retrained_error(n, d, D, k / D) if k < d else subspace.dense_error(n, d)
    assert got == pytest.approx(quadrature(n, d, k), rel=1e-4, abs=1e-7)


def test_large_d_at_fixed_load_tends_to_the_published_least_squares_curve():
    gaps = [abs(subspace.dense_error(20 * d, d) - pseudoinverse_error(20.0)) for d in (25, 100, 400)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 2e-4  # Engel & Van den Broeck sec. 3.2


def test_infinite_data_gives_the_reach_of_a_random_support():
    d, D, k = 400, 1600, 100
    big = subspace.retrained_error(1e12, d, D, k / D)
    assert big == pytest.approx(subspace_retrained_error(d, D, k / D), abs=2e-3)
    assert subspace.retrained_error(4000, 8, 64, 0.5) == subspace.dense_error(4000, 8)  # k >= d: the dense fit


def test_logistic_is_the_max_margin_limit_and_other_losses_are_refused():
    assert subspace.dense_error(2000, 8, "logistic") < subspace.dense_error(2000, 8, "mse")
    assert "1/log t" in subspace.DOMAIN["logistic"]
    with pytest.raises(ValueError, match="loss must be one of 'mse', 'logistic'"):
        subspace.dense_error(2000, 8, "hinge")
    with pytest.raises(ValueError, match="n_train > min"):
        subspace.retrained_error(5, 8, 64, 1.0)


def simulate(n, d, D, keeps, draws, rng, support="random"):
    """Exact least squares (min-norm, the limit of gradient descent from zero) on draws of the data; the test
    error arccos(cos(A^T w, u))/pi of the dense fit, its one-shot magnitude pruning and the refit on a support.
    (One BLAS thread: these small solves only wait on a second one, badly so on a shared machine.)"""
    with threadpool_limits(1):
        return _simulate(n, d, D, keeps, draws, rng, support)


def _simulate(n, d, D, keeps, draws, rng, support):
    dense, one, re = [], [], []
    for _ in range(draws):
        A = random_orthonormal(D, d, rng)
        u = rng.standard_normal(d)
        Z = rng.standard_normal((n, d))
        X, y = Z @ A.T, np.sign(Z @ u)
        w = np.linalg.lstsq(X, y, rcond=None)[0]

        def err(v):
            return np.arccos(np.clip(v @ u / np.linalg.norm(v) / np.linalg.norm(u), -1, 1)) / np.pi

        dense.append(err(A.T @ w))
        row_one, row_re = [], []
        for kappa in keeps:
            k = int(round(kappa * D))
            top = np.argsort(-np.abs(w))[:k]
            row_one.append(err(A[top].T @ w[top]))
            S = rng.choice(D, size=k, replace=False) if support == "random" else top
            wS = np.linalg.lstsq(X[:, S], y, rcond=None)[0]
            row_re.append(err(A[S].T @ wS))
        one.append(row_one)
        re.append(row_re)
    return np.array(dense), np.array(one), np.array(re)


def test_dense_and_random_support_refits_agree_with_simulation_at_two_sizes():
    rng = np.random.default_rng(0)
    for d, D, n, draws in ((4, 32, 100, 800), (16, 128, 400, 200)):
        keeps = [2 * d / D, d / (2 * D), 1 / D]
        dense, _, re = simulate(n, d, D, keeps, draws, rng)
        se = dense.std(ddof=1) / np.sqrt(len(dense))
        assert abs(dense.mean() - subspace.dense_error(n, d)) < 4 * se
        np.testing.assert_allclose(re[:, 0], dense, atol=1e-7)  # k >= d: the refit is the dense fit
        for j, kappa in enumerate(keeps[1:], 1):
            m, s = re[:, j].mean(), re[:, j].std(ddof=1) / np.sqrt(len(re))
            assert abs(m - subspace.retrained_error(n, d, D, kappa)) < 4 * s, (d, kappa)


def test_one_shot_from_n_alone_agrees_with_simulation_and_the_gap_shrinks_with_size():
    rng = np.random.default_rng(1)
    gaps = []
    for D in (32, 256):
        d, n, kappa = D // 8, 25 * D // 8, 0.25
        _, one, _ = simulate(n, d, D, [kappa], 120 if D == 32 else 40, rng)
        pred = subspace.one_shot_error(n, d, D, kappa)
        gaps.append(abs(one.mean() - pred))
        assert gaps[-1] < 3 * one.std(ddof=1) / np.sqrt(len(one)) + 0.01
    assert gaps[1] < gaps[0]


def test_a_magnitude_support_reaches_further_than_a_random_one_as_predicted():
    """k < d: the support of the dense fit's largest weights keeps q(k/D) of its energy, not k/D. The
    prediction takes the rows of A as independent Gaussians; the orthonormal columns of a Haar embedding
    reach a little further still, so the predicted error is an upper bound within 15% at k = d/2."""
    rng = np.random.default_rng(3)
    for d, D, n, draws in ((8, 64, 400, 200), (16, 128, 800, 80)):
        keeps = [d / (2 * D), 2 / D]
        _, _, re = simulate(n, d, D, keeps, draws, rng, support="top")
        for j, kappa in enumerate(keeps):
            m, se = re[:, j].mean(), re[:, j].std(ddof=1) / np.sqrt(draws)
            mag = subspace.retrained_error(n, d, D, kappa, support="magnitude")
            rand = subspace.retrained_error(n, d, D, kappa)
            assert m - 3 * se < mag < 1.15 * m + 3 * se < rand, (d, kappa)
    with pytest.raises(ValueError, match="support must be one of"):
        subspace.retrained_error(1000, 8, 64, 0.05, support="oracle")
