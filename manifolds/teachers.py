"""Teachers: label functions of the latent z or the ambient x (they belong to the data process).

A teacher is a callable ``teacher(inputs, seed=None) -> labels``; which coordinates it acts on is
decided by what the caller passes (Z for a latent teacher, X for an ambient one).
"""
from __future__ import annotations

import numpy as np

from .base import check_nonnegative


class PerceptronTeacher:
    """y = sign(u . v) with u ~ N(0, I) drawn from ``seed`` and normalised to |u|^2 = input_dim
    (the spherical convention of the statistical mechanics of learning).

    ``flip_prob`` flips each label independently with that probability (label noise); the flips
    are drawn from the ``seed`` passed at labelling time, so they are reproducible per sample.
    """

    def __init__(self, input_dim: int, seed: int = 0, flip_prob: float = 0.0):
        if isinstance(input_dim, bool) or not isinstance(input_dim, (int, np.integer)) or input_dim < 1:
            raise ValueError(f"input_dim must be an integer >= 1, got {input_dim!r}")
        flip_prob = check_nonnegative("flip_prob", flip_prob)
        if flip_prob > 0.5:
            raise ValueError(f"flip_prob must lie in [0, 0.5], got {flip_prob}")
        self.input_dim = int(input_dim)
        self.seed = int(seed)
        self.flip_prob = flip_prob
        u = np.random.default_rng(self.seed).standard_normal(self.input_dim)
        self.weights = u * np.sqrt(self.input_dim) / np.linalg.norm(u)

    def __call__(self, inputs: np.ndarray, seed: int | None = None) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=float)
        if inputs.ndim != 2 or inputs.shape[1] != self.input_dim:
            raise ValueError(
                f"inputs must have shape (n, {self.input_dim}), got {inputs.shape}"
            )
        y = np.where(inputs @ self.weights >= 0, 1.0, -1.0)
        if self.flip_prob > 0:
            if seed is None:
                raise ValueError("seed is required when flip_prob > 0 (label noise must be seeded)")
            flips = np.random.default_rng(seed).random(len(y)) < self.flip_prob
            y = np.where(flips, -y, y)
        return y
