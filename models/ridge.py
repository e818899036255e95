"""Ridge regression of linear students, solved exactly and batched over members.

beta_k = argmin 1/2 |y_k - X_k beta|^2 + reg_k/2 |beta|^2 over the coordinates kept by mask_k, i.e.
the normal equations (X_S^T X_S + reg I) beta_S = X_S^T y on the kept support S and beta = 0 off it
(the zero-temperature ground state of the Gibbs measure whose energy is the penalised summed squared
loss; Hastie, Tibshirani and Friedman, *The Elements of Statistical Learning*, sec. 3.4.1). reg = 0
gives the minimum-norm least-squares solution (the pseudo-inverse).

The solves run in float64 with numpy's batched LAPACK: torch's batched solve runs LAPACK inside its
own parallel loop, and the nested thread teams can spin for minutes on a small machine.
"""
from __future__ import annotations

import numpy as np
import torch

from .validation import check_member_data


def ridge_fit(X, y, reg, mask=None) -> torch.Tensor:
    """Batched ridge solutions, (K, D) float64 (pruned coordinates exactly zero).

    X: (K, P, D) per member or (P, D) shared; y: (K, P) or (P,); reg: (K,) >= 0; mask: (K, D) bool
    (True = kept) or None. A shared X is factorised once: one Gram matrix for every member."""
    reg = torch.as_tensor(reg, dtype=torch.float64).reshape(-1)
    K = reg.shape[0]
    shared = torch.as_tensor(X).dim() == 2
    X, y = check_member_data(X, y, K)
    if torch.any(~(reg >= 0)) or not torch.isfinite(reg).all():
        raise ValueError(f"reg must be finite and >= 0, got {reg.tolist()}")
    P, D = X.shape[-2:]
    m = torch.ones(K, D, dtype=X.dtype) if mask is None else torch.as_tensor(mask).reshape(K, D).to(X.dtype)
    beta = torch.zeros(K, D, dtype=X.dtype)
    pos = reg > 0
    if pos.any():
        Xp = X[pos]
        if shared:  # one data set for all members: one Gram matrix
            G = (X[0].T @ X[0]).expand(int(pos.sum()), -1, -1)
            b = (X[0].T @ y[pos].T).T
        else:
            G = Xp.transpose(1, 2) @ Xp
            b = (Xp.transpose(1, 2) @ y[pos].unsqueeze(-1)).squeeze(-1)
        mp = m[pos]
        A = G * mp.unsqueeze(1) * mp.unsqueeze(2) + reg[pos, None, None] * torch.eye(D, dtype=X.dtype)
        beta[pos] = torch.from_numpy(np.linalg.solve(A.numpy(), (b * mp).unsqueeze(-1).numpy())[..., 0])
    if (~pos).any():
        Xm = X[~pos] * m[~pos].unsqueeze(1)
        beta[~pos] = torch.from_numpy(np.linalg.pinv(Xm.numpy()) @ y[~pos].unsqueeze(-1).numpy())[..., 0] * m[~pos]
    return beta
