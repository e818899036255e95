"""A d-dimensional Swiss roll: the classic 2-D roll (Tenenbaum, de Silva & Langford, Science 290,
2319, 2000; Roweis & Saul, Science 290, 2323, 2000) with d - 1 flat directions, in R^D by a random isometry.

    x = Q (t cos t, t sin t, h_1, ..., h_(d-1)),
    t uniform on [1.5 pi, 1.5 pi + 2 pi turns],   h_j uniform on [0, width],

Q in R^(D x (d+1)) with orthonormal columns, so D >= d + 1. With the defaults (turns = 1.5,
width = 21) and d = 2 this is the scikit-learn / Marsland roll. The rolled direction has arc length
(t^2 / 2 + ...) about 88 and curvature 1 / t; the law is uniform in t, hence not uniform in arc length
(density about 1 / t along the roll). Z holds (t, h_1, ..., h_(d-1)) (latent_dim = d).
For d = 1 the roll is the planar Archimedean spiral.
"""
from __future__ import annotations

import numpy as np

from .base import Manifold, check_positive, random_orthonormal

_T0 = 1.5 * np.pi


class RollManifold(Manifold):
    """A Swiss roll with ``turns`` turns and d - 1 flat directions of length ``width``."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0,
                 turns: float = 1.5, width: float = 21.0):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        if self.ambient_dim < self.intrinsic_dim + 1:
            raise ValueError(
                f"ambient_dim must be >= intrinsic_dim + 1 = {self.intrinsic_dim + 1} for a "
                f"{self.intrinsic_dim}-dimensional roll, got ambient_dim={self.ambient_dim}"
            )
        self.turns = check_positive("turns", turns)
        self.width = check_positive("width", width)
        self.embedding = random_orthonormal(self.ambient_dim, self.intrinsic_dim + 1, np.random.default_rng(self.seed))

    def _latent(self, n, rng):
        t = rng.uniform(_T0, _T0 + 2 * np.pi * self.turns, size=(n, 1))
        h = rng.uniform(0.0, self.width, size=(n, self.intrinsic_dim - 1))
        return np.hstack([t, h])

    def _embed(self, Z):
        t = Z[:, :1]
        rolled = np.hstack([t * np.cos(t), t * np.sin(t), Z[:, 1:]])
        return rolled @ self.embedding.T
