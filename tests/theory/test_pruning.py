"""Pruning closed forms against direct numpy simulations (tolerances scale with the size)."""
import numpy as np
import pytest

from theory import pruning
from theory._checks import SaddlePointError  # noqa: F401  (import check)


def _haar(rng, n, D, d):
    G = rng.standard_normal((n, D, d))
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :]


def _simulate_subspace(d, D, k, R0, n, rng):
    """Mean and standard error of the test error after keeping the k largest |w_i| of w = A v."""
    A = _haar(rng, n, D, d)
    other = rng.standard_normal((n, d))
    other[:, 0] = 0.0
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    v = np.sqrt(1 - R0**2) * other
    v[:, 0] = R0  # teacher u = e_1, cos(v, u) = R0
    w = np.einsum("nDd,nd->nD", A, v)
    thr = -np.partition(-np.abs(w), k - 1, axis=1)[:, k - 1 : k]
    vp = np.einsum("nDd,nD->nd", A, np.where(np.abs(w) >= thr, w, 0.0))
    err = np.arccos(vp[:, 0] / np.linalg.norm(vp, axis=1)) / np.pi
    return err.mean(), err.std(ddof=1) / np.sqrt(n)


def test_kept_energy_matches_sorted_gaussian():
    rng = np.random.default_rng(0)
    N = 400_000
    g2 = np.sort(rng.standard_normal(N) ** 2)[::-1]
    for keep in [1.0, 0.5, 0.1, 0.01]:
        k = int(keep * N)
        measured = g2[:k].sum() / g2.sum()
        # relative fluctuation of a sum of k chi-square terms ~ sqrt(2/k) (plus the whole-sum one)
        assert abs(measured - pruning.gaussian_kept_energy(keep)) < 5 * np.sqrt(2.0 / k) * measured + 1e-12
    q = pruning.gaussian_kept_energy(np.linspace(0.01, 1, 50))
    assert np.all(np.diff(q) > 0) and np.all(q >= np.linspace(0.01, 1, 50) - 1e-15)


@pytest.mark.parametrize("R", [0.9, 0.5])
def test_rotation_invariant_overlaps_match_simulation(R):
    rng = np.random.default_rng(1)
    N, keep = 100_000, 0.2
    u = rng.standard_normal(N)
    n = rng.standard_normal(N)
    n -= (n @ u) / (u @ u) * u
    w = R * u / np.linalg.norm(u) + np.sqrt(1 - R**2) * n / np.linalg.norm(n)
    k = int(keep * N)
    top = np.argsort(-np.abs(w))[:k]
    rnd = rng.permutation(N)[:k]
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    wm = np.zeros(N)
    wm[top] = w[top]
    wr = np.zeros(N)
    wr[rnd] = w[rnd]
    tol = 5 / np.sqrt(k)
    assert abs(cos(wm, u) - pruning.magnitude_overlap(R, keep)) < tol
    assert abs(cos(wr, u) - pruning.random_overlap(R, keep)) < tol
    # best retrained overlap on a support = |u_S| / |u|
    assert abs(np.linalg.norm(u[top]) / np.linalg.norm(u) - pruning.retrained_overlap(R, keep)) < tol
    assert abs(np.linalg.norm(u[rnd]) / np.linalg.norm(u) - pruning.retrained_overlap(R, keep, "random")) < tol
    oracle = np.argsort(-np.abs(u))[:k]
    assert abs(np.linalg.norm(u[oracle]) / np.linalg.norm(u) - pruning.retrained_overlap(R, keep, "oracle")) < tol
    # magnitude pruning beats random pruning, and retraining beats both
    assert pruning.magnitude_overlap(R, keep) > pruning.random_overlap(R, keep)
    assert pruning.retrained_overlap(R, keep) > pruning.magnitude_overlap(R, keep)


@pytest.mark.parametrize("dense_error", [0.0, 0.1])
def test_subspace_magnitude_error_matches_simulation_at_two_sizes(dense_error):
    """d/D = 1/8, keep ~ 0.1: theory within 4 s.e. + c/D, with the allowance shrinking with D."""
    rng = np.random.default_rng(2)
    R0 = np.cos(np.pi * dense_error)
    deviations = {}
    for D, n in [(64, 1500), (256, 150)]:
        d, k = D // 8, int(round(0.1 * D))
        mean, se = _simulate_subspace(d, D, k, R0, n, rng)
        theory = pruning.subspace_magnitude_error(d, D, k / D, dense_error)
        deviations[D] = abs(mean - theory)
        assert deviations[D] < 4 * se + 0.2 / D, (D, mean, theory, se)
        # the simulation resolves the d/D dependence: the rotation-invariant formula (d = D) is far off
        naive = pruning.magnitude_error(dense_error, k / D)
        assert abs(mean - naive) > 10 * se + 0.2 / D
        # and the unpruned error is recovered at keep = 1
        assert pruning.subspace_magnitude_error(d, D, 1.0, dense_error) == pytest.approx(dense_error, abs=1e-12)


