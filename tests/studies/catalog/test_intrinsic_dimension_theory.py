"""The intrinsic_dimension study against its theory columns: an MLP's first layer keeps its off-span component
frozen and its one-shot on-span overlap follows theory.frozen_weights; the linear student's lines need no
measured input and agree with the simulation where they claim their domain."""
import numpy as np
import pytest

from studies.sweep.plan import plan
from studies.catalog.intrinsic_dimension import run


def outcomes(**base):
    spec = {"study": "intrinsic_dimension", "seeds": [0, 1], "base": {"dimension_method": "none", **base},
            "grid": {"intrinsic_dim": [2, 8]}}
    return run.run_group(plan(spec).trials)


@pytest.fixture(scope="module")
def mlp():
    return outcomes(manifold="linear", ambient_dim=32, student="mlp", hidden=32, recipe="converged", n_train=400,
                    n_test=400, epochs=40, retrain_epochs=2, sparsities=[0.5, 0.8, 0.95])


def test_the_off_span_part_of_the_first_layer_never_moves(mlp):
    for o in mlp:
        r = o.results
        assert o.status == "done" and r["frozen_drift"] < 1e-5
        d, D, units = o.fields["intrinsic_dim"], 32, 32
        # at init the off-span share is 1 - d/D up to the chi-square spread of units x (D - d) Gaussians
        assert abs(r["off_span_fraction_init"] - (1 - d / D)) < 4 * np.sqrt(2 / (units * D))
        assert r["theory_off_span_fraction_init"] == pytest.approx(1 - d / D)
        # training grows the on-span part, so the off-span share falls, exactly as the growth says
        assert r["off_span_fraction"] < r["off_span_fraction_init"]
        assert r["theory_off_span_fraction"] == pytest.approx(r["off_span_fraction"], rel=0.05)


def test_the_first_layer_overlap_follows_its_prediction(mlp):
    for o in mlp:
        for row in o.rows:
            if row["density"] * 32 >= 4:  # the Gaussian-coordinate limit needs a few kept weights per unit
                assert row["first_layer_overlap"] == pytest.approx(row["theory_first_layer_overlap"], abs=0.04)
        pruned = [row["first_layer_overlap"] for row in o.rows]
        assert pruned[0] == pytest.approx(1.0) and pruned[-1] < pruned[1]


def test_the_linear_lines_need_no_measured_input_and_agree_in_their_domain():
    a = outcomes(manifold="linear", ambient_dim=32, student="linear", loss="mse", recipe="converged", n_train=800,
                 n_test=4000, sparsities=[0.3, 0.6])
    b = outcomes(manifold="linear", ambient_dim=32, student="linear", loss="mse", recipe="converged", n_train=800,
                 n_test=2000, sparsities=[0.3, 0.6])
    for x, y in zip(a, b):  # the theory is a function of n, d, D and the density only
        assert [r["theory_test_error"] for r in x.rows] == [r["theory_test_error"] for r in y.rows]
        assert x.results["theory_dense_test_error"] == y.results["theory_dense_test_error"]
    dense = np.array([o.results["dense_test_error"] for o in a])
    theory = np.array([o.results["theory_dense_test_error"] for o in a])
    assert np.all(np.abs(dense - theory) < 0.02)
    for o in a:
        assert o.results["converged"] and all(r["in_domain"] for r in o.rows)
        for r in o.rows:  # k >= d: converged retraining recovers the dense least-squares fit
            assert abs(r["test_error"] - o.results["control_test_error"]) < 0.01
    noisy = outcomes(manifold="linear", ambient_dim=32, student="linear", loss="mse", noise=0.1, n_train=200,
                     n_test=200, epochs=5, retrain_epochs=2, sparsities=[0.5])
    assert "off-manifold noise" in noisy[0].results["theory_reason"]
    assert "theory_test_error" not in noisy[0].rows[0]
