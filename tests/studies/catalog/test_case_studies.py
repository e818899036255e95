"""Case-study analyses on a synthetic three_regime table with a known answer."""
import numpy as np
import pandas as pd

from studies.catalog.case_studies.analysis import direction_calls, selections


def table():
    """Two regimes by density: at 0.5 raising T helps and models are connected and similar;
    at 0.05 raising T hurts and models are poorly connected."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(6):
        for T in (0.1, 0.3, 1.0):
            for density, slope, barrier, cka in ((0.5, -0.05, 1e-4, 0.99), (0.05, 0.05, 0.5, 0.6)):
                rows.append({"seed": seed, "temperature": T, "density": density, "sparsity": 1 - density,
                             "test_error": 0.2 + slope * np.log10(T) + 0.001 * rng.standard_normal(),
                             "lmc_barrier": barrier * (1 + 0.1 * rng.random()), "cka": cka, "dead": 0,
                             "lmc_barrier_error": 0.0, "dense_test_error": 0.1 - 0.01 * np.log10(T),
                             "temperature_knob": "lr"})
    return pd.DataFrame(rows)


def test_the_direction_rule_is_learned_per_regime_and_scored_on_held_out_seeds():
    d = direction_calls(table(), {"barrier_threshold": None, "cka_threshold": None})
    assert d["rule"] == {"I": "lower", "II-B": "raise"}
    assert d["accuracy"] == 1.0 and d["always_raise"] == 0.5


def test_selection_regret_is_zero_for_the_oracle_and_measured_for_the_rules():
    sel = selections(table())
    assert len(sel) == 12
    assert (sel["regret_regime"] >= 0).all() and (sel["regret_dense"] >= 0).all()
    # the dense-accuracy rule always picks the largest temperature, which is worst at density 0.05
    low = sel[sel.density == 0.05]
    assert (low["dense_temperature"] == 1.0).all() and (low["regret_dense"] > 0.03).all()
