"""The runner writes one row per trial and sparsity level, resumes exactly, and refuses to mix studies."""
import sqlite3

import numpy as np
import pandas as pd
import pytest

from studies.sweep.runner import run_spec
from studies.results.store import DB_NAME, StoreError
from studies.results.table import LEADING, load_all



@pytest.fixture(scope="module")
def finished(tmp_path_factory, make_spec):
    out = tmp_path_factory.mktemp("run") / "r"
    run_spec(make_spec(), out, progress=False)
    return out


def test_one_row_per_trial_and_sparsity_with_the_required_columns(finished):
    df = load_all(finished)
    assert len(df) == 4 * 4  # 4 trials x (dense control + 3 ladder points)
    assert not df.duplicated(["trial", "sparsity"]).any()
    for col in LEADING:
        assert col in df.columns, col
    assert set(df["temperature_knob"]) == {"lr"} and set(df["temperature"]) == {4.0}
    assert (df["load"] > 0).all()
    # the theory applies to linear students on noiseless linear manifolds
    assert df["theory_test_error"].notna().all()
    # pruned weights are counted out of the load
    dense = df[df.sparsity == 0].iloc[0]
    pruned = df[(df.trial == dense.trial) & (df.sparsity == 0.75)].iloc[0]
    assert pruned["n_params"] == 4 and dense["n_params"] == 16


def test_resume_after_losing_trials_reproduces_the_same_table(finished, tmp_path, make_spec):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    con = sqlite3.connect(copy / DB_NAME)
    lost = [r[0] for r in con.execute("SELECT trial FROM trials ORDER BY trial LIMIT 2")]
    con.executemany("DELETE FROM rows WHERE trial = ?", [(t,) for t in lost])
    con.executemany("DELETE FROM trials WHERE trial = ?", [(t,) for t in lost])
    con.commit()
    con.close()
    assert len(load_all(copy)) == 8
    run_spec(make_spec(), copy, resume=True, progress=False)
    a = load_all(finished).sort_values(["trial", "sparsity"]).reset_index(drop=True)
    b = load_all(copy).sort_values(["trial", "sparsity"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_an_out_holding_results_is_refused_without_resume_and_left_intact(finished, make_spec):
    before = load_all(finished)
    with pytest.raises(StoreError, match="--resume"):
        run_spec(make_spec(), finished, progress=False)
    with pytest.raises(StoreError, match=r"with other trials \(changed: base.noise\)"):
        run_spec(make_spec(noise=0.01), finished, resume=True, progress=False)
    pd.testing.assert_frame_equal(before, load_all(finished))


def test_the_dense_control_and_retrained_errors_are_consistent(finished):
    df = load_all(finished)
    control = df[df.sparsity == 0]
    assert np.allclose(control["test_error"], control["control_test_error"])
    # with d <= kept weights, the retrained linear student recovers the dense error (theory.retraining)
    assert (df["test_error"].between(0, 1)).all()


@pytest.mark.parametrize("manifold", ["sphere", "hidden"])
def test_curved_generators_and_mlp_students_run_and_record_the_estimated_dimension(manifold, tmp_path, make_spec):
    spec = make_spec(manifold=manifold, student="mlp", hidden=8, loss="logistic", lr=0.5, batch_size=50,
                     epochs=3, retrain_epochs=2, retrain_lr_scaling="constant", dimension_method="twonn")
    spec["seeds"] = [0]
    run_spec(spec, tmp_path / "r", progress=False)
    df = load_all(tmp_path / "r")
    assert len(df) == 2 * 4 and df["theory_test_error"].isna().all()  # no theory for these
    est = df.groupby("intrinsic_dim")["estimated_dim"].first()
    assert (est > 0).all()
