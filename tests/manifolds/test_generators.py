"""Generators: reproducibility, shared embedding, exact on-manifold points, noise, validation."""
import warnings

import numpy as np
import pytest

import manifolds
from manifolds import MANIFOLD_KINDS, make_manifold

# one (d, D) every kind accepts, with each kind's options
SMALL = {kind: (2, 12, {}) for kind in MANIFOLD_KINDS}
SMALL["benchmark"] = (2, 12, {"name": "M7_Roll"})


@pytest.mark.parametrize("kind", MANIFOLD_KINDS)
def test_same_seed_same_arrays_and_shapes(kind):
    d, D, opts = SMALL[kind]
    a = make_manifold(kind, d, D, seed=3, **opts)
    b = make_manifold(kind, d, D, seed=3, **opts)
    Xa, Za = a.sample(50, seed=7)
    Xb, Zb = b.sample(50, seed=7)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_array_equal(Za, Zb)
    assert Xa.shape == (50, D) and Za.shape == (50, a.latent_dim)
    assert (a.intrinsic_dim, a.ambient_dim, a.noise, a.seed) == (d, D, 0.0, 3)
    Xc, _ = a.sample(50, seed=8)
    assert not np.allclose(Xa, Xc)
    Xd, _ = make_manifold(kind, d, D, seed=4, **opts).sample(50, seed=7)
    assert not np.allclose(Xa, Xd)


@pytest.mark.parametrize("kind", MANIFOLD_KINDS)
def test_train_and_test_share_one_embedding(kind):
    """X is a fixed function of Z: re-embedding the test latents reproduces the test points."""
    d, D, opts = SMALL[kind]
    gen = make_manifold(kind, d, D, seed=1, **opts)
    _, Ztr = gen.sample(40, seed=0)
    Xte, Zte = gen.sample(40, seed=1)
    np.testing.assert_allclose(gen._embed(Zte), Xte)
    np.testing.assert_allclose(gen._embed(np.vstack([Ztr, Zte]))[40:], Xte)


@pytest.mark.parametrize("kind", MANIFOLD_KINDS)
def test_noise_is_gaussian_off_manifold(kind):
    d, D, opts = SMALL[kind]
    clean = make_manifold(kind, d, D, seed=2, **opts)
    noisy = make_manifold(kind, d, D, noise=0.1, seed=2, **opts)
    X0, Z0 = clean.sample(2000, seed=5)
    X1, Z1 = noisy.sample(2000, seed=5)
    np.testing.assert_array_equal(Z0, Z1)
    resid = X1 - X0
    assert abs(resid.std() - 0.1) < 0.005
    assert abs(resid.mean()) < 0.005


def test_linear_points_lie_in_the_column_space():
    gen = manifolds.LinearManifold(3, 20, seed=0)
    X, Z = gen.sample(100, seed=1)
    A = gen.embedding
    np.testing.assert_allclose(A.T @ A, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(X - X @ A @ A.T, 0, atol=1e-12)
    np.testing.assert_allclose(X @ A, Z, atol=1e-12)


@pytest.mark.parametrize("radius", [1.0, 2.5])
def test_sphere_points_have_the_radius_in_the_embedded_frame(radius):
    gen = make_manifold("sphere", 4, 30, seed=0, radius=radius)
    X, Z = gen.sample(200, seed=1)
    Q = gen.embedding
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), radius)
    np.testing.assert_allclose(X @ Q / radius, Z, atol=1e-12)
    np.testing.assert_allclose(X - X @ Q @ Q.T, 0, atol=1e-12)


def test_torus_points_are_unit_circles_in_each_plane():
    gen = make_manifold("torus", 3, 10, seed=0)
    X, Z = gen.sample(200, seed=1)
    circles = X @ gen.embedding  # (n, 2d): (cos t_1, sin t_1, ...)
    np.testing.assert_allclose(circles[:, 0::2] ** 2 + circles[:, 1::2] ** 2, 1.0)
    np.testing.assert_allclose(np.arctan2(circles[:, 1::2], circles[:, 0::2]) % (2 * np.pi), Z, atol=1e-9)


def test_roll_points_lie_on_the_spiral():
    gen = make_manifold("roll", 3, 10, seed=0)
    X, Z = gen.sample(200, seed=1)
    Y = X @ gen.embedding
    np.testing.assert_allclose(np.hypot(Y[:, 0], Y[:, 1]), Z[:, 0])
    np.testing.assert_allclose(Y[:, 2:], Z[:, 1:])
    assert Z[:, 0].min() >= 1.5 * np.pi and Z[:, 0].max() <= 4.5 * np.pi


