"""Gaussian-equivalence coefficients (sympy vs quadrature) and hidden-manifold ridge vs simulation."""
import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from theory import hidden_manifold as hm

_F = {"erf": lambda u: erf(u / np.sqrt(2)), "relu": lambda u: np.maximum(u, 0.0), "tanh": np.tanh}


@pytest.mark.parametrize("activation", ["erf", "relu", "sign", "linear"])
def test_symbolic_coefficients_match_quadrature(activation):
    k0, k1, m2 = hm.gaussian_equivalence_symbolic(activation)
    assert all(isinstance(x, sp.Expr) and x.is_number for x in (k0, k1, m2))
    sym = (float(k0), float(k1), float(sp.sqrt(m2 - k0**2 - k1**2)))
    np.testing.assert_allclose(sym, hm.gaussian_equivalence_numeric(activation), atol=1e-9)
    np.testing.assert_allclose(sym, hm.gaussian_equivalence(activation), atol=1e-12)
    if activation == "erf":  # the arcsin law: E erf(g/sqrt2)^2 = (2/pi) arcsin(1/2) = 1/3
        assert sp.simplify(m2 - sp.Rational(1, 3)) == 0 and sp.simplify(k1 - 1 / sp.sqrt(sp.pi)) == 0


def test_tanh_coefficients_against_monte_carlo():
    rng = np.random.default_rng(0)
    g = rng.standard_normal(2_000_000)
    f = np.tanh(g)
    k0, k1, ks = hm.gaussian_equivalence("tanh")
    se = 5 / np.sqrt(g.size)
    assert abs(f.mean() - k0) < se and abs((g * f).mean() - k1) < se
    assert abs(np.sqrt(np.mean(f * f) - f.mean() ** 2 - np.mean(g * f) ** 2) - ks) < 10 * se


def test_marchenko_pastur_quantiles_match_sampled_spectrum():
    rng = np.random.default_rng(1)
    p, m = 200, 800
    G = rng.standard_normal((m, p))
    ev = np.sort(np.linalg.eigvalsh(G.T @ G / m))
    q = hm.marchenko_pastur_quantiles(p / m, p)
    assert abs(q.mean() - 1) < 1e-3
    assert np.max(np.abs(ev - q)) < 0.1 and np.mean(np.abs(ev - q)) < 0.02


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_ridge_on_hidden_manifold_matches_simulation(activation):
    """Test MSE of ridge on centred features x = f(F z/sqrt d) - kappa0, linear teacher theta.z."""
    rng = np.random.default_rng(2)
    k0 = hm.gaussian_equivalence(activation)[0]
    for d, D, n_inst in [(40, 80, 16), (160, 320, 6)]:
        P, reg = 2 * D, 0.1
        errs = []
        for _ in range(n_inst):
            F = rng.standard_normal((D, d))
            theta = rng.standard_normal(d)
            theta /= np.linalg.norm(theta)
            Z = rng.standard_normal((P, d))
            X = _F[activation](Z @ F.T / np.sqrt(d)) - k0
            w = np.linalg.solve(X.T @ X + reg * np.eye(D), X.T @ (Z @ theta))
            Zt = rng.standard_normal((2000, d))
            errs.append(np.mean((( _F[activation](Zt @ F.T / np.sqrt(d)) - k0) @ w - Zt @ theta) ** 2))
        errs = np.array(errs)
        theory = hm.hidden_manifold_ridge_mse(P, d, D, activation, reg)
        # Gaussian equivalence holds up to O(1/sqrt(d)) corrections
        assert abs(errs.mean() - theory) < 4 * errs.std(ddof=1) / np.sqrt(n_inst) + 0.5 * theory / np.sqrt(d)


def test_learning_curve_shape():
    P = np.array([80, 100, 120, 400, 1600])
    mse = hm.hidden_manifold_ridge_mse(P, 50, 100, "erf", 1e-3)
    # double-descent peak at the interpolation threshold P = D, then decay
    assert mse.shape == (5,) and mse[1] > mse[0] and mse[1] > mse[2] and mse[4] < mse[3] < mse[2]
    assert hm.hidden_manifold_ridge_mse(400, 50, 100, "relu", 0.1, teacher="sign") > hm.hidden_manifold_ridge_mse(
        400, 50, 100, "relu", 0.1
    )


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: hm.gaussian_equivalence("softplus"), "activation"),
        (lambda: hm.gaussian_equivalence_symbolic("tanh"), "closed form"),
        (lambda: hm.hidden_manifold_ridge_mse(0, 10, 20), "n_train"),
        (lambda: hm.hidden_manifold_ridge_mse(10, 10, 20, reg=-1), "reg"),
        (lambda: hm.hidden_manifold_ridge_mse(10, 10, 20, teacher="relu"), "teacher"),
        (lambda: hm.marchenko_pastur_quantiles(1.5, 10), "ratio"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
