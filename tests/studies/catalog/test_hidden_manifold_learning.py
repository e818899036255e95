"""hidden_manifold_learning: ridge simulation against the Gaussian-covariate theory, one row per
trial and sparsity, and bad specs refused before anything runs."""
import numpy as np
import pytest

from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError
from studies.results.table import load_all
from studies.report.summary import report_run

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


def test_logistic_rows_summary_and_figures(tmp_path):
    spec = ridge_spec(30, seeds=2, n_train=60)
    spec["zip"] = {"loss": ["ridge", "logistic"], "teacher": ["linear", "sign"]}
    spec["base"].update(epochs=30, retrain_epochs=10)
    out = tmp_path / "mix"
    run_spec(spec, out, progress=False)
    df = load_all(out)
    assert len(df) == 2 * 2 * (1 + len(LADDER)) and not df.duplicated(["trial", "sparsity"]).any()
    logi = df[df["loss"] == "logistic"]
    assert logi["theory_test_error"].isna().all() and logi["test_error"].between(0, 1).all()
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
    ({"sparsities": [0.5, 0.3]}, "sparsities must be"),
])
def test_bad_specs_are_refused_before_running(change, message):
    spec = ridge_spec(40, seeds=2)
    spec["base"].update(change)
    with pytest.raises(SpecError) as e:
        plan(spec)
    assert message in str(e.value)
