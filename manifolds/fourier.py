"""A random-Fourier-feature embedding of a Gaussian latent: a d-dimensional manifold on (near) the
unit sphere of R^D whose curvature is set by the kernel bandwidth.

    x_j = sqrt(2 / D) cos(w_j . z / l + b_j),  j = 1..D,   z ~ N(0, I_d),   l = bandwidth * sqrt(d),
    w_j ~ N(0, I_d),  b_j uniform on [0, 2 pi)   (fixed by the generator's seed),

the random features of Rahimi & Recht ("Random features for large-scale kernel machines", NeurIPS 2007):
x(z) . x(z') -> exp(-|z - z'|^2 / (2 l^2)) as D grows, so ||x||^2 ~ 1 and
|x(z) - x(z')|^2 ~ 2 (1 - exp(-|z - z'|^2 / (2 l^2))). Locally the embedding scales latent lengths by
1 / l; points further apart than a few l in the latent become nearly orthogonal, so the manifold
winds through ever more directions of R^D as the bandwidth l shrinks (curvature of order 1 / l in
latent units, the "crumpled" limit at small l). Large l gives a nearly flat (affine) manifold.
The length scale l is measured in units of the latent cloud's radius sqrt(d): two typical latent points
(|z - z'|^2 ~ 2d) then have kernel exp(-1 / bandwidth^2) whatever d, so ``bandwidth`` is a
dimension-free curvature knob (1: moderately curved; 0.3: strongly crumpled; >= 3: nearly flat).
Z is z (latent_dim = d).
"""
from __future__ import annotations

import numpy as np

from .base import Manifold, check_positive


class FourierManifold(Manifold):
    """x = sqrt(2/D) cos(W z / (bandwidth sqrt(d)) + b); ``frequencies`` is W (D x d), ``phases`` is b (D,)."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0,
                 bandwidth: float = 1.0):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        self.bandwidth = check_positive("bandwidth", bandwidth)
        rng = np.random.default_rng(self.seed)
        self.frequencies = rng.standard_normal((self.ambient_dim, self.intrinsic_dim))
        self.phases = rng.uniform(0.0, 2 * np.pi, size=self.ambient_dim)

    def _latent(self, n, rng):
        return rng.standard_normal((n, self.intrinsic_dim))

    def _embed(self, Z):
        scale = self.bandwidth * np.sqrt(self.intrinsic_dim)
        return np.sqrt(2.0 / self.ambient_dim) * np.cos(Z @ self.frequencies.T / scale + self.phases)
