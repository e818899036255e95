"""The intrinsic_dimension study: IMP with rewinding and its baselines from a spec that sets only the task,
the recipes and the names they keep, convergence flags, the prunability table and its export, re-reporting
a changed [analysis] without training, real data (the digits), deeper MLPs, and refused specs."""
import io

import numpy as np
import pandas as pd
import pytest

from studies.cli.main import main
from studies.report.summary import report_run
from studies.results.store import Store
from studies.results.table import derived_table, load_all
from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError
from studies.catalog.intrinsic_dimension import analysis, fields, run

COLUMNS = {"intrinsic_dim", "pruning", "tolerance", "tolerance_kind", "prunability", "ci_low", "ci_high", "ceiling",
           "converged", "dense_train_error", "in_domain", "theory_reason", "prunable_layers"}


def imp_spec(**base):
    """Only the task and pruning = 'imp' (the recipe fills the rest), at a size that runs in seconds."""
    b = dict(manifold="linear", ambient_dim=16, student="mlp", hidden=16, pruning="imp", n_train=200, n_test=400,
             imp_fraction=0.6, dimension_method="none")
    b.update(base)
    return {"study": "intrinsic_dimension", "seeds": [0, 1], "base": b, "grid": {"intrinsic_dim": [2, 4]},
            "analysis": {"n_bootstrap": 50, "tolerances": [0.02], "relative_tolerances": [0.5]}}


@pytest.fixture(scope="module")
def imp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("imp") / "r"
    run_spec(imp_spec(epochs=60), out, progress=False)  # the recipe's 300 epochs (600 steps), shortened
    return out


def test_imp_gets_the_converged_recipe_and_its_ladder_reaches_the_target():
    (_, t), *_ = plan(imp_spec()).trials
    r = fields.recipe(t)
    assert r["recipe"] == "converged" and r["momentum"] == 0.9 and r["schedule"] == "cosine"
    assert r["standardize"] == "global" and r["batch_size"] == 100 and r["max_train_error"] == 0.01
    assert r["epochs"] == 300  # at least 600 steps of batches of 100 from 200 examples
    assert fields.recipe({**t, "n_train": 4000})["epochs"] == 30
    ladder = fields.imp_ladder(t)
    assert ladder[-1] >= 0.997 > ladder[-2]
    assert ladder == pytest.approx([1 - 0.4 ** k for k in range(1, len(ladder) + 1)])
    one_shot = fields.recipe({**t, "pruning": "one_shot"})
    assert (one_shot["recipe"], one_shot["lr"], one_shot["epochs"], one_shot["momentum"]) == ("plain", 2.0, 300, 0.0)


def test_imp_rows_reach_the_ladder_with_baselines_and_converged_dense_members(imp_run):
    df = load_all(imp_run)
    assert df["sparsity"].max() >= 0.99
    dense = df[df["sparsity"] == 0]
    assert ((dense["dense_train_error"] <= 0.01) | ~dense["converged"].astype(bool)).all()
    assert dense["converged"].astype(bool).any()
    for col in ("test_error", "test_error_reinit", "test_error_random", "converged_reinit", "sparsity_reached_random"):
        assert df[col].notna().all(), col
    # every round keeps the nested IMP masks: the reached sparsity follows the ladder
    pruned = df[df["sparsity"] > 0]
    assert np.allclose(pruned["sparsity_reached"], pruned["sparsity"], atol=1 / 256)
    assert set(df["prunable_layers"]) == {"w0"} and set(df["momentum"]) == {0.9}
    # the dense reference of every curve is the dense run itself
    np.testing.assert_allclose(dense["test_error"], dense["dense_test_error"])
    np.testing.assert_allclose(dense["test_error_reinit"], dense["dense_test_error"])


def test_export_of_the_prunability_table_has_one_row_per_condition_curve_and_tolerance(imp_run, capsys):
    assert main(["export", str(imp_run), "--table", "prunability", "--format", "csv"]) == 0
    pt = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert COLUMNS <= set(pt.columns)
    assert set(pt["pruning"]) == {"imp", "imp_reinit", "imp_random"}
    assert set(zip(pt["tolerance"], pt["tolerance_kind"])) == {(0.005, "absolute"), (0.02, "absolute"),
                                                                (0.5, "relative")}
    assert len(pt) == 2 * 3 * 3  # d x curves x tolerances
    assert ((pt["ci_low"] <= pt["prunability"] + 1e-12) & (pt["prunability"] <= pt["ci_high"] + 1e-12)).all()
    assert pt["prunability"].between(0, 1).all()
    # a looser tolerance never prunes less; a ceiling is the ladder's end
    for _, g in pt[pt["tolerance_kind"] == "absolute"].groupby(["intrinsic_dim", "pruning"]):
        g = g.sort_values("tolerance")
        assert (np.diff(g["prunability"]) >= -1e-12).all()
    cap = pt[pt["ceiling"]]
    assert np.allclose(cap["prunability"], cap["ladder_end"])
    assert main(["export", str(imp_run), "--table", "prunability", "--format", "parquet",
                 "--output", str(imp_run.parent / "p.parquet")]) == 0
    assert len(pd.read_parquet(imp_run.parent / "p.parquet")) == len(pt)


