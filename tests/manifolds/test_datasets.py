"""Finite data sets: the bundled digits and a user's .npy array; disjoint splits, labels, validation."""
import numpy as np
import pytest

import manifolds
from manifolds import make_manifold


def test_digits_are_standardised_with_a_balanced_binary_task_from_their_classes():
    g = make_manifold("digits", 8, None)
    assert (g.n_points, g.ambient_dim, g.latent_dim) == (1797, 64, 64) and g.intrinsic_dim is None
    live = g.points.std(0) > 0
    assert live.sum() == 61  # three pixels are 0 in every image
    np.testing.assert_allclose(g.points.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(g.points[:, live].std(0), 1, atol=1e-12)
    even = g.classes % 2 == 0
    np.testing.assert_array_equal(g.targets, np.where(even, 1.0, -1.0))
    assert abs(g.targets.mean()) < 0.02
    odd = make_manifold("digits", 8, None, positive=[1, 3, 5, 7, 9])
    np.testing.assert_array_equal(odd.targets, -g.targets)
    assert not make_manifold("digits", 8, None, labels="teacher").has_labels


def test_a_split_is_disjoint_reproducible_and_carries_the_labels_of_its_points():
    g = make_manifold("digits", 8, None)
    (X, Z, y), (Xt, Zt, yt) = g.split(1000, 797, seed=3)
    assert X.shape == (1000, 64) and Xt.shape == (797, 64)
    rows = {r.tobytes() for r in g.points}
    assert len({r.tobytes() for r in X} | {r.tobytes() for r in Xt}) == 1797 == len(rows)  # all of them, once
    index = {r.tobytes(): i for i, r in enumerate(g.points)}
    np.testing.assert_array_equal(y, g.targets[[index[r.tobytes()] for r in X]])
    (X2, _, _), _ = g.split(1000, 797, seed=3)
    np.testing.assert_array_equal(X, X2)
    (X3, _, _), _ = g.split(1000, 797, seed=4)
    assert not np.array_equal(X, X3)
    noisy = make_manifold("digits", 8, None, noise=0.1)
    (Xn, Zn, _), _ = noisy.split(1000, 797, seed=3)
    np.testing.assert_array_equal(Zn, Z)
    assert abs((Xn - Zn).std() - 0.1) < 0.005


def test_too_many_points_and_a_foreign_ambient_dim_are_refused_by_name():
    g = make_manifold("digits", 8, None)
    with pytest.raises(ValueError, match=r"n_train \+ n_test = 1000 \+ 800 = 1800 exceeds the 1797 points"):
        g.split(1000, 800, seed=0)
    with pytest.raises(ValueError, match="ambient_dim comes from the data: .* D = 64"):
        make_manifold("digits", 8, 256)
    assert make_manifold("digits", 8, 64).ambient_dim == 64
    with pytest.raises(ValueError, match="positive = \\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9\\] makes every label"):
        make_manifold("digits", 8, None, positive=list(range(10)))
    with pytest.raises(ValueError, match="never take"):
        make_manifold("digits", 8, None, positive=[11])


def test_a_user_array_with_its_labels_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5)) * 3 + 1
    labels = np.where(X[:, 0] > 1, "b", "a")
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", (labels == "b").astype(int) * 7)  # two values: the larger is +1
    g = make_manifold("file", 3, None, path=str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"))
    np.testing.assert_array_equal(g.points, X)  # as given by default
    np.testing.assert_array_equal(g.targets, np.where(labels == "b", 1.0, -1.0))
    s = make_manifold("file", 3, None, path=str(tmp_path / "x.npy"), standardize=True)
    np.testing.assert_allclose(s.points.std(0), 1) and not s.has_labels
    (Xa, _, ya), (Xb, _, yb) = g.split(40, 20, seed=1)
    assert len({r.tobytes() for r in np.vstack([Xa, Xb])}) == 60


@pytest.mark.parametrize("make, message", [
    (lambda p: dict(path=str(p / "missing.npy")), "is not a file"),
    (lambda p: dict(path=str(p / "text.npy")), "not a readable .npy array"),
    (lambda p: dict(path=str(p / "flat.npy")), "must hold a 2-D array"),
    (lambda p: dict(path=str(p / "x.npy"), labels=str(p / "three.npy")), "take 3 distinct values"),
    (lambda p: dict(path=str(p / "x.npy"), labels=str(p / "short.npy")), "holds 5 labels for the 10 points"),
    (lambda p: dict(path=str(p / "nan.npy")), "NaN or infinite"),
    (lambda p: dict(path=str(p / "x.npy"), positive=[1]), "positive applies to labels read from a file"),
])
def test_bad_files_are_refused_naming_the_file(tmp_path, make, message):
    np.save(tmp_path / "x.npy", np.arange(20.0).reshape(10, 2))
    (tmp_path / "text.npy").write_text("not numpy")
    np.save(tmp_path / "flat.npy", np.arange(10.0))
    np.save(tmp_path / "three.npy", np.arange(10) % 3)
    np.save(tmp_path / "short.npy", np.arange(5) % 2)
    np.save(tmp_path / "nan.npy", np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match=message):
        make_manifold("file", 2, None, **make(tmp_path))


def test_the_estimator_options_are_checked_before_any_data_exist():
    manifolds.check_dimension_options("mle", {"n_neighbors": 10})
    with pytest.raises(ValueError, match="unknown option\\(s\\) 'k' for method 'mle'"):
        manifolds.check_dimension_options("mle", {"k": 10})
