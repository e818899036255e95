"""A tiny three_regime sweep: one row per trial and density, metrics in range, summary states the effect."""
import numpy as np
import pytest

from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError
from studies.results.table import load_all
from studies.report.summary import report_run

TINY = {"study": "three_regime", "seeds": [0, 1],
        "base": {"ambient_dim": 12, "intrinsic_dim": 4, "hidden": 8, "n_train": 200, "n_test": 300, "epochs": 20,
                 "batch_size": 50, "densities": [0.5, 0.2], "retrain_epochs": 3, "retrain_lr": 0.5,
                 "retrain_batch_size": 50},
        "grid": {"lr": [0.5, 1.0]}}


def test_tiny_sweep_runs_reports_and_states_the_effect(tmp_path):
    out = tmp_path / "tr"
    run_spec(TINY, out, progress=False)
    df = load_all(out)
    assert len(df) == 4 * 3 and not df.duplicated(["trial", "sparsity"]).any()
    assert set(df["temperature"]) == {0.5, 1.0} and set(df["temperature_knob"]) == {"lr"}
    pruned = df[df.sparsity > 0]
    assert (pruned["lmc_barrier"].dropna() >= 0).all()
    assert pruned["cka"].dropna().between(0, 1 + 1e-9).all()
    assert np.allclose(sorted(df["density"].unique()), [0.2, 0.5, 1.0])
    made = report_run(out)
    text = (out / "summary.md").read_text()
    assert "temperature effect" in text and ("flips sign" in text or "does not flip" in text)
    assert any(p.name == "phase_diagram.png" for p in made["figures"])


@pytest.mark.parametrize("change, message", [
    ({"retrain_seeds": 1}, "retrain_seeds must be >= 2"),
    ({"densities": [0.5, 1.0]}, "densities must be distinct values in (0, 1)"),
    ({"lmc_points": 5}, "lmc_points must be >= 11"),
    ({"temperature_knob": "heat"}, "choose one of"),
])
def test_bad_three_regime_specs(change, message):
    spec = {**TINY, "base": {**TINY["base"], **change}}
    with pytest.raises(SpecError) as e:
        plan(spec)
    assert message in str(e.value)