def test_hidden_manifold_is_f_of_a_random_projection():
    gen = make_manifold("hidden", 5, 40, seed=0, activation="relu")
    X, Z = gen.sample(100, seed=1)
    np.testing.assert_allclose(X, np.maximum(Z @ gen.feature_matrix.T / np.sqrt(5), 0))


def test_fourier_features_approximate_the_gaussian_kernel():
    gen = make_manifold("fourier", 2, 4000, seed=0, bandwidth=1.5)  # l = 1.5 sqrt(2)
    X, Z = gen.sample(30, seed=1)
    K = np.exp(-((Z[:, None] - Z[None]) ** 2).sum(-1) / (2 * 1.5**2 * 2))
    assert np.abs(X @ X.T - K).max() < 0.1


def test_random_mlp_gain_changes_the_map():
    X1, _ = make_manifold("random_mlp", 2, 8, seed=0).sample(10, seed=1)
    X2, _ = make_manifold("random_mlp", 2, 8, seed=0, gain=3.0).sample(10, seed=1)
    assert not np.allclose(X1, X2)


def test_benchmark_latent_is_the_native_point():
    gen = make_manifold("benchmark", 3, 20, seed=0, name="M1_Sphere")
    X, Z = gen.sample(100, seed=1)
    assert gen.latent_dim == gen.native_dim == 4
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)
    np.testing.assert_allclose(X @ gen.embedding, Z, atol=1e-12)


def test_sign_activation_warns_about_discrete_data():
    with pytest.warns(UserWarning, match="discrete"):
        make_manifold("hidden", 2, 10, activation="sign")
    with pytest.warns(UserWarning, match="discrete"):
        make_manifold("random_mlp", 2, 10, activation="sign")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_manifold("hidden", 2, 10, activation="tanh")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_manifold("linear", 5, 3), "intrinsic_dim must be <= ambient_dim"),
        (lambda: make_manifold("linear", 0, 3), "intrinsic_dim must be an integer >= 1, got 0"),
        (lambda: make_manifold("linear", 2.5, 3), "intrinsic_dim must be an integer"),
        (lambda: make_manifold("hidden", 2, 0), "ambient_dim must be an integer >= 1"),
        (lambda: make_manifold("sphere", 3, 3), r"ambient_dim must be >= intrinsic_dim \+ 1 = 4"),
        (lambda: make_manifold("torus", 3, 5), "ambient_dim must be >= 2 \\* intrinsic_dim = 6"),
        (lambda: make_manifold("roll", 4, 4), "ambient_dim must be >= intrinsic_dim \\+ 1"),
        (lambda: make_manifold("hidden", 2, 10, activation="softplus"), "activation must be one of .*'softplus'"),
        (lambda: make_manifold("random_mlp", 2, 10, activation="gelu"), "activation must be one of"),
        (lambda: make_manifold("random_mlp", 8, 10, width=4), "width must be >= intrinsic_dim = 8"),
        (lambda: make_manifold("random_mlp", 2, 10, depth=0), "depth must be an integer >= 1"),
        (lambda: make_manifold("fourier", 2, 10, bandwidth=0), "bandwidth must be a finite number > 0"),
        (lambda: make_manifold("sphere", 2, 10, radius=-1), "radius must be"),
        (lambda: make_manifold("linear", 2, 10, noise=-0.1), "noise must be a finite number >= 0"),
        (lambda: make_manifold("linear", 2, 10, seed=-1), "seed must be an integer >= 0"),
        (lambda: make_manifold("klein_bottle", 2, 10), "kind must be one of .*'klein_bottle'"),
        (lambda: make_manifold("sphere", 2, 10, bandwidth=1.0), "unknown option.*'bandwidth'.*allowed: radius"),
        (lambda: make_manifold("benchmark", 2, 10, name="M99"), "name must be one of"),
        (lambda: make_manifold("benchmark", 3, 10, name="M7_Roll"), "intrinsic_dim must be 2 for benchmark"),
        (lambda: make_manifold("benchmark", 6, 6, name="M1_Sphere"), "ambient_dim must be >= 7"),
        (lambda: make_manifold("linear", 2, 10).sample(0, seed=0), "n must be an integer >= 1, got 0"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_existing_api_is_kept():
    gen = manifolds.LinearManifold(2, 5, 0.0, 0)
    X, Z = gen.sample(10, 0)
    assert gen.embedding.shape == (5, 2) and X.shape == (10, 5) and Z.shape == (10, 2)
