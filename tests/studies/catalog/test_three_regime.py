"""Tiny three_regime runs: the table's columns, the protocol (checkpoints of one dense run, the batch-size
knob at fixed iterations, momentum and step decay in both trainings, layer-wise pruning), failed members,
the summary and the spec checks."""
import numpy as np
import pytest

import models
from studies.catalog.three_regime import run as tr_run
from studies.report.summary import report_run
from studies.results.table import load_all
from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.sweep.spec import SpecError


BASE = {"ambient_dim": 12, "intrinsic_dim": 4, "hidden": 8, "n_train": 120, "n_test": 200, "epochs": 8,
        "batch_size": 40, "retrain_batch_size": 40, "densities": [0.5, 0.2], "teacher_options": {"n_hidden": 2}}
TINY = {"study": "three_regime", "seeds": [0, 1], "base": BASE, "grid": {"lr": [0.5, 1.0]}}


def group_of(spec):
    p = plan(spec)
    assert len(p.groups) == len(spec["seeds"])  # one group per dense seed (they spread over workers)
    return p.groups[0]


@pytest.fixture
def calls(monkeypatch):
    """Every models.train call of a run: its config, its report."""
    seen = []
    real = models.train

    def spy(ens, X, y, cfg, **kw):
        report = real(ens, X, y, cfg, **kw)
        seen.append((ens.n_members, cfg, report))
        return report

    monkeypatch.setattr(tr_run.models, "train", spy)
    return seen


def test_tiny_sweep_runs_reports_and_has_the_columns(tmp_path):
    out = tmp_path / "tr"
    run_spec(TINY, out, progress=False)
    df = load_all(out)
    assert len(df) == 4 * 3 and not df.duplicated(["trial", "sparsity"]).any()
    for col in ("mode_connectivity", "lmc_barrier", "cka_output", "cka", "regime", "converged", "dense_train_loss",
                "dense_train_error", "dense_converged", "temperature"):
        assert col in df, col
    pruned = df[df.sparsity > 0]
    assert (pruned["lmc_barrier"].dropna() >= 0).all()
    assert pruned["mode_connectivity"].between(-1, 1).all()
    assert pruned[["cka", "cka_output"]].stack().between(0, 1 + 1e-9).all()
    assert set(pruned["regime"]) <= {"I", "II-A", "II-B"} and set(df.loc[df.sparsity == 0, "regime"]) == {"-"}
    assert np.allclose(sorted(df["density"].unique()), [0.2, 0.5, 1.0])
    made = report_run(out)
    text = (out / "summary.md").read_text()
    assert "Temperature effect" in text and ("flips sign" in text or "does not flip" in text)
    assert "Sensitivity of the regimes" in text and "cold end" in text
    assert "| unpruned (control, retrained) |" in text
    assert any(p.name == "phase_diagram.png" for p in made["figures"])
    from studies import catalog
    base = catalog.get("three_regime").tables["baseline_effect"](df, {})
    assert list(base["baseline"]) == ["dense", "control"] and (base["n_seeds"] == 2).all()


def test_the_epochs_knob_takes_checkpoints_of_one_dense_run(calls):
    spec = {"study": "three_regime", "seeds": [0],
            "base": {**BASE, "temperature_knob": "epochs", "run_epochs": 8}, "grid": {"epochs": [2, 4, 8]}}
    group = group_of(spec)
    out = tr_run.run_group(group)
    dense = [(k, cfg, rep) for k, cfg, rep in calls if isinstance(cfg.lr, list)]  # per-member lr: dense runs
    assert len(calls) == 2 and len(dense) == 1  # one dense training for the three temperatures, one retraining
    k, cfg, rep = dense[0]
    assert k == 1 and cfg.epochs == 8 and tuple(cfg.checkpoints) == (0, 2, 4, 8)
    assert cfg.momentum == 0.9 and not cfg.schedule.is_constant  # the step decay runs over the whole run
    assert [o.results["temperature"] for o in out] == [2.0, 4.0, 8.0]
    errors = {o.results["temperature"]: o.results["dense_train_error"] for o in out}
    assert errors == {e: pytest.approx(float(rep.checkpoint_error[e][0])) for e in (2, 4, 8)}
    # the last checkpoint is the run itself: the same as a trial that trains 8 epochs
    calls.clear()
    plain = tr_run.run_group(group_of({"study": "three_regime", "seeds": [0], "base": BASE,
                                       "grid": {"lr": [BASE.get("lr", 2.0)]}}))
    assert plain[0].results["dense_train_loss"] == pytest.approx(out[2].results["dense_train_loss"], rel=1e-5)
    retrain = [cfg for _, cfg, _ in calls if not isinstance(cfg.lr, list)][0]
    assert retrain.epochs == 8 and retrain.momentum == 0.9 and retrain.lr == 2.0  # as long as the dense run


