"""The hidden manifold model (Goldt, Mezard, Krzakala & Zdeborova, "Modeling the influence of data
structure on learning in neural networks: the hidden manifold model", PRX 10, 041044, 2020).

    x = f(F z / sqrt(d)),   z ~ N(0, I_d),   F in R^(D x d) with i.i.d. N(0, 1) entries,

f applied coordinate-wise (their eq. 2, with their latent dimension D and input dimension N called
d and D here). F is fixed by the generator's seed. Each pre-activation F_i . z / sqrt(d) has
variance |z|^2 / d ~ 1, so every coordinate of x is O(1) and ||x||^2 is of order D (unlike
``LinearManifold``, where it is d). For smooth f the data lie on a d-dimensional manifold; for
f = sign they take finitely many values (a warning is issued), and the Gaussian-equivalence
theorem of the paper still applies to the labels but the intrinsic dimension is 0 at small scales.
"""
from __future__ import annotations

import warnings

import numpy as np

from .activations import DISCRETE_ACTIVATIONS, get_activation
from .base import Manifold


class HiddenManifold(Manifold):
    """x = f(F z / sqrt(d)); ``feature_matrix`` is F (D x d), ``activation`` the name of f."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0,
                 activation: str = "tanh"):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        self._f = get_activation(activation)
        self.activation = activation
        if activation in DISCRETE_ACTIVATIONS:
            warnings.warn(
                f"activation={activation!r} makes the hidden-manifold data discrete (finitely many "
                "points): intrinsic-dimension estimates and smooth-manifold theory do not apply",
                stacklevel=2,
            )
        self.feature_matrix = np.random.default_rng(self.seed).standard_normal((self.ambient_dim, self.intrinsic_dim))

    def _latent(self, n, rng):
        return rng.standard_normal((n, self.intrinsic_dim))

    def _embed(self, Z):
        return self._f(Z @ self.feature_matrix.T / np.sqrt(self.intrinsic_dim))
