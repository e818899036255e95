"""models.ridge_fit against an independent solve per member: the normal equations on the kept support,
numpy's pseudo-inverse at reg = 0, a shared design equal to the same design given per member."""
import numpy as np
import pytest

from models.ridge import ridge_fit


def _reference(X, y, reg, keep):
    beta = np.zeros(X.shape[1])
    Xs = X[:, keep]
    if reg > 0:
        beta[keep] = np.linalg.solve(Xs.T @ Xs + reg * np.eye(keep.sum()), Xs.T @ y)
    else:
        beta[keep] = np.linalg.pinv(Xs) @ y  # minimum-norm least squares
    return beta


@pytest.mark.parametrize("P", [12, 40])  # fewer and more examples than coordinates
def test_ridge_matches_a_solve_per_member_on_its_support(P):
    rng = np.random.default_rng(0)
    K, D = 4, 20
    X, y = rng.normal(size=(K, P, D)), rng.normal(size=(K, P))
    reg = np.array([0.0, 0.1, 1.0, 10.0])
    mask = rng.random((K, D)) < 0.6
    beta = ridge_fit(X, y, reg, mask).numpy()
    for k in range(K):
        np.testing.assert_allclose(beta[k], _reference(X[k], y[k], reg[k], mask[k]), atol=1e-9)
        assert (beta[k][~mask[k]] == 0).all()


def test_a_shared_design_equals_the_design_given_per_member():
    rng = np.random.default_rng(1)
    K, P, D = 3, 30, 10
    X, y = rng.normal(size=(P, D)), rng.normal(size=(K, P))
    reg = np.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(ridge_fit(X, y, reg).numpy(), ridge_fit(np.repeat(X[None], K, 0), y, reg).numpy(),
                               atol=1e-10)


@pytest.mark.parametrize("X, y, reg, name", [
    (np.zeros((2, 5, 3)), np.zeros((3, 5)), [0.1, 0.1, 0.1], "X must have shape"),
    (np.zeros((5, 3)), np.zeros((2, 4)), [0.1, 0.1], "y must have shape"),
    (np.zeros((5, 3)), np.zeros(5), [-1.0], "reg must be finite and >= 0"),
    (np.zeros((5, 3)), np.zeros(5), [float("nan")], "reg must be finite and >= 0"),
])
def test_bad_input_is_named(X, y, reg, name):
    with pytest.raises(ValueError, match=name):
        ridge_fit(X, y, reg)
