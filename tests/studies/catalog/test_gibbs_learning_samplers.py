"""gibbs_learning with the HMC sampler, Ising weights and retraining of the pruned samples: HMC runs agree
with the replica theory, the pruned and retrained rows agree with theory.pruned_gibbs at two sizes (the
deviation shrinking with N), the Ising chains sit on the branches of theory.ising, and old spec files
still validate and keep their trial names."""
import numpy as np
import pytest

from studies import catalog
from studies.catalog.gibbs_learning import run as gl_run
from studies.catalog.gibbs_learning.analysis import agreement, point_table, summarize
from studies.catalog.gibbs_learning.figures import diagram_figure
from studies.catalog.gibbs_learning.fields import GibbsLearningTrial
from studies.report.summary import report_run
from studies.results.table import load_all
from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError, trial_name
from theory import ising as ising_theory
from theory import pruned_gibbs

NEW_FIELDS = ("weights", "sampler", "retrain", "retrain_samples", "retrain_reg", "retrain_T", "retrain_sweeps")


def analysis_defaults() -> dict:
    a = catalog.get("gibbs_learning").analysis_fields()
    return {k: getattr(a, k) for k in a.__dataclass_fields__}


def test_hmc_run_agrees_with_the_replica_theory(tmp_path):
    spec = {"study": "gibbs_learning", "seeds": list(range(12)),
            "base": {"ambient_dim": 32, "sampler": "hmc", "chains": 2, "sweeps": 16, "burn_in": 8, "n_test": 500},
            "grid": {"alpha": [1.0, 3.0], "langevin_T": [0.0, 1.0]}}
    run_spec(spec, tmp_path / "hmc", progress=False)
    table = load_all(tmp_path / "hmc")
    assert set(table["sampler"]) == {"hmc"} and len(table) == 12 * 4
    points = point_table(table, analysis_defaults())
    a = agreement(points, analysis_defaults())
    assert a["in_domain"] >= 2 and a["agree"] == a["in_domain"], points[["alpha", "langevin_T", "deviation_se"]]
    assert a["agree_all"] == a["points"]
    # the chains mixed: teacher-started and other chains agree within their SE at every point
    assert (table["start_difference"].abs() <= 4 * table["start_difference_se"] + 1e-12).mean() > 0.9


def test_old_spec_files_validate_and_keep_their_trial_names():
    old = {"study": "gibbs_learning", "seeds": [0, 1],
           "base": {"ambient_dim": 24, "chains": 2, "n_test": 2000, "sparsities": [0.5, 0.8]},
           "grid": {"alpha": [0.5, 1.0]}, "zip": {"langevin_T": [0.0, 0.5], "sweeps": [150, 60], "burn_in": [100, 30]}}
    p = plan(old)
    for name, t in p.trials:
        assert (t["sampler"], t["weights"], t["retrain"]) == ("line", "spherical", "none")
        # the name of a trial of an old spec is the hash of the fields it had: the new ones are at their defaults
        assert trial_name("gibbs_learning", {k: v for k, v in t.items() if k not in NEW_FIELDS},
                          GibbsLearningTrial) == name
    hmc = plan({**old, "base": {**old["base"], "sampler": "hmc"}})
    assert not {n for n, _ in hmc.trials} & {n for n, _ in p.trials}


def test_zero_temperature_trials_batch_apart_only_for_the_line_sampler():
    t = {k: v for k, v in plan({"study": "gibbs_learning", "seeds": [0]}).trials[0][1].items()}
    key = lambda **kw: gl_run.group_key({**t, **kw})  # noqa: E731
    assert key(sampler="line", langevin_T=0.0) != key(sampler="line", langevin_T=1.0)
    assert key(sampler="hmc", langevin_T=0.0) == key(sampler="hmc", langevin_T=1.0)
    assert key(sampler="hmc", alpha=1.0) != key(sampler="hmc", alpha=2.0)
    assert key(weights="ising", alpha=1.0) == key(weights="ising", alpha=2.0)  # padded into one batch


def _pruned_spec(N):
    return {"study": "gibbs_learning", "seeds": list(range(24)),
            "base": {"ambient_dim": N, "alpha": 2.0, "langevin_T": 0.5, "sampler": "hmc", "chains": 2, "sweeps": 16,
                     "burn_in": 8, "n_test": 0, "sparsities": [0.5], "retrain": "ridge+gibbs", "retrain_reg": 0.0,
                     "retrain_T": 0.5, "retrain_samples": 2, "retrain_sweeps": 12}}


