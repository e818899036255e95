"""A d-dimensional linear subspace of R^D: the simplest manifold, and the one the theory solves.

x = A z (+ noise), z ~ N(0, I_d), A a D x d matrix with orthonormal columns drawn uniformly
(Haar) from the generator's seed. With ||A z||^2 = ||z||^2 the per-point squared norm is d, so
(1/D) E||x||^2 = d/D: the scale of the data shrinks with d/D, which students must absorb in their
weights; see theory.pruning for the consequences for magnitude pruning.
"""
from __future__ import annotations

import numpy as np

from .base import Manifold, random_orthonormal

__all__ = ["LinearManifold", "random_orthonormal"]


class LinearManifold(Manifold):
    """x = A z, z ~ N(0, I_d); ``embedding`` is A (D x d, orthonormal columns)."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        self.embedding = random_orthonormal(self.ambient_dim, self.intrinsic_dim, np.random.default_rng(self.seed))

    def _latent(self, n, rng):
        return rng.standard_normal((n, self.intrinsic_dim))

    def _embed(self, Z):
        return Z @ self.embedding.T
