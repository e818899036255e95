"""Regime classification, fitted thresholds and the sign of the temperature effect, on known data."""
import numpy as np
import pandas as pd

from studies.analysis.regimes import change_point, classify, fit_thresholds, flips, temperature_effect


def test_change_point_splits_two_levels_and_reports_their_gap():
    threshold, gap = change_point([0.1, 0.12, 0.09, 0.9, 0.95, 0.91])
    assert 0.12 < threshold < 0.9
    assert abs(gap - (0.92 - 0.103)) < 0.01


def test_classify_reads_barrier_then_cka():
    r = classify([0.5, 0.001, 0.001, np.nan], [0.99, 0.3, 0.99, 0.9], 0.05, 0.9)
    assert list(r) == ["I", "II-A", "II-B", "n/a"]


def test_thresholds_are_fitted_only_where_two_regimes_are_present():
    cells = pd.DataFrame({"lmc_barrier": [1e-4, 2e-4, 1e-4, 0.3, 0.4], "cka": [0.5, 0.52, 0.97, 0.98, 0.6]})
    bt, ct, how = fit_thresholds(cells)
    assert 2e-4 < bt < 0.3 and "barrier fitted" in how
    assert 0.52 < ct < 0.97 and "CKA fitted" in how
    flat = pd.DataFrame({"lmc_barrier": [1e-4, 1.1e-4, 1.2e-4], "cka": [0.99, 0.991, 0.992]})
    bt, ct, how = fit_thresholds(flat)
    assert (bt, ct) == (0.05, 0.95) and "default" in how
    assert fit_thresholds(flat, 0.2, 0.5)[:2] == (0.2, 0.5)


def synthetic_table(seed=0):
    """Error falls with temperature at high density and rises at low density, plus seed noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(6):
        for T in (0.01, 0.1, 1.0):
            for density, slope in ((0.5, -0.05), (0.2, -0.02), (0.1, 0.0), (0.05, 0.04)):
                err = 0.2 + slope * np.log10(T) + 0.002 * rng.standard_normal()
                rows.append({"seed": s, "temperature": T, "density": density, "test_error": err})
    return pd.DataFrame(rows)


def test_temperature_effect_signs_and_the_flip_are_found():
    eff = temperature_effect(synthetic_table())
    by = eff.set_index("density")
    assert by.loc[0.5, "sign"] == -1 and by.loc[0.05, "sign"] == 1 and by.loc[0.1, "sign"] == 0
    assert abs(by.loc[0.5, "slope"] + 0.05) < 3 * by.loc[0.5, "slope_se"] + 1e-3
    assert flips(eff) == [(0.2, 0.05)]
