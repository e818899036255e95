"""Generators of data on controlled low-dimensional manifolds, teachers acting on them, and
intrinsic-dimension estimation."""
from .base import Manifold
from .linear import LinearManifold
from .teachers import PerceptronTeacher

__all__ = ["Manifold", "LinearManifold", "PerceptronTeacher"]
