"""The first layer of a network trained on data in a d-dimensional subspace of R^D: the component of its
initial weights orthogonal to the data is never trained, and what that means for magnitude pruning.

Setting: inputs x = A z in the column space of A (D x d, orthonormal columns); a first layer
h = W x / sqrt(D) with W (m x D) drawn i.i.d. N(0, sigma^2); any loss, any later layers. The gradient of
the loss with respect to W is a sum of terms delta_i x_i^T, whose rows lie in span(A). Gradient descent,
SGD, heavy-ball or Nesterov momentum and SAM (whose perturbed gradient has the same form) therefore
change only W P, P = A A^T, and

    W(t) (I - P) = W(0) (I - P)      at every step,

the first-layer form of what Elesedy, Kanade and Teh ("Lottery tickets in linear models: an analysis of
iterative magnitude pruning", arXiv:2007.08243, 2020) use for linear models trained by gradient flow:
the weights move only within the span of the data.

The frozen part W (I - P) never changes the output (W x = W P x): it is free to prune, but magnitude
pruning cannot see it, because every coordinate w_ji mixes it with the trained part. (Weight decay
shrinks it by (1 - lr lambda) per step; Langevin noise and off-span input noise move it: outside the
domain.)

Fraction of the squared first-layer norm off the span (``off_span_fraction``). At initialisation
E|W (I - P)|^2 = m (D - d) sigma^2 and E|W P|^2 = m d sigma^2: the fraction is 1 - d/D. If training
multiplies the squared on-span norm by g (the measured growth |W(t) P|^2 / |W(0) P|^2), the fraction is

    phi_off = (D - d) / (D - d + g d).

One-shot magnitude pruning of one unit's weights w in R^D (``span_overlap``), keeping the fraction
kappa of its largest |w_i|, with rho = |P w|^2 / |w|^2 its on-span fraction. What the unit computes on
the data depends on v = A^T w only. As in :mod:`theory.pruning`, for w with asymptotically i.i.d.
Gaussian coordinates the kept vector is w' = q w + xi, q = q(kappa) the Gaussian kept energy, xi
orthogonal to w with |xi|^2 = q (1 - q) |w|^2, and by the rotation invariance of (A, W(0)) given w the
span is a random subspace holding the unit vector P w / |P w|: its other d - 1 directions are uniform in
the complement of {w, P w}. Then E|A^T xi|^2 = |xi|^2 (d - rho) / (D - 1), the cross term averages to
zero, and the cosine between the pruned and the dense effective weights is

    cos(A^T w', A^T w) = 1 / sqrt(1 + (1 - q)/q * (d - rho) / ((D - 1) rho)).

Limits: rho = 1 (a unit trained from zero, entirely in the span: the linear student of theory.pruning)
gives (d - 1)/(D - 1); rho = d/D (an untrained unit) gives cos = sqrt(q), what pruning any random vector
keeps. The frozen part is what makes the difference: the smaller the on-span fraction rho, the more
magnitude pruning of the first layer acts like pruning at random, whatever d is.

Exact as D -> infinity at fixed d/D, kappa and rho (the Gaussian coordinate approximation, O(1/D)).
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .pruning import gaussian_kept_energy

__all__ = ["off_span_fraction", "span_overlap", "DOMAIN"]

DOMAIN = ("first layer of a network trained by (S)GD, momentum or SAM without weight decay or Langevin noise, on "
          "noiseless data in a linear subspace, from an i.i.d. Gaussian initialisation")


def off_span_fraction(intrinsic_dim, ambient_dim, growth=1.0):
    """Expected fraction of the squared first-layer weight norm orthogonal to the data span, after training
    has multiplied the squared on-span norm by ``growth`` (1: at initialisation, where it is 1 - d/D)."""
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    g = _checks.nonnegative("growth", growth)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(D - d + g * d > 0, (D - d) / (D - d + g * d), 0.0)
    return _checks.scalar_or_array(out, intrinsic_dim, ambient_dim, growth)


def span_overlap(keep, intrinsic_dim, ambient_dim, on_span_fraction):
    """Cosine between a unit's effective weights on the data span before and after one-shot magnitude
    pruning of its D input weights to the density ``keep`` (module docstring). ``on_span_fraction`` rho =
    |P w|^2 / |w|^2 in (0, 1]. Vectorised (broadcast)."""
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    rho = _checks.in_interval("on_span_fraction", on_span_fraction, 0.0, 1.0, closed_low=False, closed_high=True)
    q = np.asarray(gaussian_kept_energy(keep), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(D > 1, np.maximum(d - rho, 0.0) / (np.maximum(D - 1.0, 1e-300) * rho), 0.0)
        out = np.where(q > 0, 1.0 / np.sqrt(1.0 + (1.0 - q) / q * ratio), 0.0)
    return _checks.scalar_or_array(out, keep, intrinsic_dim, ambient_dim, on_span_fraction)
