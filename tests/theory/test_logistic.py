"""Logistic-regression learning curves: an independent solver, the large- and small-ridge limits, the
max-margin theory, and simulations (scikit-learn, a hard-margin solver, hidden-manifold data) at two sizes."""
import numpy as np
import pytest
from scipy import integrate, optimize, special
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from manifolds.hidden import HiddenManifold
from manifolds.teachers import PerceptronTeacher
from theory import hidden_manifold as hm
from theory import logistic
from theory import perceptron
from theory._checks import SaddlePointError

_SQRT2PI = np.sqrt(2 * np.pi)


def _phi(x):
    return np.exp(-0.5 * x * x) / _SQRT2PI


# ----------------------------------------------------------------------------- independent route
def _hats_output_space(m, q, V, alpha):
    """Channel integrals written over the prox output u instead of the input field: for y = +1,
    omega(u) = u - V sigma(-u) is explicit (no prox to solve) and d xi = (1 + V l''(u)) du / sqrt(q);
    adaptive quadrature (scipy.integrate.quad)."""
    sq = np.sqrt(q)
    R = m / sq
    s0 = np.sqrt(1 - R * R)

    def integrand(kind):
        def f(u):
            sg = special.expit(u)
            l2 = sg * (1 - sg)
            xi = (u - V * (1 - sg)) / sq
            w = (1 + V * l2) / sq * _phi(xi)
            if kind == "m":
                return w * _phi(R * xi / s0) / s0 * (1 - sg)
            if kind == "q":
                return w * special.ndtr(R * xi / s0) * (1 - sg) ** 2
            return w * special.ndtr(R * xi / s0) * l2 / (1 + V * l2)
        return f

    kw = dict(epsabs=1e-13, epsrel=1e-11, limit=400)
    return [2 * alpha * sum(integrate.quad(integrand(k), a, b, **kw)[0] for a, b in [(-np.inf, 0), (0, np.inf)])
            for k in ("m", "q", "V")]


def _reference(alpha, lam):
    """(m, q, V) by scipy.optimize.root (hybr) on log(m, q, V), hats eliminated, from the Hebbian point."""
    def F(x):
        m, q, V = np.exp(x)
        mh, qh, Vh = _hats_output_space(m, q, V, alpha)
        A = lam + Vh
        return [np.log(mh / A / m), np.log((mh * mh + qh) / A**2 / q), np.log(1 / (A * V))]

    A = lam + alpha / 4
    x0 = np.log([alpha / _SQRT2PI / A, (alpha**2 / (2 * np.pi) + alpha / 4) / A**2, 1 / A])
    sol = optimize.root(F, x0, method="hybr", options=dict(xtol=1e-12))
    assert sol.success, sol.message
    return np.exp(sol.x)


@pytest.mark.parametrize("alpha, lam", [(0.5, 0.1), (1.0, 1e-3), (2.0, 0.01), (2.0, 1.0), (5.0, 0.1)])
def test_matches_independent_output_space_solver(alpha, lam):
    m, q, V = _reference(alpha, lam)
    ref = np.arccos(m / np.sqrt(q)) / np.pi
    assert abs(logistic.test_error(alpha, lam) - ref) < 1e-9
    np.testing.assert_allclose(logistic.order_parameters(alpha, lam), (m, q, V), rtol=1e-8)


def test_large_ridge_limit_is_hebb_closed_form():
    """lam -> inf: w -> (1/2 lam) sum y x/sqrt(N), the Hebb rule, R = sqrt(2 alpha/(2 alpha + pi)); the gap ~ 1/lam."""
    for alpha in (1.0, 3.0):
        gaps = np.abs(logistic.test_error(alpha, np.array([10.0, 100.0, 1000.0])) - perceptron.hebb_error(alpha))
        assert gaps[2] < 1e-4
        assert gaps[0] / gaps[1] == pytest.approx(10, rel=0.2) and gaps[1] / gaps[2] == pytest.approx(10, rel=0.05)


