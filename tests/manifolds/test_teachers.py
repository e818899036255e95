"""Teachers: labels, tasks, label noise, factory and validation."""
import numpy as np
import pytest

from manifolds import TEACHER_KINDS, PerceptronTeacher, make_manifold, make_teacher


def _inputs(n=400, dim=6, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim))


@pytest.mark.parametrize("kind", TEACHER_KINDS)
def test_classification_labels_are_pm1_and_reproducible(kind):
    v = _inputs()
    t1, t2 = make_teacher(kind, 6, seed=2), make_teacher(kind, 6, seed=2)
    y = t1(v)
    assert set(np.unique(y)) <= {-1.0, 1.0} and len(np.unique(y)) == 2
    np.testing.assert_array_equal(y, t2(v))
    assert not np.array_equal(y, make_teacher(kind, 6, seed=3)(v))


@pytest.mark.parametrize("kind", TEACHER_KINDS)
def test_regression_is_the_preactivation_plus_gaussian_noise(kind):
    v = _inputs(4000)
    clean = make_teacher(kind, 6, seed=1, task="regression")
    noisy = make_teacher(kind, 6, seed=1, task="regression", output_noise=0.5)
    y0 = clean(v)
    assert len(np.unique(y0)) == len(y0)  # real-valued
    np.testing.assert_allclose(np.sign(y0), np.where(make_teacher(kind, 6, seed=1)(v) > 0, 1, -1))
    resid = noisy(v, seed=9) - y0
    assert abs(resid.std() - 0.5) < 0.03
    np.testing.assert_array_equal(noisy(v, seed=9), noisy(v, seed=9))


@pytest.mark.parametrize("kind", TEACHER_KINDS)
def test_flip_prob_flips_that_fraction(kind):
    v = _inputs(20000)
    clean = make_teacher(kind, 6, seed=1)(v)
    noisy = make_teacher(kind, 6, seed=1, flip_prob=0.2)(v, seed=4)
    assert abs(np.mean(clean != noisy) - 0.2) < 0.015


def test_perceptron_keeps_its_convention():
    t = PerceptronTeacher(10, seed=0)
    assert np.isclose(t.weights @ t.weights, 10)
    v = _inputs(50, 10)
    np.testing.assert_array_equal(t(v), np.where(v @ t.weights >= 0, 1.0, -1.0))


def test_binary_perceptron_teacher_has_unit_weights_and_balanced_signs():
    t = PerceptronTeacher(4000, seed=3, weight_prior="binary")
    assert set(np.unique(t.weights)) == {-1.0, 1.0} and np.isclose(t.weights @ t.weights, 4000)
    assert abs(t.weights.mean()) < 4 / np.sqrt(4000)
    v = _inputs(50, 4000)
    np.testing.assert_array_equal(t(v), np.where(v @ t.weights >= 0, 1.0, -1.0))
    # the signs of the spherical teacher of the same seed: one random stream, two priors
    np.testing.assert_array_equal(t.weights, np.sign(PerceptronTeacher(4000, seed=3).weights))
    with pytest.raises(ValueError, match="weight_prior"):
        PerceptronTeacher(4, weight_prior="ising")


def test_committee_is_a_sum_of_erf_units():
    from scipy.special import erf

    t = make_teacher("committee", 6, seed=0, n_hidden=3, task="regression")
    v = _inputs(20)
    expected = erf(v @ t.weights.T / np.sqrt(6) / np.sqrt(2)).sum(axis=1)
    np.testing.assert_allclose(t(v), expected)


def test_random_mlp_teacher_layers():
    t = make_teacher("random_mlp", 6, seed=0, hidden=(8, 4), activation="relu", task="regression")
    assert [W.shape for W in t.weights] == [(8, 6), (4, 8), (1, 4)]
    v = _inputs(20)
    a = np.maximum(v @ t.weights[0].T / np.sqrt(6), 0)
    a = np.maximum(a @ t.weights[1].T / np.sqrt(8), 0)
    np.testing.assert_allclose(t(v), (a @ t.weights[2].T / 2.0)[:, 0])


def test_latent_and_ambient_teachers_on_a_generator():
    gen = make_manifold("sphere", 3, 20, seed=0)
    X, Z = gen.sample(100, seed=1)
    y_latent = make_teacher("committee", gen.latent_dim, seed=0)(Z)
    y_ambient = make_teacher("perceptron", gen.ambient_dim, seed=0)(X)
    assert y_latent.shape == y_ambient.shape == (100,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_teacher("tree", 3), "kind must be one of .*'tree'"),
        (lambda: make_teacher("perceptron", 3, n_hidden=2), "unknown option.*'n_hidden'"),
        (lambda: make_teacher("perceptron", 0), "input_dim must be an integer >= 1"),
        (lambda: make_teacher("perceptron", 3, flip_prob=0.7), r"flip_prob must lie in \[0, 0.5\]"),
        (lambda: make_teacher("perceptron", 3, task="ranking"), "task must be one of"),
        (lambda: make_teacher("committee", 3, activation="softmax"), "activation must be one of"),
        (lambda: make_teacher("committee", 3, n_hidden=0), "n_hidden must be an integer >= 1"),
        (lambda: make_teacher("random_mlp", 3, hidden=()), "hidden must name at least one layer"),
        (lambda: make_teacher("random_mlp", 3, hidden=(4, 0)), "hidden must be an integer >= 1"),
        (lambda: make_teacher("perceptron", 3, task="regression", flip_prob=0.1), "flip_prob applies to task='classification'"),
        (lambda: make_teacher("perceptron", 3, output_noise=0.1), "output_noise applies to task='regression'"),
        (lambda: make_teacher("perceptron", 3)(np.zeros((4, 2))), r"inputs must have shape \(n, 3\)"),
        (lambda: make_teacher("perceptron", 3, flip_prob=0.1)(np.zeros((4, 3))), "seed is required"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