def test_subspace_formula_limits():
    keep = np.array([0.5, 0.1, 0.01])
    # d = D: the rotation-invariant formula; d = 1: pruning never hurts
    np.testing.assert_allclose(pruning.subspace_magnitude_error(50, 50, keep, 0.1), pruning.magnitude_error(0.1, keep))
    np.testing.assert_allclose(pruning.subspace_magnitude_error(1, 50, keep, 0.1), 0.1)
    # more ambient redundancy (smaller d/D) means less damage
    errs = pruning.subspace_magnitude_error(np.array([2, 8, 32, 128]), 128, 0.05)
    assert np.all(np.diff(errs) > 0)


def test_retrained_limit_rank_and_least_squares():
    rng = np.random.default_rng(3)
    d, D, P = 6, 40, 200
    assert pruning.subspace_retrained_limit(d, D) == pytest.approx(1 - d / D)
    A = _haar(rng, 1, D, d)[0]
    u = rng.standard_normal(d)
    Z = rng.standard_normal((P, d))
    X = Z @ A.T
    y = Z @ u  # linear teacher on the latent coordinates (sign(u.z) is then exact too)
    for k in [d - 2, d - 1, d, d + 3]:
        for _ in range(5):
            S = rng.permutation(D)[:k]
            assert np.linalg.matrix_rank(A[S]) == min(k, d)
            wS, *_ = np.linalg.lstsq(X[:, S], y, rcond=None)
            v = A[S].T @ wS
            R = v @ u / np.linalg.norm(v) / np.linalg.norm(u)
            residual = np.linalg.norm(X[:, S] @ wS - y) / np.linalg.norm(y)
            if k >= d:
                assert residual < 1e-10 and R > 1 - 1e-12
            else:
                assert residual > 1e-3 and R < 1 - 1e-6


def test_predicted_prunability_one_shot_is_the_crossing():
    d, D, e0, tol = 16, 256, 0.05, 0.005
    s = pruning.predicted_prunability_one_shot(d, D, e0, tol)
    assert 0 < s < 1
    assert pruning.subspace_magnitude_error(d, D, 1 - s, e0) - e0 == pytest.approx(tol, abs=1e-9)
    assert pruning.subspace_magnitude_error(d, D, 1 - 0.99 * s, e0) - e0 < tol
    # vectorised, decreasing in d/D; degenerate cases
    ss = pruning.predicted_prunability_one_shot(np.array([4, 16, 64]), 256, e0, tol)
    assert ss.shape == (3,) and np.all(np.diff(ss) < 0)
    assert pruning.predicted_prunability_one_shot(1, 256, e0, tol) == 1.0
    assert pruning.predicted_prunability_one_shot(d, D, 0.3, 0.25) == 1.0
    assert pruning.predicted_prunability_one_shot(d, D, e0, 0.0) == 0.0


def test_prunability_from_error_function_uses_the_shared_definition():
    prunability_mod = pytest.importorskip("theory.prunability")
    assert hasattr(prunability_mod, "prunability")
    d, D, e0, tol = 16, 256, 0.05, 0.005
    ladder = np.linspace(0, 0.999, 2000)
    s = pruning.prunability_from_error_function(
        lambda s: pruning.subspace_magnitude_error(d, D, 1 - s, e0), e0, tol, ladder
    )
    assert s == pytest.approx(pruning.predicted_prunability_one_shot(d, D, e0, tol), abs=2e-3)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: pruning.gaussian_kept_energy(0.0), "keep"),
        (lambda: pruning.gaussian_kept_energy(1.5), "keep"),
        (lambda: pruning.magnitude_overlap(1.2, 0.5), "R"),
        (lambda: pruning.subspace_magnitude_error(10, 5, 0.5), "intrinsic_dim"),
        (lambda: pruning.subspace_magnitude_error(0, 5, 0.5), "intrinsic_dim"),
        (lambda: pruning.subspace_magnitude_error(2, 5, 0.5, dense_error=0.7), "dense_error"),
        (lambda: pruning.predicted_prunability_one_shot(2, 5, 0.1, -0.01), "tolerance"),
        (lambda: pruning.retrained_overlap(0.5, 0.5, support="biggest"), "support"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
