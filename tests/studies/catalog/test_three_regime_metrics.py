"""The three-regime quantities on constructed cases: the signed mode connectivity on a known barrier, the
regimes with fixed thresholds, their sensitivity table, the guard on a fitted threshold, the derived
columns of the tidy table, the temperature effect and its flip."""
import numpy as np
import pandas as pd
import pytest
import torch

import models
from studies.catalog.three_regime.analysis import (cells, classify, columns, effect, flip_pairs, sensitivity,
                                                   thresholds)


def two_unit_nets():
    """f(x) = relu(x1) - relu(-x1) = x1 written with its hidden units in either order: the same function
    at both ends, but the midpoint of the straight path has zero hidden weights (a constant output)."""
    ens = models.make_ensemble("mlp", 1, 2, hidden=(2,), seeds=[0])
    a = {n: torch.zeros_like(p) for n, p in ens.params.items()}
    a["w0"][0] = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    a["w_out"][0] = torch.tensor([1.0, -1.0])
    b = {n: p.clone() for n, p in a.items()}
    b["w0"][0] = a["w0"][0].flip(0)
    b["w_out"][0] = a["w_out"][0].flip(0)
    X = torch.randn(400, 2, generator=torch.Generator().manual_seed(1))
    return ens, a, b, X, torch.sign(X[:, 0])


def test_mode_connectivity_is_minus_the_barrier_of_a_permuted_pair_and_zero_on_a_flat_path():
    ens, a, b, X, y = two_unit_nets()
    mc, ts, curve = models.mode_connectivity(ens, a, b, X, y, return_curve=True, mask_dead=False)
    assert curve[0, 0] == 0 and curve[-1, 0] == 0 and curve[5, 0] == 0.5  # constant output: error 1/2
    assert mc[0] == pytest.approx(-0.5)  # endpoint mean 0 minus the worst point 0.5: a barrier is negative
    assert models.lmc_barrier(ens, a, b, X, y, metric="error")[0] == pytest.approx(0.5)  # same size, other sign
    assert models.mode_connectivity(ens, a, a, X, y)[0] == 0.0
    # a path better than its ends is positive; ends that differ count from their mean (the paper's code)
    np.testing.assert_allclose(models.mode_connectivity_of_curve(np.array([[0.2], [0.1], [0.2]])), [0.1])
    np.testing.assert_allclose(models.mode_connectivity_of_curve(np.array([[0.1], [0.05], [0.0]])), [-0.05])


def cell_table(mc, cka, sd=None):
    mc = np.asarray(mc, float)
    return pd.DataFrame({"temperature": np.arange(len(mc), dtype=float) + 1, "density": 0.1,
                         "mode_connectivity": mc, "cka_output": cka, "cka": cka,
                         "mode_connectivity_sd": np.zeros(len(mc)) if sd is None else sd})


def test_regimes_with_fixed_thresholds_and_their_sensitivity_table():
    np.testing.assert_array_equal(classify([-0.05, -0.005, -0.005, np.nan], [0.99, 0.99, 0.5, 0.99], 0.02, 0.95),
                                  ["I", "II-B", "II-A", "n/a"])
    c = cell_table([-0.05, -0.015, -0.005, -0.001], [0.99, 0.99, 0.96, 0.92])
    a = {"barrier_threshold": 0.02, "cka_threshold": 0.95}
    s = sensitivity(c, a).set_index(["threshold", "factor"])
    # barrier 0.01: -0.015 becomes I; 0.04: nothing changes; CKA 0.975: 0.96 becomes II-A; 0.9: 0.92 becomes II-B
    assert s.loc[("barrier_threshold", 0.5), "cells_changed"] == 1 and s.loc[("barrier_threshold", 0.5), "n_I"] == 2
    assert s.loc[("barrier_threshold", 2.0), "cells_changed"] == 0
    assert s.loc[("cka_threshold", 0.5), "value"] == pytest.approx(0.975)
    assert s.loc[("cka_threshold", 0.5), "cells_changed"] == 1 and s.loc[("cka_threshold", 0.5), "n_II-A"] == 2
    assert s.loc[("cka_threshold", 2.0), "cells_changed"] == 1 and s.loc[("cka_threshold", 2.0), "n_II-A"] == 0


