"""hidden_manifold_learning: ridge simulation against the Gaussian-covariate theory, one row per
trial and sparsity, and bad specs refused before anything runs."""
import numpy as np
import pytest

from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError
from studies.results.table import load_all
from studies.report.summary import report_run
from studies.catalog.hidden_manifold_learning.analysis import learning_curve_table
from theory import logistic as theory_logistic

LADDER = [0.5, 0.8]


def ridge_spec(D, seeds, **extra):
    base = {"ambient_dim": D, "intrinsic_dim": D // 2, "n_train": 2 * D, "n_test": 1500, "reg": 0.05 * D,
            "activation": "tanh", "sparsities": LADDER, **extra}
    return {"study": "hidden_manifold_learning", "seeds": list(range(seeds)), "base": base,
            "analysis": {"n_bootstrap": 50}}


def test_ridge_agrees_with_theory_and_deviation_shrinks_with_size(tmp_path):
    rel = {}
    for D in (40, 160):
        out = tmp_path / f"D{D}"
        run_spec(ridge_spec(D, seeds=12), out, progress=False)
        df = load_all(out)
        assert len(df) == 12 * (1 + len(LADDER)) and not df.duplicated(["trial", "sparsity"]).any()
        dense = df[df["sparsity"] == 0]
        e = dense["test_error"].to_numpy()
        theory = dense["theory_test_error"].iloc[0]
        se = e.std(ddof=1) / np.sqrt(len(e))
        assert abs(e.mean() - theory) < 4 * se, (D, e.mean(), theory, se)
        rel[D] = abs(e.mean() - theory) / theory + se / theory  # deviation plus its own noise level
        assert df.loc[df["sparsity"] > 0, "theory_test_error"].isna().all()
        assert set(df["manifold"]) == {"hidden"} and set(df["temperature_knob"]) == {"langevin_T"}
        assert np.allclose(dense["load"], 2.0) and np.allclose(dense["load_per_dim"], 4.0)
    assert rel[160] < rel[40], rel


def logistic_spec(D, seeds, **extra):
    base = {"ambient_dim": D, "intrinsic_dim": D // 2, "n_train": 2 * D, "n_test": 2000, "reg": 0.05 * D,
            "activation": "tanh", "loss": "logistic", "teacher": "sign", "solver": "newton", "sparsities": LADDER,
            **extra}
    return {"study": "hidden_manifold_learning", "seeds": list(range(seeds)), "base": base,
            "analysis": {"n_bootstrap": 50}}


def test_logistic_minimiser_agrees_with_theory_and_deviation_shrinks_with_size(tmp_path):
    # theory.logistic.hidden_manifold_test_error with lam = reg / D (the study's penalty reg/2 |beta|^2 is
    # lam/2 |w|^2 in the ensemble's w = sqrt(D) beta): lam = 0.05 here
    rel = {}
    for D in (40, 160):
        out = tmp_path / f"D{D}"
        run_spec(logistic_spec(D, seeds=12), out, progress=False)
        df = load_all(out)
        dense = df[df["sparsity"] == 0]
        assert dense["converged"].all()
        e = dense["test_error"].to_numpy()
        theory = theory_logistic.hidden_manifold_test_error(2 * D, D // 2, D, "tanh", reg=0.05)
        assert np.allclose(dense["theory_test_error"], theory)
        se = e.std(ddof=1) / np.sqrt(len(e))
        assert abs(e.mean() - theory) < 4 * se, (D, e.mean(), theory, se)
        rel[D] = abs(e.mean() - theory) + se
        assert df.loc[df["sparsity"] > 0, "theory_test_error"].isna().all()
    assert rel[160] < rel[40], rel


def test_gradient_descent_at_small_reg_is_flagged_unconverged_and_set_apart(tmp_path):
    spec = logistic_spec(30, seeds=3, solver="gd", epochs=60, retrain_epochs=10, reg=0.1)
    out = tmp_path / "gd"
    run_spec(spec, out, progress=False)
    df = load_all(out)
    assert not df["converged"].any()
    lc = learning_curve_table(df)
    assert lc["deviation_se"].isna().all() and (lc["n_converged"] == 0).all()
    made = report_run(out)
    assert "unconverged seeds" in (out / "summary.md").read_text()
    assert made["figures"]


def test_logistic_rows_summary_and_figures(tmp_path):
    spec = ridge_spec(30, seeds=2, n_train=60)
    spec["zip"] = {"loss": ["ridge", "logistic"], "teacher": ["linear", "sign"]}
    spec["base"].update(epochs=30, retrain_epochs=10)
    out = tmp_path / "mix"
    run_spec(spec, out, progress=False)
    df = load_all(out)
    assert len(df) == 2 * 2 * (1 + len(LADDER)) and not df.duplicated(["trial", "sparsity"]).any()
    logi = df[df["loss"] == "logistic"]
    assert logi["theory_test_error"].notna().sum() == 2 and logi["test_error"].between(0, 1).all()
    assert logi.loc[logi["sparsity"] == 0, "theory_test_error"].notna().all()
    assert set(logi["temperature_knob"]) == {"lr"}
    # ridge refit with the mask fixed is never worse on the training set than the one-shot pruned student
    ridge = df[(df["loss"] == "ridge") & (df["sparsity"] > 0)]
    assert (ridge["train_error"] <= ridge["train_error_one_shot"] + 1e-9).all()
    made = report_run(out)
    text = (out / "summary.md").read_text()
    assert "Learning curves" in text and "Prunability of the learned students" in text
    assert {p.name for p in made["figures"]} >= {"learning_curves.png", "error_vs_density.png"}


@pytest.mark.parametrize("change, message", [
    ({"activation": "softplus"}, "choose one of"),
    ({"reg": -0.1}, "reg must be >= 0"),
    ({"intrinsic_dim": 50, "ambient_dim": 40}, "intrinsic_dim must be <= ambient_dim"),
    ({"loss": "logistic", "teacher": "linear"}, "set teacher = 'sign'"),
    ({"loss": "logistic", "teacher": "sign", "solver": "newton", "reg": 0.0}, "reg must be > 0"),
    ({"solver": "lbfgs"}, "choose one of"),
    ({"sparsities": [0.5, 0.3]}, "sparsities must be"),
])
def test_bad_specs_are_refused_before_running(change, message):
    spec = ridge_spec(40, seeds=2)
    spec["base"].update(change)
    with pytest.raises(SpecError) as e:
        plan(spec)
    assert message in str(e.value)
