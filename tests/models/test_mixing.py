"""Batch means, integrated autocorrelation times and the two-start / split-half check on series with
known answers (AR(1) processes)."""
import numpy as np
import pytest

from models.mixing import batch_means_se, integrated_autocorrelation_time, mixing_check


def _ar1(phi, n, K, seed):
    """K independent AR(1) chains x_t = phi x_{t-1} + e_t, stationary start; tau = (1 + phi)/(1 - phi)."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n, K))
    x = np.empty((n, K))
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, -0.5])
def test_autocorrelation_time_of_ar1_chains(phi):
    x = _ar1(phi, 4000, 8, seed=1)
    tau = (1 + phi) / (1 - phi)
    assert abs(integrated_autocorrelation_time(x) - tau) < 0.1 * tau + 0.05


def test_batch_means_standard_error_of_an_ar1_mean():
    # sd of the mean of n samples of a stationary AR(1): sqrt(tau var / n), var = 1/(1 - phi^2)
    phi, n = 0.8, 20_000
    x = _ar1(phi, n, 200, seed=2)
    se = np.array([batch_means_se(x[:, k], 20) for k in range(200)])
    truth = np.sqrt((1 + phi) / (1 - phi) / (1 - phi**2) / n)
    assert abs(np.median(se) / truth - 1) < 0.1
    assert abs(x.mean(0).std() / truth - 1) < 0.15


def test_mixing_check_flags_a_start_offset_and_a_drift():
    x = _ar1(0.5, 400, 8, seed=3)
    starts = np.arange(8) < 4
    assert mixing_check(x, starts).equilibrated
    shifted = x + np.where(starts, 1.0, 0.0)  # teacher-started chains sit higher
    check = mixing_check(shifted, starts)
    assert not check.equilibrated and check.start_z > 3 and abs(check.start_difference - 1) < 0.2
    drifting = x + np.linspace(0, 1, 400)[:, None]
    assert mixing_check(drifting, starts).drift_z > 3
    # one start group only: the start comparison is missing, not a failure
    alone = mixing_check(x, np.ones(8, bool))
    assert np.isnan(alone.start_difference) and alone.equilibrated


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="values"):
        mixing_check(np.zeros(5), np.ones(5, bool))
    with pytest.raises(ValueError, match="teacher_started"):
        mixing_check(np.zeros((5, 3)), np.ones(2, bool))
    with pytest.raises(ValueError, match="x"):
        integrated_autocorrelation_time(np.array([1.0, np.nan, 2.0]))
