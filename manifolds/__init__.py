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

Finite data sets (``manifolds.datasets``; train and test drawn without replacement, ``split``):

    digits      DigitsData          ~ D (standardised) the pixels themselves (no latent)
    file        ArrayData           the array's own    the points themselves

Build them with ``make_manifold(kind, intrinsic_dim, ambient_dim, noise, seed, **options)`` and teachers
with ``make_teacher(kind, input_dim, seed, **options)``; estimate dimensions with
``estimate_dimension(X, method)`` and ``calibrate(...)``.
"""
from .base import Manifold
from .benchmark import BENCHMARK_NAMES, BenchmarkManifold
from .calibration import CalibrationRecord, calibrate
from .dimension import DIMENSION_METHODS, check_data, check_dimension_options, estimate_dimension
from .datasets import ArrayData, Dataset, DigitsData
from .factory import DATASET_KINDS, MANIFOLD_KINDS, TEACHER_KINDS, is_dataset, make_manifold, make_teacher
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
    "Dataset", "DigitsData", "ArrayData", "DATASET_KINDS", "is_dataset",
    "make_manifold", "MANIFOLD_KINDS", "make_teacher", "TEACHER_KINDS", "ACTIVATION_NAMES",
    "estimate_dimension", "check_dimension_options", "DIMENSION_METHODS", "check_data", "calibrate", "CalibrationRecord",
]