def test_pruned_and_retrained_rows_agree_with_pruned_gibbs_at_two_sizes(tmp_path):
    theory = {"one_shot": pruned_gibbs.pruned_error(2.0, 0.5, 0.5),
              "ridge": pruned_gibbs.retrained_error(2.0, 0.5, 0.5, "ridge", reg=0.0),
              "gibbs": pruned_gibbs.retrained_error(2.0, 0.5, 0.5, "gibbs", retrain_temperature=0.5)}
    rel = {}
    for N in (24, 48):
        run_spec(_pruned_spec(N), tmp_path / f"N{N}", progress=False)
        table = load_all(tmp_path / f"N{N}")
        pruned = table[table["sparsity"] == 0.5]
        assert len(pruned) == 24 and np.allclose(pruned["density"], 0.5)
        rel[N] = 0.0
        for rule, col in (("one_shot", "test_error"), ("ridge", "test_error_ridge"), ("gibbs", "test_error_gibbs")):
            th_col = "theory_test_error" if rule == "one_shot" else f"theory_{col}"
            assert np.allclose(pruned[th_col], theory[rule])
            e = pruned[col].to_numpy()
            se = e.std(ddof=1) / np.sqrt(len(e))
            assert abs(e.mean() - theory[rule]) <= 3 * se + 0.25 / N, (N, rule, e.mean(), theory[rule], se)
            rel[N] += abs(e.mean() - theory[rule]) + se
        # retraining on the kept support with the same examples recovers much of what pruning lost (theory:
        # 0.298 -> 0.260 for least squares)
        assert pruned["test_error_ridge"].mean() < pruned["test_error"].mean() - 0.02
    assert rel[48] < rel[24], rel


def test_ising_chains_follow_the_branches_of_the_theory_and_the_report_draws_the_jump(tmp_path):
    spec = {"study": "gibbs_learning", "seeds": list(range(4)),
            "base": {"weights": "ising", "ambient_dim": 16, "langevin_T": 0.5, "chains": 4, "sweeps": 300,
                     "burn_in": 50, "n_test": 200},
            "grid": {"alpha": [0.5, 3.0]}}
    out = tmp_path / "ising"
    run_spec(spec, out, progress=False)
    table = load_all(out)
    assert set(table["weights"]) == {"ising"} and len(table) == 8
    low, high = table[table["alpha"] == 0.5], table[table["alpha"] == 3.0]
    assert np.allclose(low["theory_test_error"], ising_theory.gibbs_error(0.5, 0.5))
    assert np.allclose(low["theory_test_error_poor"], low["theory_test_error"])  # below alpha_c: the poor branch
    assert high["theory_test_error"].eq(0).all() and high["theory_test_error_poor"].isna().all()  # past the spinodal
    e = low["test_error"].to_numpy()
    assert abs(e.mean() - ising_theory.gibbs_error(0.5, 0.5)) <= 3 * e.std(ddof=1) / 2 + 0.25 / 16
    # above the spinodal the teacher-started chains hold R = 1 (within two flips) and low loads never get there
    assert (high["perfect_fraction_teacher_start"] > 0.9).all() and (low["perfect_fraction_teacher_start"] < 0.1).all()
    assert np.allclose(table["theory_transition_load"], ising_theory.transition_load(0.5))
    made = report_run(out)
    assert {p.name for p in made["figures"]} == {"ising_transition.pdf", "ising_transition.png"}
    assert "Ising points in the domain agree" in (out / "summary.md").read_text()


def test_the_summary_states_the_diagram_prediction(tmp_path):
    spec = {"study": "gibbs_learning", "seeds": [0, 1],
            "base": {"ambient_dim": 12, "alpha": 2.0, "langevin_T": 0.5, "sampler": "hmc", "sweeps": 4, "burn_in": 2,
                     "n_test": 0, "sparsities": [0.5], "retrain": "ridge"},
            "analysis": {"diagram_points": 3}}
    run_spec(spec, tmp_path / "d", progress=False)
    analysis = {**analysis_defaults(), "diagram_points": 3}
    text = "\n".join(summarize(load_all(tmp_path / "d"), analysis))
    assert "raises the error of the pruned student at every density" in text and "0 hotter-helps" in text
    assert "pruned_gibbs_diagram.png" in {p.name for p in diagram_figure(analysis, tmp_path / "fig")}


@pytest.mark.parametrize("base, match", [
    ({"weights": "ising", "sparsities": [0.5]}, "sparsities must be empty"),
    ({"retrain": "ridge"}, "give sparsities"),
    ({"retrain": "gibbs", "sparsities": [0.5], "retrain_T": 0.0}, "retrain_T"),
    ({"sampler": "langevin"}, "choose one of"),
    ({"weights": "binary"}, "choose one of"),
    ({"retrain": "ridge", "sparsities": [0.5], "retrain_samples": 500}, "retrain_samples must be <= sweeps"),
])
def test_bad_combinations_are_refused_before_anything_runs(base, match):
    with pytest.raises(SpecError, match=match):
        plan({"study": "gibbs_learning", "seeds": [0], "base": base})
