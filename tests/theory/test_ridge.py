"""Ridge / Langevin learning curves against exact numpy solutions and posterior samples."""
import numpy as np
import pytest
import sympy as sp

from theory import ridge


def _simulate(rng, N, alpha, noise_var, reg, T, n_inst):
    P = int(round(alpha * N))
    errs = []
    for _ in range(n_inst):
        w_star = rng.standard_normal(N)
        w_star *= np.sqrt(N) / np.linalg.norm(w_star)
        X = rng.standard_normal((P, N))
        y = X @ w_star / np.sqrt(N) + np.sqrt(noise_var) * rng.standard_normal(P)
        H = X.T @ X / N + reg * np.eye(N)  # Hessian of E
        if reg == 0:
            if P > N:  # least squares
                w = np.linalg.solve(H, X.T @ y / np.sqrt(N))
            else:  # minimum-norm interpolator
                w = np.sqrt(N) * X.T @ np.linalg.solve(X @ X.T, y)
        else:
            w = np.linalg.solve(H, X.T @ y / np.sqrt(N))
        if T > 0:  # exact sample of exp(-E/T): N(w_hat, T H^-1)
            Lc = np.linalg.cholesky(H)
            w = w + np.sqrt(T) * np.linalg.solve(Lc.T, rng.standard_normal(N))
        errs.append(np.sum((w - w_star) ** 2) / N)
    errs = np.array(errs)
    return errs.mean(), errs.std(ddof=1) / np.sqrt(n_inst)


@pytest.mark.parametrize(
    "alpha, noise_var, reg, T",
    [(0.5, 0.25, 0.0, 0.0), (2.0, 0.25, 0.0, 0.0), (1.0, 0.5, 0.1, 0.0), (0.7, 0.1, 0.05, 0.2), (3.0, 0.0, 0.0, 0.5)],
)
def test_excess_error_matches_simulation_at_two_sizes(alpha, noise_var, reg, T):
    rng = np.random.default_rng(0)
    theory = ridge.excess_error(alpha, noise_var, reg, T)
    devs = []
    for N, n_inst in [(50, 60), (200, 10)]:
        mean, se = _simulate(rng, N, alpha, noise_var, reg, T, n_inst)
        assert abs(mean - theory) < 4 * se + 3.0 * theory / N, (N, mean, theory, se)
        devs.append(abs(mean - theory) / theory)
    assert devs[1] < 0.1


def test_double_descent_and_ridgeless_limit_symbolic():
    (under, over), (a, s2) = ridge.ridgeless_excess_error_symbolic()
    # the symbolic limits are the textbook formulas ...
    assert sp.simplify(under - (1 - a + s2 * a / (1 - a))) == 0
    assert sp.simplify(over - s2 / (a - 1)) == 0
    # ... and agree with the numeric resolvent at a tiny ridge
    for alpha in (0.3, 0.9, 1.2, 4.0):
        num = ridge.excess_error(alpha, 0.3, 1e-10)
        sym = float((under if alpha < 1 else over).subs({a: alpha, s2: 0.3}))
        assert num == pytest.approx(sym, rel=1e-6)
    # the peak at alpha = 1 grows as the ridge vanishes; a larger ridge tames it
    peak = [ridge.excess_error(1.0, 0.3, lam) for lam in (1e-1, 1e-2, 1e-3)]
    assert peak[0] < peak[1] < peak[2]
    assert ridge.ridgeless_excess_error(1.0, 0.3) == np.inf
    assert ridge.excess_error(np.array([0.5, 1.0, 2.0]), 0.3, 0.05).shape == (3,)


def test_manifold_load_is_P_over_d():
    rng = np.random.default_rng(1)
    d, D, P, noise_var, reg = 40, 160, 80, 0.2, 0.05
    errs = []
    for _ in range(20):
        A, _ = np.linalg.qr(rng.standard_normal((D, d)))
        u = rng.standard_normal(d)
        u *= np.sqrt(d) / np.linalg.norm(u)
        Z = rng.standard_normal((P, d))
        X = Z @ A.T
        y = Z @ u / np.sqrt(d) + np.sqrt(noise_var) * rng.standard_normal(P)
        w = np.linalg.solve(X.T @ X / d + reg * np.eye(D), X.T @ y / np.sqrt(d))  # prediction w.x/sqrt(d)
        errs.append(np.sum((A.T @ w - u) ** 2) / d)
    errs = np.array(errs)
    theory = ridge.manifold_excess_error(P, d, D, noise_var, reg)
    assert theory == pytest.approx(ridge.excess_error(P / d, noise_var, reg))
    assert abs(errs.mean() - theory) < 4 * errs.std(ddof=1) / np.sqrt(errs.size) + 3 * theory / d
    # with the ambient normalisation the ridge acts as reg * D / d
    assert ridge.manifold_excess_error(P, d, D, noise_var, reg, normalisation="ambient") == pytest.approx(
        ridge.excess_error(P / d, noise_var, reg * D / d)
    )


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: ridge.excess_error(0.0), "alpha"),
        (lambda: ridge.excess_error(1.0, -0.1), "noise_var"),
        (lambda: ridge.excess_error(1.0, 0.1, -1.0), "reg"),
        (lambda: ridge.excess_error(1.0, 0.1, 0.1, -1.0), "temperature"),
        (lambda: ridge.excess_error(0.5, 0.1, 0.0, 1.0), "reg = 0 requires alpha > 1"),
        (lambda: ridge.manifold_excess_error(10, 5, 3), "intrinsic_dim"),
        (lambda: ridge.manifold_excess_error(10, 2, 3, normalisation="x"), "normalisation"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