def test_the_batch_size_knob_runs_a_fixed_number_of_iterations(calls):
    spec = {"study": "three_regime", "seeds": [0], "base": {**BASE, "temperature_knob": "batch_size", "steps": 30},
            "grid": {"batch_size": [10, 40]}}
    p = plan(spec)
    assert len(p.groups) == 2  # different batch sizes cannot share a batched step
    outs = [tr_run.run_group(g)[0] for g in p.groups]
    dense = [(cfg, rep) for _, cfg, rep in calls if isinstance(cfg.lr, list)]  # per-member lr: the dense runs
    retrain = [(cfg, rep) for _, cfg, rep in calls if not isinstance(cfg.lr, list)]
    assert sorted(cfg.batch_size for cfg, _ in dense) == [10, 40]
    assert all(cfg.steps == 30 and rep.steps == 30 for cfg, rep in dense)  # 3 epochs at 10, 10 at 40: same steps
    assert [rep.epochs for cfg, rep in sorted(dense, key=lambda d: d[0].batch_size)] == [3, 10]
    assert all(cfg.batch_size == 40 and rep.steps == 30 for cfg, rep in retrain)  # one retraining recipe
    assert sorted(o.results["temperature"] for o in outs) == [10.0, 40.0]


def test_pruning_is_layerwise_by_default_and_global_as_an_option(monkeypatch):
    scopes = []
    real = models.magnitude_masks
    monkeypatch.setattr(tr_run.models, "magnitude_masks", lambda ens, s, scope: scopes.append(scope) or real(ens, s, scope=scope))
    base = {**BASE, "depth": 2, "epochs": 2}
    tr_run.run_group(group_of({"study": "three_regime", "seeds": [0], "base": base}))
    tr_run.run_group(group_of({"study": "three_regime", "seeds": [0], "base": {**base, "prune_scope": "global"}}))
    assert scopes == ["layerwise", "global"]


def test_a_diverging_dense_member_fails_alone_with_its_reason():
    out = tr_run.run_group(group_of({"study": "three_regime", "seeds": [0], "base": {**BASE, "epochs": 4},
                                     "grid": {"lr": [1.0, 1e6]}}))
    status = {o.fields["lr"]: (o.status, o.reason) for o in out}
    assert status[1.0] == ("done", None)
    assert status[1e6][0] == "failed" and status[1e6][1].split(":")[0] in ("diverged", "collapsed")


@pytest.mark.parametrize("change, message", [
    ({"retrain_seeds": 1}, "retrain_seeds"),
    ({"densities": [0.5, 1.0]}, "densities"),
    ({"lmc_points": 5}, "lmc_points"),
    ({"temperature_knob": "heat"}, "choose one of"),
    ({"temperature_knob": "epochs"}, "set run_epochs"),
    ({"run_epochs": 4}, "must be <= run_epochs"),
    ({"temperature_knob": "batch_size"}, "set steps"),
    ({"lr_decay_at": [0.75, 0.5]}, "lr_decay_at must be strictly increasing"),
    ({"prune_scope": "random"}, "prune_scope"),
])
def test_bad_three_regime_specs(change, message):
    spec = {**TINY, "base": {**TINY["base"], **change}}
    with pytest.raises(SpecError) as e:
        plan(spec)
    assert message in str(e.value)


def _dense_table(load: str, values, cold_errors):
    import pandas as pd

    rows = [{"sparsity": 0.0, "temperature": t, load: v, "dense_train_loss": 0.1, "dense_test_error": 0.2,
             "test_error": 0.2, "dense_train_error": err if t == 60 else 0.3}
            for v, err in zip(values, cold_errors) for t in (10, 60)]
    return pd.DataFrame(rows)


def test_the_cold_end_is_checked_per_load_value_where_the_load_is_a_data_field():
    from studies.catalog.three_regime.analysis import _dense_lines

    # pooled, n_train 4000's 0.03 would read 0.015; per load value it is named
    text = "\n".join(_dense_lines(_dense_table("n_train", [250, 4000], [0.0, 0.03]), {"max_dense_train_error": 0.01},
                                  "epochs", "n_train"))
    assert "WARNING" in text and "0.0300 at n_train = 4000 (allowed 0.01)" in text
    assert "trained: dense train error 0.0000 at n_train = 250" in text
    # with label noise the teacher itself scores label_noise against the flipped labels
    text = "\n".join(_dense_lines(_dense_table("label_noise", [0.0, 0.2], [0.001, 0.15]),
                                  {"max_dense_train_error": 0.01}, "epochs", "label_noise"))
    assert "WARNING" not in text and "0.1500 at label_noise = 0.2 (allowed 0.21)" in text
    text = "\n".join(_dense_lines(_dense_table("label_noise", [0.0, 0.2], [0.02, 0.15]),
                                  {"max_dense_train_error": 0.01}, "epochs", "label_noise"))
    assert "under-trained: dense train error 0.0200 at label_noise = 0 (allowed 0.01)" in text


