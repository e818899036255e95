"""The flat d-torus (a product of d circles of radius r), placed in R^D by a random isometry.

    x = r Q (cos t_1, sin t_1, ..., cos t_d, sin t_d),   t_i uniform on [0, 2 pi),

Q in R^(D x 2d) with orthonormal columns. This is the Clifford-type torus: flat (zero intrinsic
curvature), no boundary, each circle with extrinsic curvature 1 / r; the uniform law on the angles is
the Riemannian volume measure. A d-torus embedded this way needs 2d ambient coordinates, so D >= 2d.
Z holds the angles t (latent_dim = d). ||x||^2 = d r^2 for every point.

The torus is compact with period 2 pi in each angle: with n points there are about n^(1/d) points
per circle (under 3 for n = 4000, d = 8), so nearest neighbours are not local and kNN estimators
overestimate d (TwoNN, n = 4000: +10% at d = 8, +25% at d = 16); the radius cannot change this.
"""
from __future__ import annotations

import numpy as np

from .base import Manifold, check_positive, random_orthonormal


class TorusManifold(Manifold):
    """Uniform points on the flat d-torus of circle ``radius`` r in R^D; ``embedding`` is Q (D x 2d)."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0,
                 radius: float = 1.0):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        if self.ambient_dim < 2 * self.intrinsic_dim:
            raise ValueError(
                f"ambient_dim must be >= 2 * intrinsic_dim = {2 * self.intrinsic_dim} for a flat "
                f"{self.intrinsic_dim}-torus, got ambient_dim={self.ambient_dim}"
            )
        self.radius = check_positive("radius", radius)
        self.embedding = random_orthonormal(self.ambient_dim, 2 * self.intrinsic_dim, np.random.default_rng(self.seed))

    def _latent(self, n, rng):
        return rng.uniform(0.0, 2 * np.pi, size=(n, self.intrinsic_dim))

    def _embed(self, Z):
        circle = np.empty((len(Z), 2 * self.intrinsic_dim))
        circle[:, 0::2] = np.cos(Z)
        circle[:, 1::2] = np.sin(Z)
        return self.radius * circle @ self.embedding.T
