"""Curvature of the training loss per member: Hessian-vector products, Hutchinson trace, top
eigenvalue by power iteration.

The loss is the mean training loss of each member on (X, y) (plus weight_decay/2 |w|^2 if given),
differentiated with respect to the member's trainable params (``ens.trainable``). With ``masks``,
the Hessian is that of the pruned model: restricted to the kept coordinates (H_sub = M H M).

All members are handled at once: the summed loss sum_k L_k has a block-diagonal Hessian, so one
Hessian-vector product of the sum applied to the stacked vectors (v_1, ..., v_K) returns
(H_1 v_1, ..., H_K v_K). The product is reverse-over-reverse: ``torch.func.vjp`` of
``torch.func.grad``, whose pullback is built once and reused for every vector (H is symmetric, so
v^T H = (H v)^T); batches of Hutchinson vectors go through it at once with ``torch.func.vmap``.

- Trace: Hutchinson's estimator tr H = E[v^T H v] with Rademacher v (Hutchinson 1990; Avron &
  Toledo 2011), averaged over ``n_samples`` vectors.
- Top eigenvalue: power iteration v <- H v / |H v| per member, reporting the Rayleigh quotient
  v^T H v; it converges to the eigenvalue of largest magnitude (Yao et al. 2020, PyHessian).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import grad, vjp, vmap

from .ensemble import Ensemble
from .losses import LOSSES, pointwise_loss
from .training import check_masks, prepare_data
from .validation import check_choice, check_int


def _setup(ens, X, y, loss, params, masks, weight_decay):
    loss = check_choice("loss", loss, LOSSES)
    X, y = prepare_data(ens, X, y)
    masks = check_masks(ens, masks)
    params = ens.params if params is None else params
    names = ens.trainable
    fixed = {n: p.detach() for n, p in params.items() if n not in names}
    wd = float(weight_decay)

    def total_loss(train_params):
        allp = {**fixed, **train_params}
        value = pointwise_loss(ens._forward(X, allp), y, loss).mean(-1).sum()
        if wd:
            value = value + 0.5 * wd * sum(p.pow(2).sum() for p in train_params.values())
        return value

    point = {n: params[n].detach() for n in names}
    mask = {n: masks[n].to(params[n].dtype) for n in names if n in masks}
    return total_loss, point, mask


def _hvp_fn(total_loss, point, mask):
    _, pullback = vjp(grad(total_loss), point)

    def hvp(v):
        v = {n: t * mask[n] if n in mask else t for n, t in v.items()}
        out = pullback(v)[0]
        return {n: t * mask[n] if n in mask else t for n, t in out.items()}
    return hvp


def _dot(a, b) -> torch.Tensor:
    """Per-member inner product of two param dicts: (K,)."""
    return sum((a[n] * b[n]).reshape(a[n].shape[0], -1).sum(1) for n in a)


def hessian_vector_product(ens: Ensemble, X, y, vectors: dict, loss: str = "logistic", params=None,
                           masks=None, weight_decay: float = 0.0) -> dict[str, torch.Tensor]:
    """H_k v_k for every member: ``vectors`` and the result are dicts over ``ens.trainable``."""
    total_loss, point, mask = _setup(ens, X, y, loss, params, masks, weight_decay)
    return _hvp_fn(total_loss, point, mask)({n: vectors[n] for n in point})


def hessian_trace(ens: Ensemble, X, y, loss: str = "logistic", n_samples: int = 100,
                  seed: int = 0, params=None, masks=None, weight_decay: float = 0.0,
                  batch: int = 32) -> np.ndarray:
    """Hutchinson estimate of tr H per member: (K,) numpy float64 (see the module docstring).
    Rademacher vectors from ``torch.Generator().manual_seed(seed)``, ``batch`` at a time."""
    n_samples = check_int("n_samples", n_samples, 1)
    batch = check_int("batch", batch, 1)
    total_loss, point, mask = _setup(ens, X, y, loss, params, masks, weight_decay)
    hvps = vmap(_hvp_fn(total_loss, point, mask))
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    acc = torch.zeros(ens.n_members, dtype=torch.float64)
    done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        v = {n: (torch.randint(0, 2, (b,) + p.shape, generator=gen) * 2 - 1).to(p)
             for n, p in point.items()}
        v = {n: t * mask[n] if n in mask else t for n, t in v.items()}
        hv = hvps(v)
        acc += sum((v[n] * hv[n]).reshape(b, ens.n_members, -1).sum((0, 2)) for n in v
                   ).double().cpu()
        done += b
    return (acc / n_samples).numpy()


def hessian_top_eigenvalue(ens: Ensemble, X, y, loss: str = "logistic", n_iter: int = 100,
                           tol: float = 1e-6, seed: int = 0, params=None, masks=None,
                           weight_decay: float = 0.0) -> np.ndarray:
    """Eigenvalue of largest magnitude of H per member by power iteration: (K,) numpy float64.

    Stops after ``n_iter`` iterations or when every member's Rayleigh quotient changed by less than
    ``tol`` (relative) in one iteration. Start vector: N(0, I) from ``seed``."""
    n_iter = check_int("n_iter", n_iter, 1)
    total_loss, point, mask = _setup(ens, X, y, loss, params, masks, weight_decay)
    hvp = _hvp_fn(total_loss, point, mask)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    v = {n: torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p) for n, p in point.items()}
    v = {n: t * mask[n] if n in mask else t for n, t in v.items()}

    def normalise(u):
        norm = _dot(u, u).sqrt()
        norm = torch.where(norm > 0, norm, 1.0)
        return {n: t / norm.view((-1,) + (1,) * (t.dim() - 1)) for n, t in u.items()}

    v = normalise(v)
    eig = None
    for _ in range(n_iter):
        hv = hvp(v)
        new = _dot(v, hv)
        v = normalise(hv)
        if eig is not None and torch.all((new - eig).abs() <= tol * new.abs().clamp_min(1e-30)):
            eig = new
            break
        eig = new
    return eig.double().cpu().numpy()
