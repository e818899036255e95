"""Intrinsic-dimension estimation: accuracy on the generators, validation, calibration."""
import numpy as np
import pytest

from manifolds import DIMENSION_METHODS, calibrate, estimate_dimension, make_manifold

SMOOTH = [
    ("linear", {}),
    ("hidden", {"activation": "tanh"}),
    ("hidden", {"activation": "erf"}),
    ("sphere", {}),
    ("torus", {}),
    ("roll", {}),
    ("random_mlp", {}),
    ("fourier", {}),
]


@pytest.mark.parametrize("kind, opts", SMOOTH, ids=[k + "-" + "-".join(o.values()) for k, o in SMOOTH])
@pytest.mark.parametrize("d", [2, 4, 8])
def test_twonn_recovers_d_within_15_percent(kind, opts, d):
    X, _ = make_manifold(kind, d, 256, seed=0, **opts).sample(4000, seed=1)
    est = estimate_dimension(X, "twonn")
    assert abs(est - d) <= 0.15 * d, f"{kind} d={d}: TwoNN {est:.2f}"


@pytest.mark.parametrize("method", ["twonn", "mle", "gride", "lpca"])
def test_each_fast_method_on_a_flat_subspace(method):
    X, _ = make_manifold("linear", 3, 20, seed=0).sample(1000, seed=1)
    assert abs(estimate_dimension(X, method) - 3) < 0.5


def test_options_reach_the_estimator():
    X, _ = make_manifold("sphere", 3, 20, seed=0).sample(600, seed=1)
    a = estimate_dimension(X, "mle", n_neighbors=10)
    b = estimate_dimension(X, "mle", n_neighbors=40)
    assert a != b
    assert estimate_dimension(X, "twonn", discard_fraction=0.3) != estimate_dimension(X, "twonn")


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (np.zeros(10), {}, r"X must be a 2-D array .*shape \(10,\)"),
        (np.array([["a", "b"]] * 5), {}, "X must be a 2-D array of real numbers, got dtype <U1"),
        (np.array([[np.nan, 1.0]] + [[1.0, 2.0]] * 9), {}, "X must contain only finite numbers.*row 0, column 0"),
        (np.array([[np.inf, 1.0]] * 10), {}, "finite"),
        (np.ones((2, 3)), {}, "X must have at least 3 points"),
        (np.ones((10, 3)), {"method": "mle"}, "X must have at least 21 points"),
        (np.ones((10, 1)), {}, "at least 2 features"),
        (np.random.default_rng(0).random((30, 3)), {"method": "pca"}, "method must be one of .*'pca'"),
        (np.random.default_rng(0).random((30, 3)), {"method": "twonn", "k": 3}, "unknown option.*'k' for method 'twonn'"),
    ],
)
def test_bad_data_and_methods(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_dimension(X, **kwargs)


def test_calibrate_records():
    recs = calibrate(["linear", "sphere"], [2, 3], 16, 500, methods=["twonn", "mle"], seed=0)
    assert len(recs) == 8
    assert [(r.kind, r.nominal_dim, r.method) for r in recs[:2]] == [("linear", 2, "twonn"), ("linear", 2, "mle")]
    assert all(abs(r.estimated_dim - r.nominal_dim) < 0.6 for r in recs)
    assert recs == calibrate(["linear", "sphere"], [2, 3], 16, 500, methods=["twonn", "mle"], seed=0)


def test_calibrate_rejects_a_string_for_a_list():
    with pytest.raises(ValueError, match="kinds and methods must be sequences"):
        calibrate("linear", [2], 16, 100, methods=["twonn"])


def test_dimension_methods_exist_in_skdim():
    import skdim

    from manifolds.dimension import _estimator

    for m in DIMENSION_METHODS:
        assert issubclass(_estimator(m), skdim._commonfuncs.BaseEstimator)
