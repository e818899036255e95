"""The gibbs_learning study: a small run agrees with the replica theory inside its domain, its table
carries the required columns, and bad input is refused with a clear message."""
import numpy as np
import pytest

from studies import catalog
from studies.catalog.gibbs_learning.analysis import agreement, point_table, summarize
from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError
from studies.results.table import load_all


def small_spec(**base):
    b = dict(ambient_dim=16, chains=2, n_test=200, sweeps=40, burn_in=20, sparsities=[0.5])
    b.update(base)
    return {"study": "gibbs_learning", "seeds": list(range(6)), "base": b,
            "grid": {"alpha": [1.0, 4.0], "langevin_T": [0.0, 1.0]}}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    out = tmp_path_factory.mktemp("gl") / "r"
    run_spec(small_spec(), out, progress=False)
    return load_all(out)


def test_rows_carry_load_temperature_and_theory(table):
    dense = table[table.sparsity == 0]
    assert len(dense) == 6 * 4 and len(table) == 2 * len(dense)
    assert set(dense["temperature_knob"]) == {"langevin_T"}
    assert np.allclose(dense["load"], dense["alpha"]) and np.allclose(dense["temperature"], dense["langevin_T"])
    assert (dense["n_train"] == (dense["alpha"] * 16).round()).all()
    assert (dense["intrinsic_dim"] == 16).all() and (dense["ambient_dim"] == 16).all()
    assert set(table["manifold"]) == {"gaussian"}
    assert table["theory_test_error"].notna().all()
    assert (dense[dense.langevin_T == 0]["train_error"] == 0).all()


def test_in_domain_points_agree_with_theory_within_three_se(table):
    analysis = catalog.get("gibbs_learning").analysis_fields()
    analysis = {k: getattr(analysis, k) for k in ("z", "equilibrium_z", "finite_size_c", "finite_size_ratio",
                                                  "min_n_train")}
    points = point_table(table, analysis)
    a = agreement(points, analysis)
    assert a["in_domain"] >= 1
    assert a["agree"] == a["in_domain"], points[["alpha", "langevin_T", "sparsity", "deviation_se", "out_of_domain_reason"]]
    lines = summarize(table, analysis)
    assert any("agree within 3 SE" in line for line in lines)


@pytest.mark.parametrize("field, value, match", [
    ("alpha", 0.0, "alpha"), ("alpha", -1.0, "alpha"), ("langevin_T", -0.5, "langevin_T"),
    ("ambient_dim", 0, "ambient_dim"), ("chains", 3, "chains"), ("sparsities", [0.5, 0.2], "sparsities"),
])
def test_bad_input_is_refused_before_anything_runs(field, value, match):
    spec = small_spec()
    if field in spec["grid"]:
        spec["grid"][field] = [value]
    else:
        spec["base"][field] = value
    with pytest.raises(SpecError, match=match):
        plan(spec)


def test_presets_validate():
    for preset in catalog.presets("gibbs_learning"):
        assert plan(catalog.preset_spec("gibbs_learning", preset)).trials
