"""LMC barrier, linear CKA, Hessian trace and top eigenvalue."""
import math

import numpy as np
import pytest
import torch

import models

F64 = torch.float64


def _data(P, D, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(P, D, generator=g, dtype=F64)
    return X, torch.sign(X[:, 0] + 0.3 * X[:, 1])


def test_lmc_barrier_of_a_member_with_itself_is_zero_and_detects_a_barrier():
    X, y = _data(50, 5)
    ens = models.make_ensemble("mlp", 3, 5, hidden=(6,), seeds=[0, 1, 2], dtype=F64)
    b = models.lmc_barrier(ens, ens.params, ens.params, X, y)
    np.testing.assert_allclose(b, 0.0, atol=1e-12)
    # w and -w of a relu net with zero biases: the midpoint has output 0 (loss log 2), above
    # the chord between the two endpoints for a trained member
    models.train(ens, X, y, models.TrainConfig(lr=0.5, epochs=50))
    flip = {n: p.clone() for n, p in ens.params.items()}
    flip["w_out"] = -flip["w_out"]
    flip["b_out"] = -flip["b_out"]
    bar, ts, curve = models.lmc_barrier(ens, ens.params, flip, X, y, n_points=21,
                                        return_curve=True)
    assert ts.shape == (21,) and curve.shape == (21, 3)
    np.testing.assert_allclose(curve[10], math.log(2), rtol=1e-9)
    chord_mid = 0.5 * (curve[0] + curve[-1])
    assert np.all(bar >= curve[10] - chord_mid - 1e-12) and np.all(bar >= 0)
    with pytest.raises(ValueError, match="n_points"):
        models.lmc_barrier(ens, ens.params, flip, X, y, n_points=5)


def test_lmc_barrier_is_nan_for_dead_members():
    X, y = _data(30, 4)
    ens = models.make_ensemble("mlp", 2, 4, hidden=(3,), seeds=[0, 1], dtype=F64)
    dead = {n: p.clone() for n, p in ens.params.items()}
    dead["w0"][1] = 0.0
    b = models.lmc_barrier(ens, ens.params, dead, X, y)
    assert np.isfinite(b[0]) and np.isnan(b[1])


def test_linear_cka_identity_orthogonal_and_scale_invariance():
    g = torch.Generator().manual_seed(1)
    A = torch.randn(3, 40, 6, generator=g, dtype=F64)
    np.testing.assert_allclose(models.linear_cka(A, A), 1.0, rtol=1e-12)
    Q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=F64))
    B = 2.5 * A @ Q + 1.0  # rotation, isotropic scaling and a shift (removed by centring)
    np.testing.assert_allclose(models.linear_cka(A, B), 1.0, rtol=1e-10)
    C = torch.randn(3, 40, 4, generator=g, dtype=F64)
    cka = models.linear_cka(A, C)
    assert np.all(cka < 0.6) and np.all(cka >= 0)
    # Gram form (p * q > n^2) agrees with the feature form
    wideA = torch.randn(2, 5, 30, generator=g, dtype=F64)
    wideB = torch.randn(2, 5, 20, generator=g, dtype=F64)
    Ac = (wideA - wideA.mean(1, keepdim=True))[0]
    Bc = (wideB - wideB.mean(1, keepdim=True))[0]
    ref = (torch.linalg.norm(Bc.T @ Ac) ** 2 /
           (torch.linalg.norm(Ac.T @ Ac) * torch.linalg.norm(Bc.T @ Bc))).item()
    assert models.linear_cka(wideA, wideB)[0] == pytest.approx(ref, rel=1e-10)
    # non-isotropic scaling changes it
    S = torch.diag(torch.tensor([10.0, 1, 1, 1, 1, 0.1], dtype=F64))
    assert np.all(models.linear_cka(A, A @ S) < 0.999)
    with pytest.raises(ValueError, match="shapes"):
        models.linear_cka(A, C[:, :30])


