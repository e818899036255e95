"""The hand-written batched backward pass of the training step against autograd."""
import itertools

import pytest
import torch

import models
from models._backward import descend
from models.losses import pointwise_loss

F64 = torch.float64

CASES = [
    dict(arch="linear", hidden=(), bias=True),
    dict(arch="linear", hidden=(), bias=False),
    dict(arch="committee", hidden=(5,), bias=True),
    dict(arch="committee", hidden=(4,), bias=False, train_readout=False),
    dict(arch="mlp", hidden=(6,), activation="relu", bias=True),
    dict(arch="mlp", hidden=(6, 5), activation="tanh", bias=True),
    dict(arch="mlp", hidden=(5, 4, 3), activation="erf", bias=False),
    dict(arch="mlp", hidden=(7,), activation="relu", bias=True, train_readout=False),
]


def _work(ens):
    """The training loop's working layout: hidden weight matrices (K, fan_in, h)."""
    return {n: (p.transpose(1, 2).contiguous() if ens.arch != "linear" and n.startswith("w")
                and n != "w_out" else p.clone()) for n, p in ens.params.items()}


def _autograd(ens, work, X, y, loss, coef):
    ps = {n: work[n].clone().requires_grad_(n in ens.trainable) for n in work}
    L = pointwise_loss(ens._forward(X, ps, transposed=True), y, loss).mean(-1)
    gs = torch.autograd.grad((L * coef).sum(), [ps[n] for n in ens.trainable])
    return L.detach(), dict(zip(ens.trainable, gs))


@pytest.mark.parametrize("case,loss,shared", list(itertools.product(
    CASES, ["logistic", "mse", "hinge"], [True, False])))
def test_backward_matches_autograd(case, loss, shared):
    K, B, D = 3, 11, 7
    g = torch.Generator().manual_seed(1)
    ens = models.make_ensemble(n_members=K, input_dim=D, seeds=[1, 2, 3], dtype=F64,
                               init_scale=1.5, **case)
    for p in ens.params.values():  # nonzero biases, so their gradients are exercised too
        p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=F64))
    X = torch.randn((B, D) if shared else (K, B, D), generator=g, dtype=F64)
    y = torch.sign(torch.randn((B,) if shared else (K, B), generator=g, dtype=F64))
    coef = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    work = _work(ens)
    L_ref, g_ref = _autograd(ens, work, X, y, loss, coef)
    L, grads = descend(ens, work, X, y, loss, ens.trainable, coef=coef)
    torch.testing.assert_close(L, L_ref, rtol=1e-12, atol=1e-14)
    assert set(grads) == set(ens.trainable)
    for n in ens.trainable:
        torch.testing.assert_close(grads[n], g_ref[n], rtol=1e-10, atol=1e-12)
    # the fused form start - grad, into a separate buffer and in place
    for inplace in (False, True):
        starts = {n: work[n] + 1.0 for n in ens.trainable}
        base = {n: (s, s if inplace else torch.empty_like(s)) for n, s in starts.items()}
        expect = {n: work[n] + 1.0 - g_ref[n] for n in ens.trainable}
        _, new = descend(ens, work, X, y, loss, ens.trainable, coef=coef, base=base)
        for n in ens.trainable:
            torch.testing.assert_close(new[n], expect[n], rtol=1e-10, atol=1e-12)


def test_backward_float32_and_saturated_logistic():
    K, B, D = 2, 9, 5
    g = torch.Generator().manual_seed(2)
    ens = models.make_ensemble("mlp", K, D, hidden=(4,), seeds=[0, 1], init_scale=30.0)
    X = torch.randn(K, B, D, generator=g)
    y = torch.sign(torch.randn(K, B, generator=g))
    work = _work(ens)
    coef = torch.ones(K)
    L_ref, g_ref = _autograd(ens, work, X, y, "logistic", coef)
    L, grads = descend(ens, work, X, y, "logistic", ens.trainable)
    torch.testing.assert_close(L, L_ref)
    for n in ens.trainable:
        torch.testing.assert_close(grads[n], g_ref[n], rtol=1e-5, atol=1e-5)
