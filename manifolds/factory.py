"""Build generators and teachers by name, from spec fields: the only way the study runner makes them.

``make_manifold(kind, intrinsic_dim, ambient_dim, noise, seed, **options)`` (a generator of
MANIFOLD_KINDS, or a finite data set of DATASET_KINDS, whose ambient_dim comes from the data: pass
None) and
``make_teacher(kind, input_dim, seed, **options)``; an unknown kind or option raises a ValueError that
lists what is allowed. Options are the keyword arguments of the class's constructor beyond the
common ones (see each class's docstring).
"""
from __future__ import annotations

import inspect

from .benchmark import BenchmarkManifold
from .datasets import ArrayData, DigitsData
from .fourier import FourierManifold
from .hidden import HiddenManifold
from .linear import LinearManifold
from .random_mlp import RandomMLPManifold
from .roll import RollManifold
from .sphere import SphereManifold
from .teachers import PerceptronTeacher, RandomMLPTeacher, SoftCommitteeTeacher
from .torus import TorusManifold

MANIFOLD_CLASSES = {
    "linear": LinearManifold,
    "hidden": HiddenManifold,
    "sphere": SphereManifold,
    "torus": TorusManifold,
    "roll": RollManifold,
    "random_mlp": RandomMLPManifold,
    "fourier": FourierManifold,
    "benchmark": BenchmarkManifold,
}
MANIFOLD_KINDS = tuple(MANIFOLD_CLASSES)

# finite data sets (manifolds.datasets): drawn without replacement, ambient_dim from the data
DATASET_CLASSES = {
    "digits": DigitsData,
    "file": ArrayData,
}
DATASET_KINDS = tuple(DATASET_CLASSES)

TEACHER_CLASSES = {
    "perceptron": PerceptronTeacher,
    "committee": SoftCommitteeTeacher,
    "random_mlp": RandomMLPTeacher,
}
TEACHER_KINDS = tuple(TEACHER_CLASSES)

_MANIFOLD_COMMON = ("intrinsic_dim", "ambient_dim", "noise", "seed")
_TEACHER_COMMON = ("input_dim", "seed")


def options_of(cls, common=()) -> tuple[str, ...]:
    """The keyword options of ``cls``'s constructor beyond ``common``."""
    params = inspect.signature(cls.__init__).parameters
    return tuple(p for p in params if p != "self" and p not in common)


def _check_options(what: str, kind: str, cls, options: dict, common) -> None:
    allowed = options_of(cls, common)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for {what} kind {kind!r}; "
            f"allowed: {', '.join(allowed) if allowed else '(none)'}"
        )


def make_manifold(kind: str, intrinsic_dim: int, ambient_dim: int, noise: float = 0.0, seed: int = 0, **options):
    """The generator ``kind`` (one of MANIFOLD_KINDS, or a data set of DATASET_KINDS) with its options."""
    cls = MANIFOLD_CLASSES.get(kind) or DATASET_CLASSES.get(kind)
    if cls is None:
        raise ValueError(f"kind must be one of {', '.join(MANIFOLD_KINDS + DATASET_KINDS)}; got {kind!r}")
    _check_options("manifold", kind, cls, options, _MANIFOLD_COMMON)
    return cls(intrinsic_dim, ambient_dim, noise=noise, seed=seed, **options)


def is_dataset(kind: str) -> bool:
    """Whether ``kind`` names a finite data set (train and test drawn without replacement)."""
    return kind in DATASET_CLASSES


def make_teacher(kind: str, input_dim: int, seed: int = 0, **options):
    """The teacher ``kind`` (one of TEACHER_KINDS) with its options (task, flip_prob, output_noise, ...)."""
    if kind not in TEACHER_CLASSES:
        raise ValueError(f"kind must be one of {', '.join(TEACHER_KINDS)}; got {kind!r}")
    cls = TEACHER_CLASSES[kind]
    _check_options("teacher", kind, cls, options, _TEACHER_COMMON)
    return cls(input_dim, seed=seed, **options)
