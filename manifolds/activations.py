"""Pointwise activations shared by the hidden-manifold generator, the random-MLP generator and the
teachers, by name.

- ``"erf"`` is g(u) = erf(u / sqrt(2)), the convention of the soft committee machine
  (Saad & Solla, PRE 52, 4225, 1995; Biehl & Schwarze, J. Phys. A 28, 643, 1995): with u ~ N(0, 1)
  it has range (-1, 1) like tanh and closed-form Gaussian averages.
- ``"sign"`` maps onto {-1, 0, +1}: applied to the data it makes the data set discrete (finitely many
  sign patterns), so generators warn when it is chosen (Goldt et al., PRX 10, 041044, 2020, use it
  to show what discreteness does).
"""
from __future__ import annotations

import numpy as np
from scipy.special import erf

from .base import check_choice


def _erf(u):
    return erf(u / np.sqrt(2.0))


def _relu(u):
    return np.maximum(u, 0.0)


def _linear(u):
    return u


ACTIVATIONS = {
    "tanh": np.tanh,
    "erf": _erf,
    "relu": _relu,
    "sign": np.sign,
    "linear": _linear,
}
ACTIVATION_NAMES = tuple(ACTIVATIONS)
DISCRETE_ACTIVATIONS = ("sign",)


def get_activation(name: str, argname: str = "activation"):
    """The function called ``name``; ValueError naming ``argname`` for an unknown name."""
    check_choice(argname, name, ACTIVATION_NAMES)
    return ACTIVATIONS[name]
