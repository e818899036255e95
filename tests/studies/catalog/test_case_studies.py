"""Case-study analyses on a synthetic three_regime table with a known answer."""
import numpy as np
import pandas as pd
import pytest

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


# -- reading a stored three_regime run ------------------------------------------------------------
TINY_SAM = {"study": "three_regime", "seeds": [0, 1, 2, 3],
            "base": {"ambient_dim": 12, "intrinsic_dim": 4, "hidden": 8, "n_train": 200, "n_test": 300, "epochs": 20,
                     "lr": 1.0, "batch_size": 50, "densities": [0.5, 0.2], "retrain_epochs": 2, "retrain_lr": 1.0,
                     "retrain_batch_size": 50, "temperature_knob": "sam_rho"},
            "grid": {"sam_rho": [0.0, 0.2]}}


def test_case_studies_read_a_three_regime_run_and_train_nothing(tmp_path, monkeypatch):
    from studies.report.summary import report_run
    from studies.results.store import Store
    from studies.sweep.runner import run_spec

    source = run_spec(TINY_SAM, tmp_path / "tr", progress=False)
    monkeypatch.setattr("studies.sweep.engines.run_group_safely", lambda *a: (_ for _ in ()).throw(
        AssertionError("the case studies trained something")))
    out = run_spec({"study": "case_studies", "source": str(source)}, tmp_path / "cs", progress=False)
    store = Store.open(out)
    try:
        assert store.trials() == [] and store.study()["spec"]["source"] == str(source.resolve())
    finally:
        store.close()
    made = report_run(out)
    text = (out / "summary.md").read_text()
    assert "Which way to move the temperature" in text and str(source.resolve()) in text
    assert made["figures"] and made["done"] == 0


def test_the_old_case_studies_form_and_a_missing_source_are_refused_before_anything_is_written(tmp_path):
    from studies.results.store import StoreError
    from studies.sweep.runner import run_spec
    from studies.sweep.spec import SpecError

    old = {**TINY_SAM, "study": "case_studies"}
    with pytest.raises(SpecError, match=r"plans none of its own, so seeds, base, grid cannot be set here: .*"
                                        r"study = \"three_regime\""):
        run_spec(old, tmp_path / "a", progress=False)
    with pytest.raises(StoreError, match="source: no results database"):
        run_spec({"study": "case_studies", "source": str(tmp_path / "nothing")}, tmp_path / "b", progress=False)
    with pytest.raises(SpecError, match="source: expected the results directory"):
        run_spec({"study": "case_studies"}, tmp_path / "c", progress=False)
    assert not any(tmp_path.iterdir())
