"""A frozen random multilayer perceptron from R^d to R^D as a generator: a smooth (or piecewise-linear)
d-dimensional manifold whose curvature is set by depth, activation and weight gain.

    a_0 = z ~ N(0, I_d),
    a_l = f(g W_l a_(l-1) / sqrt(n_(l-1))),  l = 1..depth,   W_l in R^(width x n_(l-1)), entries N(0, 1),
    x   = W_out a_depth / sqrt(width),                        W_out in R^(D x width),

all weights fixed by the generator's seed. This is the random-network construction of Poole et al.
("Exponential expressivity in deep neural networks through transient chaos", NeurIPS 2016): for
tanh/erf the gain g sets the order-to-chaos transition (g ~ 1 ordered, nearly flat; g >> 1 chaotic,
strongly curved). Using a frozen generator with a controlled latent of dimension d follows Pope et al.
("The intrinsic dimension of images and its impact on learning", ICLR 2021), who fix the latent
dimension of a GAN to control the dimension of its images.

With g = 1 every pre-activation has variance about 1 and every coordinate of x is O(1) (||x||^2 of
order D). width must be >= d: a narrower layer would lower the dimension of the image. A "sign"
activation makes the image discrete (a warning is issued); "linear" gives a random linear subspace.
"""
from __future__ import annotations

import warnings

import numpy as np

from .activations import DISCRETE_ACTIVATIONS, get_activation
from .base import Manifold, check_int, check_positive


class RandomMLPManifold(Manifold):
    """x = frozen random MLP(z); ``weights`` lists W_1..W_depth, W_out (each (fan_out, fan_in))."""

    def __init__(self, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0,
                 depth: int = 2, width: int = 256, activation: str = "tanh", gain: float = 1.0):
        self._store_common(intrinsic_dim, ambient_dim, noise, seed)
        self.depth = check_int("depth", depth, minimum=1)
        self.width = check_int("width", width, minimum=1)
        if self.width < self.intrinsic_dim:
            raise ValueError(
                f"width must be >= intrinsic_dim = {self.intrinsic_dim} (a narrower layer lowers the "
                f"manifold's dimension), got width={self.width}"
            )
        self._f = get_activation(activation)
        self.activation = activation
        if activation in DISCRETE_ACTIVATIONS:
            warnings.warn(
                f"activation={activation!r} makes the random-MLP image discrete (finitely many points)",
                stacklevel=2,
            )
        self.gain = check_positive("gain", gain)
        rng = np.random.default_rng(self.seed)
        fan_ins = [self.intrinsic_dim] + [self.width] * self.depth
        fan_outs = [self.width] * self.depth + [self.ambient_dim]
        self.weights = [rng.standard_normal((o, i)) for i, o in zip(fan_ins, fan_outs)]

    def _latent(self, n, rng):
        return rng.standard_normal((n, self.intrinsic_dim))

    def _embed(self, Z):
        a = Z
        for W in self.weights[:-1]:
            a = self._f(self.gain * a @ W.T / np.sqrt(W.shape[1]))
        W_out = self.weights[-1]
        return a @ W_out.T / np.sqrt(W_out.shape[1])