def test_a_fitted_threshold_never_calls_a_barrier_within_the_seed_spread_regime_one():
    mc = [-0.3, -0.25, -0.2, -0.001, -0.002, -0.001]
    a = {"barrier_threshold": None, "cka_threshold": 0.95}
    bt, _, how = thresholds(cell_table(mc, 0.99), a)
    assert "fitted" in how and 0.002 < bt < 0.2
    from studies.catalog.three_regime.analysis import cell_regimes

    tight = cell_table(mc, 0.99, sd=np.full(6, 0.01))
    assert list(cell_regimes(tight, a, bt, 0.95)) == ["I"] * 3 + ["II-B"] * 3
    noisy = cell_table(mc, 0.99, sd=[0.5, 0.01, 0.01, 0.01, 0.01, 0.01])  # the first barrier is within its spread
    assert list(cell_regimes(noisy, a, bt, 0.95)) == ["II-B", "I", "I", "II-B", "II-B", "II-B"]
    # no change point of a decade: the fixed default stands
    assert "default" in thresholds(cell_table([-0.01, -0.012, -0.011], 0.99), a)[2]


def rows(slopes: dict, seeds=4, knob="lr", noise=0.002):
    """A tidy table whose test error has the given slope against log10 T at each density."""
    rng = np.random.default_rng(0)
    out = []
    for seed in range(seeds):
        for T in (0.1, 0.3, 1.0, 3.0):
            out.append({"seed": seed, "temperature": T, "density": 1.0, "sparsity": 0.0, "test_error": 0.1,
                        "mode_connectivity": 0.0, "cka_output": 1.0, "cka": 1.0, "converged": True,
                        "dense_train_error": 0.0 if T < 1 else 0.05, "dense_test_error": 0.1, "temperature_knob": knob})
            for density, slope in slopes.items():
                out.append({**out[-1], "density": density, "sparsity": 1 - density,
                            "test_error": 0.2 + slope * np.log10(T) + noise * rng.standard_normal(),
                            "mode_connectivity": -0.1 if density < 0.1 else -0.001, "converged": True})
    return pd.DataFrame(out)


def test_the_temperature_effect_flips_and_the_columns_carry_the_regime():
    t = rows({0.5: 0.03, 0.2: 0.0, 0.05: -0.03})
    a = {"barrier_threshold": 0.02, "cka_threshold": 0.95, "max_dense_train_error": 0.01}
    e = effect(t, a).set_index("density")
    assert e.loc[0.5, "sign"] == 1 and e.loc[0.05, "sign"] == -1 and e.loc[0.2, "sign"] == 0
    assert e.loc[0.5, "slope"] == pytest.approx(0.03, abs=0.005)
    assert flip_pairs(effect(t, a), "density") == [(0.5, 0.05)]
    # the epochs knob reads reversed: the same numbers mean the opposite effect of raising T
    er = effect(t.assign(temperature_knob="epochs"), a).set_index("density")
    assert er.loc[0.5, "sign"] == -1 and er.loc[0.5, "slope_vs_value"] == pytest.approx(e.loc[0.5, "slope"])
    t2 = columns(t, a)
    assert set(t2.loc[t2.density == 0.05, "regime"]) == {"I"} and set(t2.loc[t2.density == 0.5, "regime"]) == {"II-B"}
    assert set(t2.loc[t2.sparsity == 0, "regime"]) == {"-"}
    assert t2["dense_converged"].tolist() == (t2["dense_train_error"] <= 0.01).tolist()
    c = cells(t, a)
    assert len(c) == 12 and (c.groupby("density")["normalized_test_error"].min() == 0).all()


def test_unconverged_rows_are_set_apart_from_the_cells():
    t = rows({0.5: 0.03})
    t.loc[(t.density == 0.5) & (t.temperature == 3.0), "converged"] = False
    c = cells(t, {})
    assert 3.0 not in set(c["temperature"]) and len(c) == 3


def test_n_train_as_the_load_axis_reads_the_cells_at_one_density():
    t = pd.concat([rows({0.5: 0.03, 0.05: -0.03}).assign(n_train=n) for n in (500, 2000)], ignore_index=True)
    t.loc[t.n_train == 2000, "test_error"] -= 0.05
    a = {"load": "n_train", "at_density": None}
    c = cells(t, a)
    assert set(c["n_train"]) == {500, 2000} and len(c) == 8  # the lowest density only: 4 temperatures x 2 sizes
    assert c.groupby("n_train")["test_error"].mean().diff().iloc[-1] == pytest.approx(-0.05, abs=0.005)
    e = effect(t, a).set_index("n_train")
    assert (e["sign"] == -1).all()  # at density 0.05 raising T helps at both sizes
    assert len(cells(t, {**a, "at_density": 0.5})) == 8 and (effect(t, {**a, "at_density": 0.5})["sign"] == 1).all()
