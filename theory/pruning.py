"""Closed forms for pruning a learned linear / perceptron student, and the prunability they predict.

Conventions
-----------
* A sign classifier y = sign(w.x) on isotropic Gaussian inputs, with teacher u, has test error
  ``arccos(R) / pi`` with R the cosine between w and u (Engel & Van den Broeck 2001, eq. 1.3).
* keep (kappa) = density = 1 - sparsity: the fraction of the prunable weights left non-zero.
* Magnitude pruning is one-shot and global: keep the fraction kappa of the coordinates with the
  largest |w_i| and zero the others, without retraining.
* Prunability follows docs/design.md: the largest sparsity s at which the test error stays within
  ``tolerance`` of the dense error (absolute; default 0.005).

Gaussian truncated second moment
--------------------------------
For w_i i.i.d. N(0, sigma^2), keeping the fraction kappa of largest |w_i| (threshold
t = Phi^{-1}(1 - kappa/2)) keeps the fraction

    q(kappa) = E[g^2 1{|g| > t}] = kappa + 2 t phi(t)

of |w|^2 (phi, Phi: standard normal density and distribution function). q(1) = 1, q(0) = 0, q is
increasing and concave and q(kappa) >= kappa.

Rotation-invariant learner, i.i.d. Gaussian teacher (N coordinates, N -> infinity)
---------------------------------------------------------------------------------
w = R u_hat + sqrt(1 - R^2) n with n isotropic and orthogonal to u: the pairs (w_i, u_i) are
jointly Gaussian with correlation R, so E[w_i u_i 1{|w_i| > t}] = R q and E[w_i^2 1{...}] = q:

    magnitude pruning:            R' = R sqrt(q(kappa))
    random pruning:               R' = R sqrt(kappa)
    best retrained on the kept support S (the projection of u on S):
        magnitude support:        R'' = sqrt(R^2 q + (1 - R^2) kappa)
        random support:           R'' = sqrt(kappa)
        oracle (teacher) support: R'' = sqrt(q)

Data on a d-dimensional linear subspace of R^D
----------------------------------------------
x = A z, A (D x d) Haar with orthonormal columns, z ~ N(0, I_d), teacher y = sign(u.z). A linear
student trained by gradient descent from zero lives in the column space: w = A v, and its error is
arccos(R)/pi with R = cos(v, u). For a given v, w = A v is uniform on the sphere of radius |v| in
R^D, so its coordinates are asymptotically i.i.d. Gaussian. Magnitude pruning gives w' = q w + xi
with xi orthogonal to w and |xi|^2 = q (1 - q) |w|^2. Given w, the other d - 1 columns of A span a
uniform (d-1)-subspace of w's orthogonal complement, so eta = A^T xi is orthogonal to v with
E|eta|^2 = q (1 - q) |w|^2 (d - 1)/(D - 1). The pruned student v' = A^T w' = q v + eta has
cos(v', v) = 1 / sqrt(1 + (1 - q)/q * (d - 1)/(D - 1)), and since eta.u averages to zero,

    R' = R0 / sqrt(1 + (1 - q(kappa))/q(kappa) * (d - 1)/(D - 1)),   R0 = cos(pi * dense_error),
    error = arccos(R')/pi.

This is exact for R0 = 1 up to the Gaussian approximation of the coordinates (O(1/D)), and for
R0 < 1 it neglects the fluctuation of eta.u (relative size O(1/d)). At d = D it reduces to the
rotation-invariant formula R' = R0 sqrt(q); at d = 1 pruning never hurts.

With retraining on the kept support S the student computes v = A_S^T w_S, so it can represent every
linear function of z iff the rows A_S (|S| x d) span R^d, which holds for a generic (Haar) A iff |S| >= d.
The retrained prunability limit is therefore sparsity 1 - d/D (exactly, counting weights).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from . import _checks
from ._checks import scalar_or_array

__all__ = [
    "gaussian_kept_energy",
    "overlap_to_error",
    "error_to_overlap",
    "magnitude_overlap",
    "random_overlap",
    "retrained_overlap",
    "magnitude_error",
    "random_error",
    "subspace_magnitude_error",
    "subspace_retrained_limit",
    "predicted_prunability_one_shot",
    "prunability_from_error_function",
]


def gaussian_kept_energy(keep):
    """Fraction q of |w|^2 kept by keeping the fraction ``keep`` of largest-|w_i| Gaussian coordinates.

    q(kappa) = kappa + 2 t phi(t), t = Phi^{-1}(1 - kappa/2)  (Gaussian truncated second moment).
    Vectorised over keep in (0, 1].
    """
    kappa = _checks.keep_fraction(keep)
    t = stats.norm.isf(kappa / 2.0)  # Phi^{-1}(1 - kappa/2), accurate for small kappa
    q = kappa + 2.0 * t * stats.norm.pdf(t)
    q = np.where(kappa >= 1.0, 1.0, np.clip(q, 0.0, 1.0))
    return scalar_or_array(q, keep)


def overlap_to_error(R):
    """Test error arccos(R)/pi of a sign classifier with cosine R to its teacher (Gaussian inputs)."""
    R = _checks.overlap(R)
    return scalar_or_array(np.arccos(R) / np.pi, R)


def error_to_overlap(error):
    """Inverse of overlap_to_error: R = cos(pi * error), error in [0, 1/2]."""
    e = _checks.classification_error(error, "error")
    return scalar_or_array(np.cos(np.pi * e), error)


def magnitude_overlap(R, keep):
    """Overlap after one-shot magnitude pruning of a rotation-invariant student: R sqrt(q(keep)).

    Reference: this module's docstring (jointly Gaussian (w_i, u_i) with correlation R).
    """
    R = _checks.overlap(R)
    q = np.asarray(gaussian_kept_energy(keep))
    return scalar_or_array(R * np.sqrt(q), R, keep)


def random_overlap(R, keep):
    """Overlap after pruning a uniformly random fraction 1 - keep of the weights: R sqrt(keep)."""
    R = _checks.overlap(R)
    kappa = _checks.keep_fraction(keep)
    return scalar_or_array(R * np.sqrt(kappa), R, keep)


def retrained_overlap(R, keep, support: str = "magnitude"):
    """Best overlap a student restricted to the kept support can reach (retraining, infinite data).

    It is |u_S| / |u|, the norm of the teacher's projection on the support:
    ``support="magnitude"`` (support chosen by the student's magnitudes): sqrt(R^2 q + (1 - R^2) keep);
    ``"random"``: sqrt(keep); ``"oracle"`` (the teacher's own largest coordinates): sqrt(q).
    """
    R = _checks.overlap(R)
    kappa = _checks.keep_fraction(keep)
    q = np.asarray(gaussian_kept_energy(keep))
    if support == "magnitude":
        out = np.sqrt(R**2 * q + (1.0 - R**2) * kappa)
    elif support == "random":
        out = np.sqrt(kappa) + 0.0 * R
    elif support == "oracle":
        out = np.sqrt(q) + 0.0 * R
    else:
        raise ValueError(f"support must be one of 'magnitude', 'random', 'oracle', got {support!r}")
    return scalar_or_array(out, R, keep)


def magnitude_error(dense_error, keep):
    """Test error after one-shot magnitude pruning of a rotation-invariant student with error dense_error."""
    R0 = np.cos(np.pi * _checks.classification_error(dense_error, "dense_error"))
    q = np.asarray(gaussian_kept_energy(keep))
    return scalar_or_array(np.arccos(np.clip(R0 * np.sqrt(q), -1, 1)) / np.pi, dense_error, keep)


def random_error(dense_error, keep):
    """Test error after random pruning (no retraining) of a student with error dense_error."""
    R0 = np.cos(np.pi * _checks.classification_error(dense_error, "dense_error"))
    kappa = _checks.keep_fraction(keep)
    return scalar_or_array(np.arccos(np.clip(R0 * np.sqrt(kappa), -1, 1)) / np.pi, dense_error, keep)


def subspace_magnitude_error(intrinsic_dim, ambient_dim, keep, dense_error=0.0):
    """Test error after one-shot global magnitude pruning of a linear student on a d-dim subspace of R^D.

    error = arccos(R')/pi,  R' = R0 / sqrt(1 + (1 - q)/q * (d - 1)/(D - 1)),  R0 = cos(pi dense_error),
    q = gaussian_kept_energy(keep). Derivation in the module docstring (large D, fixed d/D).
    Vectorised (broadcast) over intrinsic_dim, ambient_dim, keep and dense_error.
    """
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    R0 = np.cos(np.pi * _checks.classification_error(dense_error, "dense_error"))
    q = np.asarray(gaussian_kept_energy(keep), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(D > 1, (d - 1.0) / np.maximum(D - 1.0, 1e-300), 0.0)
        Rp = R0 / np.sqrt(1.0 + (1.0 - q) / q * ratio)
    Rp = np.where(q > 0, Rp, 0.0)
    return scalar_or_array(np.arccos(np.clip(Rp, -1.0, 1.0)) / np.pi, intrinsic_dim, ambient_dim, keep, dense_error)


def subspace_retrained_limit(intrinsic_dim, ambient_dim):
    """Largest sparsity at which a retrained linear student on a d-dim subspace of R^D is still exact.

    Keeping k coordinates S, the retrained student is v = A_S^T w_S: every v in R^d is reachable iff
    rank(A_S) = d, which for Haar A holds (with probability 1) iff k >= d. Hence sparsity 1 - d/D.
    """
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    return scalar_or_array(1.0 - d / D, intrinsic_dim, ambient_dim)


def _prunability_one(d, D, e0, tol):
    if tol <= 0.0:
        return 0.0
    target = e0 + tol
    if target >= 0.5 or d <= 1.0:
        return 1.0  # the error never leaves the tolerance band (at d = 1 pruning never hurts)

    def excess(s):
        return float(subspace_magnitude_error(d, D, 1.0 - s, e0)) - target

    s_hi = 1.0 - 1e-15
    if excess(s_hi) <= 0.0:
        return 1.0
    # excess(0) = -tol < 0 and the error increases with sparsity: a single crossing.
    return float(optimize.brentq(excess, 0.0, s_hi, xtol=1e-13, rtol=1e-13))


def predicted_prunability_one_shot(intrinsic_dim, ambient_dim, dense_error=0.0, tolerance=0.005):
    """Largest sparsity s with subspace_magnitude_error(keep=1-s) - dense_error <= tolerance.

    docs/design.md's prunability for one-shot magnitude pruning (no retraining) of a linear student on a
    d-dimensional subspace of R^D. The error is increasing in s, so the crossing is unique (brentq).
    Returns 1.0 when the error never leaves the band (d = 1, or dense_error + tolerance >= 1/2).
    """
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    e0 = _checks.classification_error(dense_error, "dense_error")
    tol = _checks.nonnegative("tolerance", tolerance)
    b = np.broadcast_arrays(d, D, e0, tol)
    out = np.array([_prunability_one(*args) for args in zip(*(x.ravel() for x in b))]).reshape(b[0].shape)
    return scalar_or_array(out, intrinsic_dim, ambient_dim, dense_error, tolerance)


def prunability_from_error_function(error_of_sparsity, dense_error, tolerance=0.005, sparsities=None):
    """Prunability of a predicted error-versus-sparsity curve, evaluated on a sparsity ladder.

    Uses theory.prunability.prunability (docs/design.md's definition, linear interpolation to the
    crossing) so that a predicted curve and a measured one are scored the same way.
    ``error_of_sparsity`` maps an array of sparsities to errors; the default ladder is the geometric
    ladder of densities 0.8^k (k = 0..40, down to ~1.3e-4 density) with 0 prepended.
    """
    from .prunability import prunability  # the definition lives in one place

    if sparsities is None:
        sparsities = np.concatenate([[0.0], 1.0 - 0.8 ** np.arange(1, 41)])
    s = np.asarray(sparsities, dtype=float)
    errors = np.asarray(error_of_sparsity(s), dtype=float)
    return prunability(s, errors, float(dense_error), float(tolerance))
