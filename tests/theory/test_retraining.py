"""theory.retraining against an exact simulation: least squares of the teacher on the kept support."""
import numpy as np
import pytest

from manifolds.linear import random_orthonormal
from theory.retraining import subspace_retrained_error


def simulated_best_error(d, D, k, draws, rng):
    """Error of the best direction a student on k random coordinates can reach (infinite data)."""
    errs = []
    for _ in range(draws):
        A = random_orthonormal(D, d, rng)
        u = rng.standard_normal(d)
        S = rng.choice(D, size=k, replace=False)
        B = A[S]                                   # k x d; reachable directions: row space of B
        Q, _ = np.linalg.qr(B.T)                   # d x min(k, d) orthonormal basis
        pu = Q @ (Q.T @ u)
        R = np.linalg.norm(pu) / np.linalg.norm(u)
        errs.append(np.arccos(min(R, 1.0)) / np.pi)
    return np.mean(errs), np.std(errs) / np.sqrt(draws)


@pytest.mark.parametrize("D", [64, 256])
def test_full_reach_iff_at_least_d_kept(D):
    rng = np.random.default_rng(1)
    d = D // 8
    for k in (d, d + 3):
        m, _ = simulated_best_error(d, D, k, 5, rng)
        assert m < 1e-6
        assert subspace_retrained_error(d, D, k / D) == pytest.approx(0.0, abs=1e-12)


def test_below_d_the_error_matches_and_the_gap_shrinks_with_size():
    rng = np.random.default_rng(2)
    gaps = []
    for D in (64, 512):
        d, k = D // 4, D // 16                     # k/d = 1/4 fixed
        m, se = simulated_best_error(d, D, k, 200, rng)
        pred = subspace_retrained_error(d, D, k / D)
        assert abs(m - pred) < 4 * se + 0.02
        gaps.append(abs(m - pred))
    assert gaps[1] < gaps[0]


def test_dense_error_is_kept_above_the_limit_and_bad_input_is_named():
    assert subspace_retrained_error(8, 256, 0.5, dense_error=0.1) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="keep"):
        subspace_retrained_error(8, 256, 0.0)
    with pytest.raises(ValueError, match="intrinsic_dim"):
        subspace_retrained_error(300, 256, 0.5)