def test_small_ridge_limit_approaches_max_margin():
    for alpha in (0.5, 2.0):
        mm = logistic.max_margin_error(alpha)
        assert logistic.test_error(alpha, 0.0) == mm
        lam = np.array([1e-4, 1e-6, 1e-8, 1e-10])
        gaps = np.abs(logistic.test_error(alpha, lam) - mm)
        assert np.all(np.diff(gaps) < 0) and gaps[-1] < 0.5 * gaps[0]
        # slowly: the gap times log(1/lam) levels off (the norm of w grows like log(1/lam))
        scaled = gaps * np.log(1 / lam)
        assert np.ptp(scaled[1:]) < 0.1 * scaled[-1]


# ----------------------------------------------------------------------------- max margin
def _max_margin_reference(alpha, x0):
    """The two max-margin equations in their original form over the student field t, by quad and root."""
    def F(x):
        R, kappa = x
        s = np.sqrt(1 - R * R)
        f1 = lambda t: _phi(t) * special.ndtr(R * t / s) * (kappa - t) ** 2  # noqa: E731
        f2 = lambda t: _phi(t) * (kappa - t) ** 2 * t * _phi(R * t / s)  # noqa: E731
        kw = dict(epsabs=1e-14, epsrel=1e-12, limit=400)
        pts = sorted({min(0.0, kappa), kappa})
        I1 = sum(integrate.quad(f1, a, b, **kw)[0] for a, b in zip([-np.inf] + pts[:-1], pts))
        I2 = sum(integrate.quad(f2, a, b, **kw)[0] for a, b in zip([-np.inf] + pts[:-1], pts))
        return [1 - R * R - 2 * alpha * I1, R + alpha * I2 / s**3]

    sol = optimize.root(F, x0, method="hybr", options=dict(xtol=1e-13))
    assert sol.success, sol.message
    return sol.x


def test_max_margin_matches_independent_root_and_published_asymptote():
    for alpha in (0.3, 2.0, 10.0):
        R, kappa = logistic.max_margin_order_parameters(alpha)
        R_ref, k_ref = _max_margin_reference(alpha, [0.9 * R, 1.1 * kappa])
        assert abs(R - R_ref) < 1e-9 and abs(kappa - k_ref) < 1e-9
    # epsilon ~ 0.5005/alpha at large alpha (the maximally stable perceptron; EvdB)
    alpha = 300.0
    assert alpha * logistic.max_margin_error(alpha) == pytest.approx(0.5005, abs=1e-3)


def _hard_margin(X, y):
    """Hard-margin separator without bias: the dual max_a>=0 sum a - |G^T a|^2/2, G = y x, by L-BFGS-B."""
    G = y[:, None] * X

    def f(a):
        v = G.T @ a
        return 0.5 * v @ v - a.sum(), G @ v - 1.0

    res = optimize.minimize(f, np.zeros(len(y)), jac=True, method="L-BFGS-B", bounds=[(0, None)] * len(y),
                            options=dict(maxiter=20000, ftol=1e-15, gtol=1e-10, maxcor=30))
    assert res.success
    return G.T @ res.x


def test_max_margin_matches_hard_margin_solver_at_two_sizes():
    rng = np.random.default_rng(3)
    alpha = 2.0
    R_th, k_th = logistic.max_margin_order_parameters(alpha)
    err_th = np.arccos(R_th) / np.pi
    rms = []
    with threadpool_limits(1):
        for N, n_inst in [(100, 16), (400, 4)]:
            errs, kappas = [], []
            for _ in range(n_inst):
                u = rng.standard_normal(N)
                X = rng.standard_normal((int(alpha * N), N)) / np.sqrt(N)
                y = np.sign(X @ u)
                w = _hard_margin(X, y)
                assert np.min(y * (X @ w)) > 1 - 1e-5  # every example at margin >= 1
                errs.append(np.arccos(w @ u / np.linalg.norm(w) / np.linalg.norm(u)) / np.pi)
                kappas.append(np.min(y * (X @ w)) / np.linalg.norm(w) * np.sqrt(N))
            errs, kappas = np.array(errs), np.array(kappas)
            assert abs(errs.mean() - err_th) < 4 * errs.std(ddof=1) / np.sqrt(n_inst) + 0.5 / N
            assert abs(kappas.mean() - k_th) < 4 * kappas.std(ddof=1) / np.sqrt(n_inst) + 3.0 / N
            rms.append(np.sqrt(np.mean((errs - err_th) ** 2)))
    assert rms[1] < 0.7 * rms[0]


