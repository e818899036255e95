"""models.logistic_fit: the minimiser of L2-regularised logistic regression against scikit-learn's (an
independent solver), its optimality conditions, the mask, and the argument checks."""
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from models import logistic_fit


def _data(seed, K, P, D):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((K, P, D)) / np.sqrt(D)
    B = rng.standard_normal((K, D))
    y = np.where(np.einsum("kpd,kd->kp", X, B) >= 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("reg", [1e-3, 0.1, 10.0])
def test_matches_scikit_learn_and_the_gradient_vanishes(reg):
    X, y = _data(0, 3, 80, 20)  # P = 4 D: separable, so at small reg the minimiser is far from zero
    fit = logistic_fit(X, y, [reg] * 3)
    assert fit.converged.all() and (fit.iterations < 40).all()
    W = fit.weights.numpy()
    with threadpool_limits(1):
        for k in range(3):
            sk = LogisticRegression(C=1 / reg, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X[k], y[k])
            assert np.allclose(W[k], sk.coef_[0], rtol=1e-5, atol=1e-6 * np.abs(sk.coef_).max())
    margins = y * np.einsum("kpd,kd->kp", X, W)
    grad = -np.einsum("kp,kpd->kd", y / (1 + np.exp(margins)), X) + reg * W
    assert np.abs(grad).max() < 1e-6
    # the objective never rises along the iterations
    assert (np.diff(fit.loss_history, axis=0) <= 1e-12).all()


def test_mask_fits_on_the_kept_coordinates_only():
    X, y = _data(1, 2, 60, 12)
    mask = np.zeros((2, 12), dtype=bool)
    mask[0, :5] = mask[1, 3:] = True
    fit = logistic_fit(torch.as_tensor(X), torch.as_tensor(y), [0.5, 0.5], mask=torch.as_tensor(mask))
    W = fit.weights.numpy()
    assert (W[~mask] == 0).all()
    for k in range(2):
        alone = logistic_fit(X[k][:, mask[k]], y[k], [0.5]).weights.numpy()[0]
        assert np.allclose(W[k, mask[k]], alone, atol=1e-9)


def test_a_shared_design_and_an_unfinished_solve_are_reported():
    X, y = _data(2, 1, 50, 10)
    fit = logistic_fit(X[0], y[0], [0.01, 1.0])
    assert fit.weights.shape == (2, 10) and fit.converged.all()
    assert np.linalg.norm(fit.weights[0]) > np.linalg.norm(fit.weights[1])  # less penalty, larger weights
    short = logistic_fit(X[0], y[0], [1e-3], max_iter=1)
    assert not short.converged[0] and short.decrement[0] > 1e-12


@pytest.mark.parametrize("kwargs, match", [
    (dict(reg=[0.0]), "reg must be finite and > 0"),
    (dict(reg=[float("nan")]), "reg"),
    (dict(y=np.full(8, 2.0)), "y must hold"),
    (dict(X=np.zeros((2, 8, 3))), "X must have shape"),
    (dict(max_iter=0), "max_iter"),
    (dict(mask=np.full((1, 3), 0.5)), "mask must be boolean"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    args = dict(X=np.ones((8, 3)), y=np.ones(8), reg=[1.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        logistic_fit(args.pop("X"), args.pop("y"), args.pop("reg"), **args)
