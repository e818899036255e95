"""Prunability: the largest sparsity a model tolerates, read off an error-versus-sparsity curve.

Definition (docs/design.md): the largest sparsity s such that at every ladder point up to s the error
stays within ``tolerance`` of the dense error, interpolated linearly to the crossing. The curve is
taken to start at (0, dense_error). When no ladder point exceeds the tolerance the ladder's last
sparsity is returned and the value is *censored* (a longer ladder could give more): callers that
care use :func:`prunability_with_censoring`.

One definition serves both the measured curves of ``studies`` and the predicted ones of ``theory``.
"""
from __future__ import annotations

import numpy as np


def prunability_with_censoring(sparsity, error, dense_error: float, tolerance: float) -> tuple[float, bool]:
    """Return ``(prunability, censored)`` for one curve; see the module docstring.

    sparsity: increasing ladder in [0, 1); error: the (mean) error at each ladder point.
    """
    s = np.asarray(sparsity, dtype=float)
    e = np.asarray(error, dtype=float)
    if s.ndim != 1 or s.shape != e.shape or s.size == 0:
        raise ValueError(f"sparsity and error must be 1-D arrays of one length, got shapes {s.shape} and {e.shape}")
    if np.any((s < 0) | (s >= 1)):
        raise ValueError(f"sparsity must lie in [0, 1), got {s.tolist()}")
    if np.any(np.diff(s) <= 0):
        raise ValueError(f"sparsity must be strictly increasing, got {s.tolist()}")
    if not np.isfinite(dense_error):
        raise ValueError(f"dense_error must be finite, got {dense_error!r}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    if np.any(~np.isfinite(e)):
        raise ValueError("error contains NaN or inf: drop dead or diverged members before averaging")
    if s[0] > 0:
        s = np.concatenate([[0.0], s])
        e = np.concatenate([[dense_error], e])
    excess = e - dense_error - tolerance
    above = np.flatnonzero(excess > 0)
    if above.size == 0:
        return float(s[-1]), True
    i = int(above[0])
    if i == 0:
        return 0.0, False
    s0, s1, x0, x1 = s[i - 1], s[i], excess[i - 1], excess[i]
    return float(s0 + (s1 - s0) * (0.0 - x0) / (x1 - x0)), False


def prunability(sparsity, error, dense_error: float, tolerance: float) -> float:
    """The prunability of one curve (see :func:`prunability_with_censoring`)."""
    return prunability_with_censoring(sparsity, error, dense_error, tolerance)[0]


def prunability_batch(sparsity, errors, dense_error, tolerance) -> tuple[np.ndarray, np.ndarray]:
    """:func:`prunability_with_censoring` of many curves on one ladder at once (e.g. bootstrap resamples):
    ``errors`` (B, L), ``dense_error`` and ``tolerance`` scalars or (B,); returns ``(prunability, censored)``,
    two (B,) arrays equal, curve by curve, to the scalar function's."""
    s = np.asarray(sparsity, dtype=float)
    e = np.atleast_2d(np.asarray(errors, dtype=float))
    B = e.shape[0]
    dense = np.broadcast_to(np.asarray(dense_error, dtype=float), (B,))
    tol = np.broadcast_to(np.asarray(tolerance, dtype=float), (B,))
    if s.ndim != 1 or e.shape[1] != s.size or s.size == 0:
        raise ValueError(f"errors must have shape (curves, {s.size}) to match sparsity, got {e.shape}")
    if np.any((s < 0) | (s >= 1)) or np.any(np.diff(s) <= 0):
        raise ValueError(f"sparsity must be strictly increasing in [0, 1), got {s.tolist()}")
    if not (np.all(np.isfinite(dense)) and np.all(np.isfinite(tol)) and np.all(tol >= 0)):
        raise ValueError("dense_error and tolerance must be finite, tolerance >= 0")
    if np.any(~np.isfinite(e)):
        raise ValueError("errors contain NaN or inf: drop dead or diverged members before averaging")
    if s[0] > 0:
        s = np.concatenate([[0.0], s])
        e = np.concatenate([dense[:, None], e], axis=1)
    excess = e - dense[:, None] - tol[:, None]
    above = excess > 0
    censored = ~above.any(axis=1)
    i = np.where(censored, 0, above.argmax(axis=1))
    prev = np.maximum(i - 1, 0)
    rows = np.arange(B)
    x0, x1 = excess[rows, prev], excess[rows, i]
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = s[prev] + (s[i] - s[prev]) * (0.0 - x0) / (x1 - x0)
    out = np.where(censored, s[-1], np.where(i == 0, 0.0, cross))
    return out.astype(float), censored
