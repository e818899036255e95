"""theory.frozen_weights: the off-span fraction of first-layer weights and the on-span overlap of a
magnitude-pruned unit, against the limits theory.pruning computes by another route and against direct
simulation at two sizes."""
import numpy as np
import pytest

from manifolds.base import random_orthonormal
from theory import frozen_weights as fw
from theory.pruning import magnitude_overlap, subspace_magnitude_error


def test_off_span_fraction_at_init_and_after_growth():
    assert fw.off_span_fraction(4, 64) == pytest.approx(1 - 4 / 64)
    assert fw.off_span_fraction(4, 64, growth=0.0) == 1.0
    assert fw.off_span_fraction(64, 64) == 0.0
    grown = fw.off_span_fraction(4, 64, growth=10.0)
    assert grown == pytest.approx(60 / (60 + 40))


@pytest.mark.parametrize("keep", [0.05, 0.3, 0.8])
def test_the_two_limits_are_the_linear_student_and_a_random_vector(keep):
    d, D = 8, 256
    # rho = 1: a unit entirely in the span is the linear student of theory.pruning (dense error 0)
    linear = np.cos(np.pi * subspace_magnitude_error(d, D, keep, 0.0))
    assert fw.span_overlap(keep, d, D, 1.0) == pytest.approx(linear, rel=1e-12)
    # rho = d/D: an untrained unit keeps sqrt(q), what pruning any isotropic vector keeps
    assert fw.span_overlap(keep, d, D, d / D) == pytest.approx(magnitude_overlap(1.0, keep), rel=2e-3)


def simulated_overlap(d, D, rho, keep, units, rng):
    """Rows w = A a + b: b the off-span part of a N(0, I) draw, a in R^d scaled to the on-span fraction rho;
    keep the largest |w_i| of each row and measure cos(A^T w', A^T w)."""
    A = random_orthonormal(D, d, rng)
    G = rng.standard_normal((units, D))
    b = G - (G @ A) @ A.T
    a = rng.standard_normal((units, d))
    on = a @ A.T
    if rho < 1:
        on *= np.sqrt(rho / (1 - rho) * (b * b).sum(1) / (on * on).sum(1))[:, None]
    else:
        b[:] = 0
    w = on + b
    k = int(round(keep * D))
    thresh = -np.sort(-np.abs(w), axis=1)[:, k - 1:k]
    pruned = np.where(np.abs(w) >= thresh, w, 0.0)
    v, vp = w @ A, pruned @ A
    cos = (v * vp).sum(1) / np.linalg.norm(v, axis=1) / np.linalg.norm(vp, axis=1)
    return cos.mean(), cos.std(ddof=1) / np.sqrt(units)


@pytest.mark.parametrize("rho_of", [lambda d, D: 1.0, lambda d, D: 0.3, lambda d, D: 2 * d / D],
                         ids=["in-span", "rho=0.3", "rho=2d/D"])
def test_the_overlap_agrees_with_simulation_and_the_gap_shrinks_with_size(rho_of):
    rng = np.random.default_rng(0)
    gaps = []
    for D in (64, 1024):
        d, keep = D // 16, 0.2
        rho = rho_of(d, D)
        m, se = simulated_overlap(d, D, rho, keep, 400, rng)
        pred = fw.span_overlap(keep, d, D, rho)
        gaps.append(abs(m - pred))
        assert gaps[-1] < 4 * se + 0.02
    assert gaps[1] < gaps[0]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="on_span_fraction"):
        fw.span_overlap(0.5, 4, 64, 0.0)
    with pytest.raises(ValueError, match="intrinsic_dim must be <= ambient_dim"):
        fw.off_span_fraction(65, 64)
    with pytest.raises(ValueError, match="growth"):
        fw.off_span_fraction(4, 64, growth=-1.0)
