"""The common interface of every generator: a manifold of known intrinsic dimension in R^D.

A generator is constructed from numbers only (scikit-learn style: the constructor validates and
stores its parameters) and draws its fixed random embedding from its own ``seed``. ``sample(n, seed)``
draws latent coordinates Z from the generator's latent law with a separate seed and maps them to
ambient points X, so train and test sets drawn with different seeds lie on the same manifold.

This module also holds the small validators every generator and teacher uses: each error message
names the argument, the bad value and what is allowed.
"""
from __future__ import annotations

import numpy as np


def check_int(name: str, value, minimum: int = 1) -> int:
    """An integer >= minimum (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_dims(intrinsic_dim: int, ambient_dim: int) -> None:
    """Validate a (d, D) pair; the message names the argument, the value and what is allowed."""
    check_int("intrinsic_dim", intrinsic_dim)
    check_int("ambient_dim", ambient_dim)
    if intrinsic_dim > ambient_dim:
        raise ValueError(
            f"intrinsic_dim must be <= ambient_dim, got intrinsic_dim={intrinsic_dim} > ambient_dim={ambient_dim}"
        )


def check_nonnegative(name: str, value: float) -> float:
    """A finite real number >= 0."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def check_positive(name: str, value: float) -> float:
    """A finite real number > 0."""
    value = check_nonnegative(name, value)
    if value == 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def check_choice(name: str, value, allowed) -> str:
    """One of a fixed set of names."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_seed(name: str, value) -> int:
    """A seed for ``np.random.default_rng``: an integer >= 0."""
    return check_int(name, value, minimum=0)


def check_n(n: int) -> int:
    return check_int("n", n, minimum=1)


def random_orthonormal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A rows x cols matrix with orthonormal columns, Haar-distributed: QR of a Gaussian matrix with
    the signs of R's diagonal moved into Q (Mezzadri, Notices AMS 54, 2007)."""
    G = rng.standard_normal((rows, cols))
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diag(R))


class Manifold:
    """Base class: subclasses call ``_store_common`` (or set ``intrinsic_dim``, ``ambient_dim``,
    ``noise``, ``seed`` themselves) and implement ``_latent(n, rng)`` and ``_embed(Z)``.

    ``latent_dim`` is the number of columns of Z; it equals ``intrinsic_dim`` except where the
    latent law is easier to write in more coordinates (the d-sphere's unit vectors in R^(d+1), the
    benchmark manifolds' native coordinates). A teacher acting on the latent takes ``latent_dim`` inputs.
    """

    intrinsic_dim: int
    ambient_dim: int
    noise: float
    seed: int

    def _store_common(self, intrinsic_dim, ambient_dim, noise, seed) -> None:
        check_dims(intrinsic_dim, ambient_dim)
        self.intrinsic_dim = int(intrinsic_dim)
        self.ambient_dim = int(ambient_dim)
        self.noise = check_nonnegative("noise", noise)
        self.seed = check_seed("seed", seed)

    @property
    def latent_dim(self) -> int:
        return self.intrinsic_dim

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw n points: returns ``(X, Z)`` with X of shape (n, ambient_dim) and Z of shape
        (n, latent_dim), the latent coordinates. Off-manifold isotropic Gaussian noise of standard
        deviation ``noise`` per ambient coordinate is added to X (never to Z)."""
        n = check_n(n)
        rng = np.random.default_rng(check_seed("seed", seed))
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
