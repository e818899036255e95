"""Retraining on a kept support: what a linear student restricted to k of the D coordinates can
still learn when the data lie on a d-dimensional linear subspace.

Setting (as in :mod:`theory.pruning`): x = A z with A a D x d matrix with Haar-random orthonormal
columns, z ~ N(0, I_d), teacher y = sign(u . z). A student supported on a set S of k coordinates
computes w_S . x_S = (A_S^T w_S) . z, so it can realise exactly the latent directions in the row
space of A_S (k x d). For Haar A that row space is a uniformly random min(k, d)-dimensional subspace
of R^d (A_S has rank min(k, d) almost surely). Hence:

- k >= d: every latent direction is reachable; retraining can recover the dense student's
  overlap R0 = cos(pi * dense_error) (the prunability limit 1 - d/D of theory.pruning);
- k < d: the best reachable direction is the projection P u of the teacher on that subspace, with
  |P u|^2 / |u|^2 ~ Beta(k/2, (d-k)/2), mean k/d, concentrated for large d. We predict
  R = R0 * sqrt(k/d) (the dense student's estimation quality carried into the subspace).

The test error of a linear classifier with overlap R is arccos(R)/pi (Engel and Van den Broeck,
Statistical Mechanics of Learning, 2001, eq. 2.3). The k >= d branch is exact for infinite data;
the k < d branch is exact in the mean of R^2 for infinite data (R0 = 1).
"""
from __future__ import annotations

import numpy as np


def kept_weights(keep, ambient_dim: int) -> np.ndarray:
    """Number of kept weights k = round(keep * D), the rounding used by models' magnitude masks."""
    return np.rint(np.asarray(keep, dtype=float) * ambient_dim).astype(int)


def subspace_retrained_error(intrinsic_dim, ambient_dim: int, keep, dense_error=0.0):
    """Predicted test error of a linear student retrained on ``keep * D`` kept coordinates.

    Vectorised over ``intrinsic_dim``, ``keep`` and ``dense_error``.
    """
    d = np.asarray(intrinsic_dim, dtype=float)
    keep_arr = np.asarray(keep, dtype=float)
    e0 = np.asarray(dense_error, dtype=float)
    if np.any(d < 1) or np.any(d > ambient_dim):
        raise ValueError(f"intrinsic_dim must lie in [1, ambient_dim={ambient_dim}], got {intrinsic_dim}")
    if np.any((keep_arr <= 0) | (keep_arr > 1)):
        raise ValueError(f"keep must lie in (0, 1], got {keep}")
    if np.any((e0 < 0) | (e0 > 0.5)):
        raise ValueError(f"dense_error must lie in [0, 0.5], got {dense_error}")
    k = kept_weights(keep_arr, ambient_dim)
    reach = np.sqrt(np.minimum(k / d, 1.0))
    R = np.cos(np.pi * e0) * reach
    out = np.arccos(np.clip(R, -1.0, 1.0)) / np.pi
    return out if out.ndim else float(out)