def test_a_changed_analysis_resumes_retrains_nothing_and_reports_the_new_tolerances(imp_run, tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(imp_run, copy)
    before = load_all(copy)
    monkeypatch.setattr("studies.sweep.engines.run_group_safely", lambda *a: pytest.fail("trained again"))
    spec = imp_spec(epochs=60)
    spec["analysis"] = {"n_bootstrap": 50, "tolerance": 0.01, "tolerances": [0.03, 0.1], "relative_tolerances": []}
    run_spec(spec, copy, resume=True, progress=False)
    pd.testing.assert_frame_equal(before, load_all(copy))
    stored = Store.existing(copy)["spec"]["analysis"]
    assert stored["tolerances"] == [0.03, 0.1]
    assert "tolerance 0.01 absolute" in analysis.summarize(load_all(copy), stored)[0]
    pt, problems = derived_table(copy, "prunability")
    assert not problems and set(pt["tolerance"]) == {0.01, 0.03, 0.1} and set(pt["tolerance_kind"]) == {"absolute"}


def test_the_summary_states_a_verdict_with_intervals(imp_run):
    made = report_run(imp_run)
    text = "\n".join(made["summary"])
    assert "Verdict" in text and "slope" in text and "IMP (rewinding)" in text
    assert any(word in text for word in ("**falls**", "**rises**", "**no clear trend**"))


def test_unconverged_conditions_are_set_apart(tmp_path):
    spec = imp_spec(epochs=1, imp_rounds=2, imp_baselines=[], rewind_epoch=0)
    spec["grid"] = {"intrinsic_dim": [4]}
    spec["seeds"] = [0]
    run_spec(spec, tmp_path / "r", progress=False)
    df = load_all(tmp_path / "r")
    assert not df["converged"].astype(bool).any()
    text = "\n".join(analysis.summarize(df, {"tolerance": 0.005, "n_bootstrap": 20, "confidence": 0.9}))
    assert "Unconverged (set apart" in text and "no family of converged conditions" in text


def test_the_plain_recipe_keeps_the_trial_names_of_the_first_protocol(make_spec):
    names = [n for n, _ in plan(make_spec()).trials]
    assert names == ["e3fde0796daa10ba", "dd59fa2210de49ca", "339f5b66daf530bf", "63e6264ea88033e8"]


def test_digits_with_a_linear_student_and_two_tolerances(tmp_path):
    spec = {"study": "intrinsic_dimension", "seeds": [0, 1],
            "base": {"manifold": "digits", "student": "linear", "loss": "mse", "lr": 8.0, "epochs": 60,
                     "retrain_epochs": 40, "n_train": 500, "n_test": 500, "sparsities": [0.5, 0.8, 0.95],
                     "dimension_method": "mle", "dimension_options": {"n_neighbors": 10}},
            "analysis": {"n_bootstrap": 50, "tolerances": [0.02]}}
    run_spec(spec, tmp_path / "r", progress=False)
    df = load_all(tmp_path / "r")
    assert set(df["ambient_dim"]) == {64} and df["estimated_dim"].between(3, 20).all()
    assert df["dense_test_error"].between(0.03, 0.25).all() and df["converged"].astype(bool).all()
    pt, _ = derived_table(tmp_path / "r", "prunability")
    assert pt["real_data"].all() and pt["intrinsic_dim"].isna().all()
    np.testing.assert_allclose(pt["dimension"], pt["estimated_dim"])
    assert set(pt["tolerance"]) == {0.005, 0.02}
    assert "no linear-subspace theory" in pt["theory_reason"].iloc[0]
    report_run(tmp_path / "r")  # real data have no intrinsic_dim (NaN): the summary is still written
    assert "| digits | - |" in (tmp_path / "r" / "summary.md").read_text()


def test_a_list_of_widths_builds_a_deeper_mlp_and_every_hidden_layer_is_prunable(tmp_path):
    spec = imp_spec(hidden=[8, 8], pruning="one_shot", sparsities=[0.5, 0.9], epochs=5, retrain_epochs=3)
    spec["seeds"], spec["grid"] = [0], {"intrinsic_dim": [2]}
    run_spec(spec, tmp_path / "r", progress=False)
    df = load_all(tmp_path / "r")
    assert set(df["prunable_layers"]) == {"w0,w1"} and set(df["prunable_weights"]) == {8 * 16 + 8 * 8}
    assert df["first_layer_overlap"].between(0, 1).all()


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b.update(imp_baselines=["reinit", "lottery"]), "imp_baselines"),
    (lambda b: b.update(dimension_method="mle", dimension_options={"k": 3}), "dimension_options: unknown option"),
    (lambda b: b.update(rewind_epoch=500), "rewind_epoch must be <= epochs"),
    (lambda b: b.update(manifold="digits", n_train=1500, n_test=500), "exceeds the 1797 points"),
    (lambda b: b.update(manifold="digits", ambient_dim=32), "ambient_dim comes from the data"),
    (lambda b: b.update(hidden=[8, 0]), "hidden: 0 is out of range"),
    (lambda b: b.update(standardize="whiten"), "standardize: 'whiten' is not allowed"),
])
def test_bad_specs_are_refused_before_anything_runs(mutate, message):
    spec = imp_spec()
    mutate(spec["base"])
    with pytest.raises(SpecError, match=message):
        plan(spec)


