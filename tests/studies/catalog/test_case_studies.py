"""Case-study analyses on a synthetic three_regime table with a known answer, and on a stored run."""
import numpy as np
import pandas as pd
import pytest

from studies.catalog.case_studies.analysis import direction_calls, selections, summarize, tuning


def table(knob="lr"):
    """Two regimes by density: at 0.5 raising T helps and models are connected and similar (II-B); at
    0.05 raising T hurts and models are poorly connected (I). The dense models get better with T."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(5):
        for T in (0.1, 0.3, 1.0):
            rows.append({"seed": seed, "temperature": T, "density": 1.0, "sparsity": 0.0, "test_error": 0.1,
                         "mode_connectivity": 0.0, "cka_output": 1.0, "cka": 1.0, "dead": 0, "converged": True,
                         "dense_test_error": 0.1 - 0.01 * np.log10(T), "temperature_knob": knob, "regime": "-"})
            for density, slope, mc, regime in ((0.5, -0.05, -1e-3, "II-B"), (0.05, 0.05, -0.2, "I")):
                rows.append({**rows[-1], "density": density, "sparsity": 1 - density, "regime": regime,
                             "test_error": 0.2 + slope * np.log10(T) + 0.001 * rng.standard_normal(),
                             "mode_connectivity": mc * (1 + 0.01 * rng.random()) - 0.05 * np.log10(T) * (density < 0.1)})
    return pd.DataFrame(rows)


ANALYSIS = {"barrier_threshold": None, "cka_threshold": None, "n_bootstrap": 200, "confidence": 0.9}


def test_the_direction_rule_is_learned_per_regime_and_scored_on_held_out_seeds():
    d = direction_calls(table(), ANALYSIS)
    assert d["rule"] == {"I": "lower", "II-B": "raise"}
    assert d["accuracy"] == 1.0 and d["baseline"] == 0.5  # a regime-blind rule is right on half of the moves
    assert len(d["per_seed"]) == 5 and d["n_moves"] == 5 * 2 * 2
    # thresholds set here reclassify the rows: with a barrier threshold above every barrier all is II-B
    flat = direction_calls(table(), {**ANALYSIS, "barrier_threshold": 1.0})
    assert set(flat["rule"]) == {"II-B"} and flat["accuracy"] == pytest.approx(0.5)


def test_selection_regret_is_zero_for_the_oracle_and_measured_for_the_rules():
    sel = selections(table())
    assert len(sel) == 10
    assert (sel["regret_regime"] >= 0).all() and (sel["regret_dense"] >= 0).all()
    # the dense-accuracy rule always picks the hottest model, which is the worst at density 0.05; the
    # best-connected model there is the coldest (its barrier is smallest), which is also the best
    low = sel[sel.density == 0.05]
    assert (low["dense_temperature"] == 1.0).all() and (low["regret_dense"] > 0.03).all()
    assert (low["regime_temperature"] == 0.1).all() and (low["regret_regime"] == 0).all()


def test_tuning_for_a_target_density_is_scored_on_held_out_seeds():
    tun = tuning(table())
    assert len(tun) == 10
    low, high = tun[tun.density == 0.05], tun[tun.density == 0.5]
    assert (low["tuned_temperature"] == 0.1).all() and (high["tuned_temperature"] == 1.0).all()
    assert (high["default_error"] - high["tuned_error"] > 0.03).all()  # the default is the coldest: 0.1
    assert (low["dense_best_error"] - low["tuned_error"] > 0.03).all()  # the dense-best is the hottest
    text = "\n".join(summarize(table(), ANALYSIS))
    assert "Leave one seed out" in text and "gain over the default" in text


# -- reading a stored three_regime run ------------------------------------------------------------
TINY_SAM = {"study": "three_regime", "seeds": [0, 1, 2],
            "base": {"ambient_dim": 12, "intrinsic_dim": 4, "hidden": 8, "n_train": 120, "n_test": 200, "epochs": 6,
                     "batch_size": 40, "densities": [0.5, 0.2], "retrain_batch_size": 40,
                     "teacher_options": {"n_hidden": 2}, "temperature_knob": "sam_rho"},
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
