"""Landscape and representation metrics per member: linear-mode-connectivity barrier and linear CKA.

LMC barrier (docs/design.md; Frankle et al. 2020): for two solutions w_a, w_b of member k,

    B = max_{t in grid} [ L((1 - t) w_a + t w_b) - ((1 - t) L(w_a) + t L(w_b)) ],

over ``n_points`` >= 11 evenly spaced t in [0, 1] (the endpoints included, so B >= 0); L is the
mean loss (or the error, ``metric="error"``) on (X, y). Positive means a barrier.

Mode connectivity (Zhou, Yang, Chang and Mahoney, ICML 2023, the three-regime paper's quantity): on
the same straight path at ``n_points`` >= 11 points, with L(t) the *training* error by default,

    mc = m - L(t*),   m = (L(0) + L(1)) / 2,   t* = argmax_t |m - L(t)|,

the endpoint mean minus the value of the path farthest from it (the endpoints included), signed:
negative means a barrier (the path is worse than its ends), positive a path better than its ends,
0 a flat path. Unlike the LMC barrier it is not measured against the chord, and it keeps its sign.
The endpoints are among the candidates (as in the paper's code), so ends that differ by g give
|mc| >= g / 2 even on a straight chord; ties go to the first point (t = 0).

Linear CKA (Kornblith et al. 2019, eq. for linear kernels): with A (n, p) and B (n, q) centred over
the n inputs, CKA = |B^T A|_F^2 / (|A^T A|_F |B^T B|_F). It is 1 for identical representations and
invariant to orthogonal transforms and isotropic scaling of either side. docs/design.md: on the scalar
output of a 2-class network it is nearly degenerate; use hidden layers.
"""
from __future__ import annotations

import numpy as np
import torch

from .ensemble import Ensemble
from .losses import LOSSES, pointwise_error, pointwise_loss
from .training import prepare_data
from .validation import check_choice, check_int


def interpolate(params_a: dict, params_b: dict, t: float) -> dict[str, torch.Tensor]:
    """(1 - t) params_a + t params_b, name by name."""
    return {n: torch.lerp(params_a[n], params_b[n], t) for n in params_a}


def lmc_barrier(ens: Ensemble, params_a: dict, params_b: dict, X, y, n_points: int = 11,
                loss: str = "logistic", metric: str = "loss", mask_dead: bool = True,
                return_curve: bool = False):
    """Barrier on the straight path between member k of ``params_a`` and member k of ``params_b``:
    (K,) numpy float64 (formula in the module docstring).

    metric: "loss" (the mean ``loss``) or "error". mask_dead: members whose output is constant on X
    at either endpoint (pruning cut every path) get NaN rather than a meaningless 0.
    return_curve: also return the t grid (n_points,) and L(t) as (n_points, K)."""
    loss = check_choice("loss", loss, LOSSES)
    metric = check_choice("metric", metric, ("loss", "error"))
    n_points = check_int("n_points", n_points, 11)
    for name, p in (("params_a", params_a), ("params_b", params_b)):
        if set(p) != set(ens.params) or any(p[n].shape != ens.params[n].shape for n in p):
            raise ValueError(f"{name} must have the names and shapes of ens.params")
    X, y = prepare_data(ens, X, y)
    fn = pointwise_loss if metric == "loss" else pointwise_error
    ts = np.linspace(0.0, 1.0, n_points)
    curve = []
    with torch.no_grad():
        for t in ts:
            f = ens._forward(X, interpolate(params_a, params_b, float(t)))
            curve.append(fn(f, y, loss).mean(-1).double().cpu().numpy())
            if t == 0.0:
                const_a = (f.max(-1).values == f.min(-1).values).cpu().numpy()
            if t == 1.0:
                const_b = (f.max(-1).values == f.min(-1).values).cpu().numpy()
    curve = np.stack(curve)  # (n_points, K)
    chord = (1 - ts)[:, None] * curve[0] + ts[:, None] * curve[-1]
    barrier = (curve - chord).max(0)
    if mask_dead:
        barrier = np.where(const_a | const_b, np.nan, barrier)
    return (barrier, ts, curve) if return_curve else barrier


def mode_connectivity(ens: Ensemble, params_a: dict, params_b: dict, X, y, n_points: int = 11,
                      loss: str = "logistic", metric: str = "error", mask_dead: bool = True,
                      return_curve: bool = False):
    """Signed mode connectivity between member k of ``params_a`` and of ``params_b`` on (X, y) (the
    training set, in the three-regime protocol): (K,) numpy float64, negative = a barrier (formula
    in the module docstring). metric: "error" (default, the paper's) or "loss". Members constant at
    either endpoint get NaN (mask_dead). return_curve: also the t grid and L(t), (n_points, K)."""
    barrier, ts, curve = lmc_barrier(ens, params_a, params_b, X, y, n_points=n_points, loss=loss,
                                     metric=metric, mask_dead=mask_dead, return_curve=True)
    mc = np.where(np.isnan(barrier), np.nan, mode_connectivity_of_curve(curve))
    return (mc, ts, curve) if return_curve else mc


def mode_connectivity_of_curve(curve) -> np.ndarray:
    """The signed mode connectivity of path values ``curve`` (n_points, K): endpoint mean minus the
    value farthest from it (module docstring)."""
    curve = np.asarray(curve, dtype=np.float64)
    mean = 0.5 * (curve[0] + curve[-1])
    dev = mean[None] - curve
    return dev[np.abs(dev).argmax(0), np.arange(curve.shape[1])]


def linear_cka(A, B) -> np.ndarray:
    """Linear CKA per member of representations A (K, n, p) and B (K, n, q) of the same n inputs:
    (K,) numpy float64; NaN where either side is constant over the inputs."""
    A = torch.as_tensor(A).to(torch.float64)
    B = torch.as_tensor(B).to(torch.float64)
    if A.dim() != 3 or B.dim() != 3 or A.shape[:2] != B.shape[:2]:
        raise ValueError(f"A and B must have shapes (K, n, p) and (K, n, q) with the same K and n, "
                         f"got {tuple(A.shape)} and {tuple(B.shape)}")
    A = A - A.mean(1, keepdim=True)
    B = B - B.mean(1, keepdim=True)
    n, p, q = A.shape[1], A.shape[2], B.shape[2]
    if p * q <= n * n:  # feature-space form
        cross = torch.linalg.matrix_norm(A.transpose(1, 2) @ B) ** 2
        na = torch.linalg.matrix_norm(A.transpose(1, 2) @ A)
        nb = torch.linalg.matrix_norm(B.transpose(1, 2) @ B)
    else:  # Gram form: tr(K_A K_B) with K = A A^T
        Ka, Kb = A @ A.transpose(1, 2), B @ B.transpose(1, 2)
        cross = (Ka * Kb).sum((1, 2))
        na, nb = torch.linalg.matrix_norm(Ka), torch.linalg.matrix_norm(Kb)
    denom = na * nb
    out = torch.where(denom > 0, cross / torch.where(denom > 0, denom, 1.0), torch.nan)
    return out.cpu().numpy()
