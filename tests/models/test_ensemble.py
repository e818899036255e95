"""Ensembles: shapes, parameterisation, per-member init, copies, bad input."""
import math

import numpy as np
import pytest
import torch

import models


def _X(n, D, seed=0, dtype=torch.float32):
    return torch.randn(n, D, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.parametrize("arch,hidden", [("linear", ()), ("committee", (5,)), ("mlp", (7, 4))])
def test_forward_shapes_and_shared_equals_per_member_inputs(arch, hidden):
    ens = models.make_ensemble(arch, 3, 6, hidden=hidden, seeds=[1, 2, 3])
    X = _X(11, 6)
    f = ens.forward(X)
    assert f.shape == (3, 11)
    f_per = ens.forward(X.expand(3, 11, 6).clone())
    torch.testing.assert_close(f, f_per, rtol=1e-5, atol=1e-6)
    # per-member inputs really are per member
    Xk = torch.stack([_X(11, 6, seed=s) for s in range(3)])
    fk = ens.forward(Xk)
    for k in range(3):
        torch.testing.assert_close(fk[k], ens.forward(Xk[k])[k], rtol=1e-5, atol=1e-6)


def test_mlp_forward_matches_reference_formula():
    ens = models.make_ensemble("mlp", 2, 5, hidden=(4, 3), activation="tanh", seeds=[7, 8],
                               dtype=torch.float64)
    for n, p in ens.params.items():  # make the biases non-zero so that they are tested too
        if n.startswith("b"):
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(3),
                                dtype=torch.float64))
    X = _X(9, 5, dtype=torch.float64)
    P = {n: p.numpy() for n, p in ens.params.items()}
    for k in range(2):
        a = X.numpy()
        a = np.tanh(a @ P["w0"][k].T / math.sqrt(5) + P["b0"][k])
        a = np.tanh(a @ P["w1"][k].T / math.sqrt(4) + P["b1"][k])
        f = a @ P["w_out"][k] / math.sqrt(3) + P["b_out"][k]
        np.testing.assert_allclose(ens.forward(X)[k].numpy(), f, rtol=1e-12)


def test_committee_is_mean_of_erf_units_with_fixed_readout():
    ens = models.make_ensemble("committee", 2, 8, hidden=(3,), bias=False, train_readout=False,
                               seeds=[0, 1], dtype=torch.float64)
    assert ens.trainable == ("w0",) and ens.prunable == ("w0",)
    torch.testing.assert_close(ens.params["w_out"], torch.full((2, 3), 1 / 3, dtype=torch.float64))
    X = _X(6, 8, dtype=torch.float64)
    W = ens.params["w0"]
    ref = torch.erf(torch.einsum("nd,khd->knh", X, W) / math.sqrt(8) / math.sqrt(2)).mean(-1)
    torch.testing.assert_close(ens.forward(X), ref)


def test_member_init_depends_only_on_its_seed():
    big = models.make_ensemble("mlp", 5, 4, hidden=(6,), seeds=[10, 11, 12, 13, 14])
    alone = models.make_ensemble("mlp", 1, 4, hidden=(6,), seeds=[12])
    f64 = models.make_ensemble("mlp", 1, 4, hidden=(6,), seeds=[12], dtype=torch.float64)
    for n in big.params:
        assert torch.equal(big.params[n][2], alone.params[n][0])
        torch.testing.assert_close(f64.params[n][0].float(), alone.params[n][0])
    assert not torch.equal(big.params["w0"][0], big.params["w0"][1])


def test_init_scale_and_param_names():
    ens = models.make_ensemble("linear", 4, 10, init_scale=0.0, seeds=range(4))
    assert set(ens.params) == {"w", "b"} and ens.prunable == ("w",)
    assert torch.count_nonzero(ens.params["w"]) == 0
    mlp = models.make_ensemble("mlp", 2, 10, hidden=(3, 2), bias=False, train_readout=False,
                               seeds=[0, 1], init_scale=0.5)
    assert list(mlp.params) == ["w0", "w1", "w_out"]
    assert mlp.prunable == ("w0", "w1") and mlp.trainable == ("w0", "w1")
    assert mlp.params["w0"].shape == (2, 3, 10) and mlp.params["w1"].shape == (2, 2, 3)
    ref = models.make_ensemble("mlp", 2, 10, hidden=(3, 2), bias=False, seeds=[0, 1])
    torch.testing.assert_close(mlp.params["w0"], 0.5 * ref.params["w0"])


