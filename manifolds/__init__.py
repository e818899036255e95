"""Generators of data on controlled low-dimensional manifolds, teachers acting on them, and
intrinsic-dimension estimation.

Generators (one API: ``.intrinsic_dim``, ``.ambient_dim``, ``.noise``, ``.seed``, ``.latent_dim``,
``.sample(n, seed) -> (X, Z)``; the embedding is fixed by the generator's seed) and the scale of their
points, noise 0:

    kind        class               ||x||^2            Z
    linear      LinearManifold      ~ d                z ~ N(0, I_d)
    hidden      HiddenManifold      ~ D (O(1) coords)  z ~ N(0, I_d)
    sphere      SphereManifold      radius^2           unit vector in R^(d+1)
    torus       TorusManifold       d radius^2         angles in [0, 2 pi)^d
    roll        RollManifold        ~ 10^2 .. 10^3     (roll angle t, flat coordinates)
    random_mlp  RandomMLPManifold   ~ D (O(1) coords)  z ~ N(0, I_d)
    fourier     FourierManifold     ~ 1                z ~ N(0, I_d)
    benchmark   BenchmarkManifold   benchmark's own    native benchmark point

Build them with ``make_manifold(kind, intrinsic_dim, ambient_dim, noise, seed, **options)`` and teachers
with ``make_teacher(kind, input_dim, seed, **options)``; estimate dimensions with
``estimate_dimension(X, method)`` and ``calibrate(...)``.
"""
from .base import Manifold
from .benchmark import BENCHMARK_NAMES, BenchmarkManifold
from .calibration import CalibrationRecord, calibrate
from .dimension import DIMENSION_METHODS, check_data, estimate_dimension
from .factory import MANIFOLD_KINDS, TEACHER_KINDS, make_manifold, make_teacher
from .fourier import FourierManifold
from .hidden import HiddenManifold
from .linear import LinearManifold
from .random_mlp import RandomMLPManifold
from .roll import RollManifold
from .sphere import SphereManifold
from .teachers import PerceptronTeacher, RandomMLPTeacher, SoftCommitteeTeacher, Teacher
from .torus import TorusManifold
from .activations import ACTIVATION_NAMES

__all__ = [
    "Manifold", "LinearManifold", "HiddenManifold", "SphereManifold", "TorusManifold", "RollManifold",
    "RandomMLPManifold", "FourierManifold", "BenchmarkManifold", "BENCHMARK_NAMES",
    "Teacher", "PerceptronTeacher", "SoftCommitteeTeacher", "RandomMLPTeacher",
    "make_manifold", "MANIFOLD_KINDS", "make_teacher", "TEACHER_KINDS", "ACTIVATION_NAMES",
    "estimate_dimension", "DIMENSION_METHODS", "check_data", "calibrate", "CalibrationRecord",
]
