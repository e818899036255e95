"""Calibrate intrinsic-dimension estimators on the generators: sample each generator at each nominal
d and record what each estimator finds. The records show the estimators' bias as a function of d
(low at large d for kNN estimators, high for curved or noisy data; see manifolds.dimension).
"""
from __future__ import annotations

from typing import NamedTuple

from .base import check_int, check_seed
from .dimension import estimate_dimension
from .factory import make_manifold


class CalibrationRecord(NamedTuple):
    kind: str
    method: str
    nominal_dim: int
    estimated_dim: float


def calibrate(kinds, intrinsic_dims, ambient_dim: int, n: int, methods=("twonn",), seed: int = 0,
              noise: float = 0.0, options: dict | None = None) -> list[CalibrationRecord]:
    """For each kind and d: build ``make_manifold(kind, d, ambient_dim, noise, seed, **options[kind])``,
    draw n points with ``seed`` and estimate the dimension with each method. Returns one record per
    (kind, d, method), in that order."""
    if isinstance(kinds, str) or isinstance(methods, str):
        raise ValueError(f"kinds and methods must be sequences of names, got kinds={kinds!r}, methods={methods!r}")
    check_int("ambient_dim", ambient_dim)
    check_int("n", n)
    check_seed("seed", seed)
    options = options or {}
    records = []
    for kind in kinds:
        for d in intrinsic_dims:
            X, _ = make_manifold(kind, d, ambient_dim, noise=noise, seed=seed, **options.get(kind, {})).sample(n, seed=seed)
            for method in methods:
                records.append(CalibrationRecord(kind, method, int(d), estimate_dimension(X, method)))
    return records
