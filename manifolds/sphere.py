"""The round d-sphere of radius r, placed in R^D by a random isometry.

    x = r Q u,   u uniform on S^d = {u in R^(d+1): |u| = 1},   Q in R^(D x (d+1)) orthonormal columns.

u is drawn as g / |g| with g ~ N(0, I_(d+1)) (Muller, Comm. ACM 2, 1959). A d-sphere needs d + 1
ambient coordinates, so D >= d + 1. Z is u itself (latent_dim = d + 1: a chart-free parametrisation);
``Q.T x / r`` recovers it. The sphere has constant sectional curvature 1 / r^2 and no boundary,
which makes it the cleanest curved test case for intrinsic-dimension estimators.
"""
from __future__ import annotations

import numpy as np

from .base import Manifold, check_positive, random_orthonormal


class SphereManifold(Manifold):
    """Uniform points on the d-sphere of ``radius`` r in R^D; ``embedding`` is Q (D x (d+1))."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0,
                 radius: float = 1.0):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        if self.ambient_dim < self.intrinsic_dim + 1:
            raise ValueError(
                f"ambient_dim must be >= intrinsic_dim + 1 = {self.intrinsic_dim + 1} for a "
                f"{self.intrinsic_dim}-sphere, got ambient_dim={self.ambient_dim}"
            )
        self.radius = check_positive("radius", radius)
        self.embedding = random_orthonormal(self.ambient_dim, self.intrinsic_dim + 1, np.random.default_rng(self.seed))

    @property
    def latent_dim(self) -> int:
        return self.intrinsic_dim + 1

    def _latent(self, n, rng):
        g = rng.standard_normal((n, self.intrinsic_dim + 1))
        return g / np.linalg.norm(g, axis=1, keepdims=True)

    def _embed(self, Z):
        return self.radius * Z @ self.embedding.T