# ----------------------------------------------------------------------------- simulations
def _fit(X, y, lam):
    return LogisticRegression(C=1 / lam, fit_intercept=False, tol=1e-7, max_iter=10000).fit(X, y).coef_[0]


def test_matches_scikit_learn_at_two_sizes():
    """LogisticRegression(C = 1/lam) on x/sqrt(N); the test error of w is exact for Gaussian inputs,
    arccos(R)/pi. At N = 200 and 800: the mean agrees with the theory and the spread around it shrinks."""
    rng = np.random.default_rng(4)
    ratios = []
    with threadpool_limits(1):
        for alpha, lam in [(0.5, 0.1), (2.0, 1.0), (5.0, 0.01)]:
            theory = logistic.test_error(alpha, lam)
            rms = []
            for N, n_inst in [(200, 32), (800, 8)]:
                P = int(round(alpha * N))
                errs, losses, train_errs = [], [], []
                for _ in range(n_inst):
                    u = rng.standard_normal(N)
                    X = rng.standard_normal((P, N)) / np.sqrt(N)
                    y = np.sign(X @ u)
                    w = _fit(X, y, lam)
                    errs.append(np.arccos(w @ u / np.linalg.norm(w) / np.linalg.norm(u)) / np.pi)
                    losses.append(np.mean(np.logaddexp(0, -y * (X @ w))))
                    train_errs.append(np.mean(y * (X @ w) < 0))
                errs = np.array(errs)
                se = errs.std(ddof=1) / np.sqrt(n_inst)
                assert abs(errs.mean() - theory) < 4 * se + 1.0 / N, (alpha, lam, N, errs.mean(), theory, se)
                rms.append(np.sqrt(np.mean((errs - theory) ** 2)))
            ratios.append(rms[1] / rms[0])
            assert abs(np.mean(losses) - logistic.training_loss(alpha, lam)) < 0.01
            assert abs(np.mean(train_errs) - logistic.training_error(alpha, lam)) < 0.01
    # the error concentrates on the theory (~ 1/sqrt(N): ratio 1/2 expected)
    assert max(ratios) < 1.0 and np.exp(np.mean(np.log(ratios))) < 0.75, ratios


def _hidden_manifold_rms(activation, ratio, alpha, reg, D, n_inst, n_test=20000):
    """Logistic regression on n_inst hidden-manifold generators of size D: checks the mean test error
    (measured on n_test fresh points) against the theory and returns the rms deviation from it."""
    k0 = hm.gaussian_equivalence(activation)[0]
    d, P = int(ratio * D), int(round(alpha * D))
    theory = logistic.hidden_manifold_test_error(P, d, D, activation, reg)
    errs, exact_spectrum = [], []
    for i in range(n_inst):
        gen = HiddenManifold(d, D, seed=10 + i, activation=activation)
        teacher = PerceptronTeacher(d, seed=20 + i)
        X, Z = gen.sample(P, seed=30 + i)
        w = _fit((X - k0) / np.sqrt(D), teacher(Z), reg)
        Xt, Zt = gen.sample(n_test, seed=40 + i)
        errs.append(np.mean(np.sign((Xt - k0) @ w) != teacher(Zt)))
        exact_spectrum.append(
            logistic.hidden_manifold_test_error(P, d, D, activation, reg, feature_matrix=gen.feature_matrix))
    errs = np.array(errs)
    assert abs(np.mean(exact_spectrum) - theory) < 0.003  # Marchenko-Pastur quantiles ~ the sampled spectra
    se = errs.std(ddof=1) / np.sqrt(n_inst)
    assert abs(errs.mean() - theory) < 4 * se + 0.2 / np.sqrt(d), (D, errs.mean(), theory, se)
    return np.sqrt(np.mean((errs - theory) ** 2))


