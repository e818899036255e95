import numpy as np
import pytest

from theory.prunability import prunability, prunability_with_censoring


def test_linear_interpolation_to_the_crossing():
    s = [0.0, 0.5, 0.9]
    e = [0.10, 0.10, 0.20]
    # excess: -0.01, -0.01, +0.09 -> crossing at 0.5 + 0.4 * 0.01 / 0.10
    assert prunability(s, e, 0.10, 0.01) == pytest.approx(0.54)


def test_first_excursion_counts_even_if_the_curve_comes_back():
    s = [0.2, 0.4, 0.6, 0.8]
    e = [0.0, 0.05, 0.0, 0.0]
    p = prunability(s, e, 0.0, 0.01)
    assert 0.2 < p < 0.4


def test_censored_when_every_point_is_within_tolerance():
    p, censored = prunability_with_censoring([0.5, 0.9, 0.99], [0.1, 0.1, 0.1], 0.1, 0.005)
    assert censored and p == 0.99


def test_curve_starts_at_the_dense_point():
    # the first ladder point already fails: interpolate from (0, dense)
    p = prunability([0.5], [0.3], 0.1, 0.1)
    assert p == pytest.approx(0.25)


@pytest.mark.parametrize("bad", [dict(sparsity=[0.5, 0.2]), dict(sparsity=[0.1, 1.0]), dict(error=[np.nan, 0.1])])
def test_bad_input_is_named(bad):
    args = dict(sparsity=[0.1, 0.2], error=[0.1, 0.1])
    args.update(bad)
    with pytest.raises(ValueError):
        prunability(args["sparsity"], args["error"], 0.1, 0.01)


def test_the_batched_prunability_equals_the_scalar_one_curve_by_curve():
    from theory.prunability import prunability_batch

    rng = np.random.default_rng(0)
    for s in (np.array([0.1, 0.3, 0.5, 0.8, 0.95]), np.array([0.0, 0.2, 0.6, 0.9])):
        errors = 0.05 + np.cumsum(rng.random((300, s.size)) * 0.01, axis=1) * rng.random((300, 1))
        dense = 0.05 + rng.normal(0, 0.002, 300)
        tol = rng.choice([0.0, 0.005, 0.02, 1.0], 300)
        p, c = prunability_batch(s, errors, dense, tol)
        for b in range(300):
            assert (p[b], c[b]) == pytest.approx(prunability_with_censoring(s, errors[b], dense[b], tol[b]))