def test_take_clone_and_count_params():
    ens = models.make_ensemble("mlp", 3, 4, hidden=(5,), seeds=[0, 1, 2])
    br = ens.take([1, 1, 2, 0])
    assert br.n_members == 4 and br.seeds == (1, 1, 2, 0)
    assert torch.equal(br.params["w0"][0], ens.params["w0"][1])
    assert torch.equal(br.params["w0"][3], ens.params["w0"][0])
    br.params["w0"][0].zero_()
    assert torch.count_nonzero(ens.params["w0"][1]) > 0  # a copy, not a view
    cl = ens.clone()
    cl.params["w_out"].add_(1.0)
    assert not torch.equal(cl.params["w_out"], ens.params["w_out"])
    # 4*5 + 5 + 5 + 1 trainable params
    np.testing.assert_array_equal(models.count_params(ens), [31, 31, 31])
    masks = {"w0": torch.ones(3, 5, 4, dtype=torch.bool)}
    masks["w0"][1, :2] = False
    np.testing.assert_array_equal(models.count_params(ens, masks), [31, 23, 31])
    frozen = models.make_ensemble("mlp", 1, 4, hidden=(5,), train_readout=False, seeds=[0])
    np.testing.assert_array_equal(models.count_params(frozen), [25])


def test_representation_layers():
    ens = models.make_ensemble("mlp", 2, 4, hidden=(5, 3), seeds=[0, 1])
    X = _X(7, 4)
    assert ens.representation(X, 0).shape == (2, 7, 5)
    assert ens.representation(X, 1).shape == (2, 7, 3)
    assert torch.all(ens.representation(X, 1) >= 0)  # relu
    torch.testing.assert_close(ens.representation(X, "output")[..., 0], ens.forward(X))
    with pytest.raises(ValueError, match="layer"):
        ens.representation(X, 2)


def test_student_with_perceptron_teacher_weights_reproduces_its_labels():
    D, n = 30, 500
    rng = np.random.default_rng(4)
    u = rng.standard_normal(D)
    u /= np.linalg.norm(u)
    X = rng.standard_normal((n, D))
    y = np.sign(X @ u)
    ens = models.make_ensemble("linear", 1, D, bias=False, seeds=[0], dtype=torch.float64)
    ens.params["w"][0] = torch.as_tensor(u * math.sqrt(D))
    f = ens.forward(torch.as_tensor(X))[0].numpy()
    np.testing.assert_allclose(f, X @ u, rtol=1e-12, atol=1e-12)
    assert models.evaluate(ens, X, y)["error"][0] == 0.0
    # and a random student does not
    rnd = models.make_ensemble("linear", 1, D, bias=False, seeds=[1], dtype=torch.float64)
    assert models.evaluate(rnd, X, y)["error"][0] > 0.1


@pytest.mark.parametrize("kwargs,match", [
    (dict(arch="conv"), "arch"),
    (dict(n_members=0), "n_members"),
    (dict(activation="gelu"), "activation"),
    (dict(arch="mlp", hidden=()), "hidden"),
    (dict(arch="linear", hidden=(3,)), "hidden"),
    (dict(arch="committee", hidden=(3, 2)), "hidden"),
    (dict(seeds=[0]), "seeds"),
    (dict(init_scale=-1.0), "init_scale"),
    (dict(dtype=torch.int32), "dtype"),
])
def test_make_ensemble_rejects_bad_arguments(kwargs, match):
    args = dict(arch="mlp", n_members=2, input_dim=3, hidden=(4,), seeds=[0, 1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        models.make_ensemble(args.pop("arch"), args.pop("n_members"), args.pop("input_dim"), **args)


def test_bad_input_shape_and_missing_cuda():
    ens = models.make_ensemble("linear", 2, 3, seeds=[0, 1])
    with pytest.raises(ValueError, match="X must have shape"):
        ens.forward(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="X must have shape"):
        ens.forward(torch.zeros(3, 4, 3))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            models.make_ensemble("linear", 1, 3, seeds=[0], device="cuda")