@pytest.mark.parametrize("activation, ratio, alpha, reg",
                         [("tanh", 0.25, 2.0, 0.1), ("relu", 0.25, 3.0, 0.3), ("linear", 0.5, 2.0, 0.1)])
def test_hidden_manifold_matches_simulation_at_two_sizes(activation, ratio, alpha, reg):
    """Centred features (f(F z/sqrt d) - kappa0)/sqrt(D), labels sign(theta.z), at D = 100 and 400
    (linear: Gaussian features with the Marchenko-Pastur covariance F F^T/d, no Gaussian-equivalence step)."""
    with threadpool_limits(1):
        rms = [_hidden_manifold_rms(activation, ratio, alpha, reg, D, n, n_test)
               for D, n, n_test in [(100, 16, 20000), (400, 12, 12000)]]
    # the spread around the theory shrinks (~ 1/sqrt(D) from the fluctuations of w, plus the test-set noise
    # and the Gaussian-equivalence corrections: a ratio of about 0.5-0.6 is expected)
    assert rms[1] < 0.8 * rms[0], rms


def test_hidden_manifold_prior_reduces_to_isotropic():
    """The spectral prior with one eigenvalue 1 and teacher signal 1 is the isotropic model exactly."""
    N = 300
    a, lam = np.array([0.5, 2.0]), np.array([0.1, 0.01])
    prior = logistic._spectral_prior(np.ones(1), np.full(1, N), np.full(1, 1.0 / N), N)
    m, q, V, _ = logistic._fixed_point(a, lam, prior, "isotropic as a spectrum")
    np.testing.assert_allclose(np.arccos(m / np.sqrt(q)) / np.pi, logistic.test_error(a, lam), atol=1e-10)
    # more data helps; errors in (0, 1/2)
    curve = logistic.hidden_manifold_test_error(np.array([50, 200, 800]), 50, 100, "tanh", 0.1)
    assert curve.shape == (3,) and np.all(np.diff(curve) < 0) and np.all((curve > 0) & (curve < 0.5))


def test_unconverged_iteration_raises(monkeypatch):
    monkeypatch.setattr(logistic, "_MAX_ITER", 3)
    with pytest.raises(SaddlePointError, match="did not converge"):
        logistic.test_error(2.0, 0.1)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: logistic.test_error(1.0, -0.1), "lam"),
        (lambda: logistic.test_error(0.0, 0.1), "alpha"),
        (lambda: logistic.test_error(-1.0, 0.1), "alpha"),
        (lambda: logistic.order_parameters(1.0, 0.0), "lam = 0"),
        (lambda: logistic.training_error(1.0, 0.0), "lam = 0"),
        (lambda: logistic.max_margin_error(0.0), "alpha"),
        (lambda: logistic.hidden_manifold_test_error(100, 10, 20, reg=0.0), "reg"),
        (lambda: logistic.hidden_manifold_test_error(100, 10, 20, activation="softplus"), "activation"),
        (lambda: logistic.hidden_manifold_test_error(100, 10, 20, feature_matrix=np.ones((10, 20))), "feature_matrix"),
        (lambda: logistic.hidden_manifold_test_error(0, 10, 20), "n_train"),
    ],
)
def test_bad_input_raises_value_error(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_prox_converges_where_plain_newton_cycles():
    # u = omega + V sigma(-u) at omega = -8.07, V = 13.14: plain Newton bounced between the two sides of the
    # inflection point u = 0; the safeguarded iteration solves it to rounding
    from theory.logistic import _prox

    omega = np.array([[-8.07475142063166, -2.0, 0.0, 3.0, 40.0]])
    V = np.array([[13.140887967185382]])
    u = _prox(omega, V, omega.copy())
    assert np.allclose(u - omega - V * special.expit(-u), 0.0, atol=1e-10)
    # the hidden-manifold saddle point that failed on it (small load, small lam) now solves, and lies
    # between the errors of the larger loads and chance
    e = logistic.hidden_manifold_test_error([30, 60], 60, 120, "tanh", reg=0.1 / 120)
    assert 0.5 > e[0] > e[1] > 0.25