def test_standardisation_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X, Xte = rng.normal(2, 3, (200, 5)), rng.normal(2, 3, (100, 5))
    g, gte = run.standardized(X, Xte, "global")
    assert np.mean(g * g) == pytest.approx(1.0) and np.allclose(gte / Xte, g[0, 0] / X[0, 0])
    c, cte = run.standardized(X, Xte, "coordinate")
    np.testing.assert_allclose(c.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(c.std(0), 1)
    np.testing.assert_allclose(cte, (Xte - X.mean(0)) / X.std(0))


def test_the_prunability_of_a_known_table_with_absolute_and_relative_tolerances():
    rows = []
    for seed in range(3):
        for s, e in ((0.0, 0.10), (0.5, 0.10), (0.9, 0.14), (0.99, 0.30)):
            rows.append({"seed": seed, "trial": f"t{seed}", "manifold": "linear", "intrinsic_dim": 4, "ambient_dim": 64,
                         "student": "linear", "pruning": "random", "sparsity": s, "test_error": e,
                         "dense_test_error": 0.10, "dense_train_error": 0.0, "converged": True, "dead": False,
                         "diverged": False, "converged_": True})
    table = pd.DataFrame(rows)
    pt = analysis.prunability_table(table, {"tolerance": 0.02, "tolerances": [0.5], "relative_tolerances": [0.2],
                                            "n_bootstrap": 20, "confidence": 0.9})
    got = {(r.tolerance, r.tolerance_kind): (r.prunability, r.ceiling) for r in pt.itertuples()}
    assert got[(0.02, "absolute")][0] == pytest.approx(0.5 + 0.4 * 0.02 / 0.04)
    assert got[(0.2, "relative")][0] == pytest.approx(0.5 + 0.4 * 0.02 / 0.04)  # 0.2 x 0.10 = 0.02
    assert got[(0.5, "absolute")] == (0.99, True)


@pytest.mark.parametrize("with_labels", [True, False])
def test_a_user_array_runs_with_its_labels_or_a_teacher_on_its_points(tmp_path, with_labels):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3)) @ rng.standard_normal((3, 12))  # a 3-dim subspace of R^12
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", (X[:, 0] > 0).astype(int))
    options = {"path": str(tmp_path / "x.npy"), **({"labels": str(tmp_path / "y.npy")} if with_labels else {})}
    spec = {"study": "intrinsic_dimension", "seeds": [0],
            "base": {"manifold": "file", "manifold_options": options, "student": "linear", "loss": "mse",
                     "recipe": "converged", "epochs": 100, "n_train": 250, "n_test": 150,
                     "sparsities": [0.5, 0.8], "dimension_method": "lpca"}}
    run_spec(spec, tmp_path / "r", progress=False)
    df = load_all(tmp_path / "r")
    assert set(df["ambient_dim"]) == {12} and df["estimated_dim"].iloc[0] == pytest.approx(3, abs=0.5)
    assert df["dense_test_error"].iloc[0] < 0.15