def test_cka_of_hidden_representations_of_an_ensemble():
    X, _ = _data(30, 5)
    ens = models.make_ensemble("mlp", 2, 5, hidden=(8,), seeds=[0, 0], dtype=F64)
    R = ens.representation(X, 0)
    np.testing.assert_allclose(models.linear_cka(R, R[[1, 0]]), 1.0, rtol=1e-12)


def test_hessian_trace_and_top_eigenvalue_of_linear_mse_match_the_analytic_values():
    """L(w, b) = mean_i (y_i - w.x_i/sqrt D - b)^2 / 2: H = [[X^T X/(P D), mean x/sqrt D],
    [mean x^T/sqrt D, 1]], the same for every member."""
    P, D, K = 40, 5, 3
    X, y = _data(P, D)
    ens = models.make_ensemble("linear", K, D, seeds=range(K), dtype=F64)
    Xn = X.numpy()
    H = np.zeros((D + 1, D + 1))
    H[:D, :D] = Xn.T @ Xn / (P * D)
    H[:D, D] = H[D, :D] = Xn.mean(0) / math.sqrt(D)
    H[D, D] = 1.0
    S = 400
    tr = models.hessian_trace(ens, X, y, loss="mse", n_samples=S, seed=0)
    sd = math.sqrt(2 * (np.sum(H ** 2) - np.sum(np.diag(H) ** 2)) / S)
    np.testing.assert_allclose(tr, np.trace(H), atol=5 * sd)
    assert not np.allclose(tr, tr[0])  # independent vectors per member
    top = models.hessian_top_eigenvalue(ens, X, y, loss="mse", n_iter=300, tol=1e-11)
    np.testing.assert_allclose(top, np.linalg.eigvalsh(H)[-1], rtol=1e-6)
    # weight decay adds lambda to every eigenvalue
    top_wd = models.hessian_top_eigenvalue(ens, X, y, loss="mse", n_iter=300, tol=1e-11,
                                           weight_decay=0.1)
    np.testing.assert_allclose(top_wd, np.linalg.eigvalsh(H)[-1] + 0.1, rtol=1e-6)


def test_hessian_vector_product_matches_the_full_hessian_of_one_mlp_member_with_masks():
    X, y = _data(25, 4)
    ens = models.make_ensemble("mlp", 2, 4, hidden=(3,), activation="tanh", seeds=[0, 1],
                               dtype=F64)
    masks = models.magnitude_masks(ens, 0.5)
    models.apply_masks(ens, masks)
    names = ens.trainable
    k = 1
    shapes = [ens.params[n][k].shape for n in names]
    sizes = [int(np.prod(s)) for s in shapes]

    def loss_of(flat):
        parts = dict(ens.params)
        off = 0
        for n, s, z in zip(names, shapes, sizes):
            p = ens.params[n].clone()
            p[k] = flat[off:off + z].view(s)
            parts[n] = p
            off += z
        f = ens.forward(X, parts)[k]
        return torch.nn.functional.softplus(-y * f).mean()

    flat0 = torch.cat([ens.params[n][k].reshape(-1) for n in names])
    Hfull = torch.autograd.functional.hessian(loss_of, flat0)
    m = torch.cat([masks[n][k].reshape(-1).to(F64) if n in masks else torch.ones(z, dtype=F64)
                   for n, z in zip(names, sizes)])
    Hsub = m[:, None] * Hfull * m[None, :]
    g = torch.Generator().manual_seed(2)
    v = {n: torch.randn(ens.params[n].shape, generator=g, dtype=F64) for n in names}
    hv = models.hessian_vector_product(ens, X, y, v, loss="logistic", masks=masks)
    hv_k = torch.cat([hv[n][k].reshape(-1) for n in names])
    v_k = torch.cat([v[n][k].reshape(-1) for n in names])
    torch.testing.assert_close(hv_k, Hsub @ v_k, rtol=1e-9, atol=1e-12)
    tr = models.hessian_trace(ens, X, y, loss="logistic", n_samples=3000, masks=masks)
    assert tr[k] == pytest.approx(torch.trace(Hsub).item(), rel=0.1)