def test_the_direction_of_a_flip_is_read_from_the_called_signs():
    import pandas as pd
    from studies.catalog.three_regime.analysis import _effect_lines

    # hurts at 0.5, helps at 0.05, not significant at the lowest density: the paper's direction
    eff = pd.DataFrame({"density": [0.5, 0.05, 0.005], "sign": [1, -1, 0],
                        "effect": ["raising T hurts", "raising T helps", "not significant"],
                        "slope_vs_value": [-0.05, 0.14, 0.05], "slope_se": [0.004, 0.02, 0.05],
                        "best_temperature": [512, 16, 64]})
    for k in ("best_minus_hottest", "best_minus_coldest", "hottest_minus_coldest"):
        eff[k], eff[k + "_se"] = 0.0, 0.0
    text = "\n".join(_effect_lines(eff, "density", "batch_size", {"significance": 2.0}, False))
    assert "flips sign" in text and "Direction: as in the paper" in text
    eff["sign"] = [-1, 1, 0]
    text = "\n".join(_effect_lines(eff, "density", "batch_size", {"significance": 2.0}, False))
    assert "Direction: not the paper's" in text


def test_the_unpruned_references_of_the_effect_are_measured_and_named():
    import pandas as pd
    from studies.catalog.three_regime.analysis import _effect_lines, baseline_effect

    rng = np.random.default_rng(0)
    lrs = [0.5, 1.0, 2.0, 4.0]
    rows = [{"seed": s, "temperature": lr, "temperature_knob": "lr", "sparsity": 0.0, "density": 1.0,
             "converged": True, "dense_test_error": 0.10 + 0.01 * np.log10(lr) + 1e-4 * rng.standard_normal(),
             "test_error": 0.12 + (-1) ** s * 0.002 * np.log10(lr)}  # slopes +-0.002: mean 0
            for s in range(4) for lr in lrs]
    base = baseline_effect(pd.DataFrame(rows), {"significance": 2.0})
    got = base.set_index("baseline")
    assert got.loc["dense", "effect"] == "raising T hurts" and abs(got.loc["dense", "slope_vs_value"] - 0.01) < 1e-3
    assert got.loc["control", "effect"] == "not significant"
    assert baseline_effect(pd.DataFrame(rows), {"load": "n_train"}).empty  # density only

    eff = pd.DataFrame({"density": [0.5, 0.005], "sign": [1, -1], "effect": ["raising T hurts", "raising T helps"],
                        "slope_vs_value": [0.01, -0.05], "slope_se": [0.001, 0.01], "best_temperature": [0.5, 4.0]})
    for k in ("best_minus_hottest", "best_minus_coldest", "hottest_minus_coldest"):
        eff[k], eff[k + "_se"] = 0.0, 0.0
    text = "\n".join(_effect_lines(eff, "density", "lr", {"significance": 2.0}, False, base))
    assert "| unpruned (dense model) | +0.0" in text and "| unpruned (control, retrained) |" in text
    assert "Unpruned, the dense model: raising T hurts" in text and "density 0.5 share its sign" in text
    assert "Unpruned, the retrained control: not significant" in text


def test_a_geometric_temperature_grid_gets_a_log_axis_and_an_even_one_a_linear_axis():
    from studies.catalog.three_regime.figures import _log_axis

    assert _log_axis([0.5, 0.71, 1.0, 1.41, 2.0, 2.83, 4.0])  # a factor 8 in even ratios
    assert _log_axis([16, 32, 64, 128, 256, 512]) and _log_axis([0.005, 0.5])  # beyond a decade
    assert not _log_axis([10, 20, 30, 40, 50, 60])  # even steps
    assert not _log_axis([0.0, 0.1, 0.2, 0.4, 0.8]) and not _log_axis([1.0, 2.0])  # a zero; two values


def test_a_spec_varying_more_than_the_temperature_and_the_load_is_refused_before_any_work():
    # a second axis would have its rows averaged into the phase diagram's cells
    spec = {**TINY, "grid": {"lr": [0.5, 1.0], "retrain_lr": [1.0, 2.0]}}
    with pytest.raises(SpecError, match=r"retrain_lr: the trials take 2 values \(1.0, 2.0\).*vary only lr"):
        plan(spec)
    with pytest.raises(SpecError, match="hidden: the trials take 2 values"):
        plan({**TINY, "zip": {"hidden": [8, 16], "retrain_batch_size": [40, 40]}, "grid": {}})
    # the load as a data field may vary (with load = n_train), and seeds always
    plan({**TINY, "grid": {"lr": [0.5, 1.0], "n_train": [120, 160]}, "analysis": {"load": "n_train"}})
    with pytest.raises(SpecError, match="n_train: the trials take 2 values"):
        plan({**TINY, "grid": {"lr": [0.5, 1.0], "n_train": [120, 160]}})
    # lr_over_batch reads lr and batch_size
    plan({**TINY, "base": {**BASE, "temperature_knob": "lr_over_batch"}, "grid": {"lr": [0.5, 1.0], "batch_size": [20, 40]}})
