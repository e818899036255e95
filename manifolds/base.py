"""The common interface of every generator: a manifold of known intrinsic dimension in R^D.

A generator is constructed from numbers only (scikit-learn style: the constructor validates and
stores its parameters) and draws its fixed random embedding from its own ``seed``. ``sample(n, seed)``
draws latent coordinates Z from the generator's latent law with a separate seed and maps them to
ambient points X, so train and test sets drawn with different seeds lie on the same manifold.
"""
from __future__ import annotations

import numpy as np


def check_dims(intrinsic_dim: int, ambient_dim: int) -> None:
    """Validate a (d, D) pair; the message names the argument, the value and what is allowed."""
    for name, value in (("intrinsic_dim", intrinsic_dim), ("ambient_dim", ambient_dim)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value}")
    if intrinsic_dim > ambient_dim:
        raise ValueError(
            f"intrinsic_dim must be <= ambient_dim, got intrinsic_dim={intrinsic_dim} > ambient_dim={ambient_dim}"
        )


def check_nonnegative(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(n)


class Manifold:
    """Base class: subclasses set ``intrinsic_dim``, ``ambient_dim``, ``noise``, ``seed`` and
    implement ``_latent(n, rng)`` and ``_embed(Z)``."""

    intrinsic_dim: int
    ambient_dim: int
    noise: float
    seed: int

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw n points: returns ``(X, Z)`` with X of shape (n, ambient_dim) and Z the latent
        coordinates. Off-manifold isotropic Gaussian noise of standard deviation ``noise`` per
        ambient coordinate is added to X (never to Z)."""
        n = check_n(n)
        rng = np.random.default_rng(seed)
        Z = self._latent(n, rng)
        X = self._embed(Z)
        if self.noise > 0:
            X = X + self.noise * rng.standard_normal(X.shape)
        return X, Z

    def _latent(self, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _embed(self, Z: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(intrinsic_dim={self.intrinsic_dim}, ambient_dim={self.ambient_dim}, "
            f"noise={self.noise}, seed={self.seed})"
        )
