"""Trial and analysis fields of the ``intrinsic_dimension`` study, and the checks of a trial."""
from __future__ import annotations

from dataclasses import dataclass

import manifolds

from ...analysis.fields import BootstrapFields
from ...sweep.spec import SpecError, field
from ...trials.data import check_data_fields
from ...trials.fields import DataFields, TrainingFields, check_training_fields

DEFAULT_DENSITIES = [0.8, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.035, 0.025, 0.018, 0.013, 0.009, 0.006,
                     0.004, 0.003]
DEFAULT_LADDER = [round(1 - d, 6) for d in DEFAULT_DENSITIES]


@dataclass
class IntrinsicDimensionTrial(TrainingFields, DataFields):
    student: str = field("linear", "student architecture", choices=("linear", "mlp"))
    hidden: int = field(64, "hidden width of the mlp student")
    retrain_epochs: int = field(200, "epochs of retraining with the mask fixed (and of the dense control)")
    retrain_lr_scaling: str = field(
        "curvature", "retraining learning rate: lr (constant), lr / density (inverse_density), or lr times the "
        "ratio of the dense to the pruned top Hessian eigenvalue (curvature): the step keeps its ratio to the "
        "curvature, which shrinks with the fan-in of a pruned student",
        choices=("constant", "inverse_density", "curvature"))
    sparsities: list[float] = field(DEFAULT_LADDER, "increasing sparsity ladder in (0, 1)")
    prune_scope: str = field("global", "magnitude pruning scope", choices=("global", "layerwise"))
    dimension_method: str | None = field(
        "twonn", "estimator of the data's intrinsic dimension, one of manifolds.DIMENSION_METHODS ('none' or null: skip)")


@dataclass
class IntrinsicDimensionAnalysis(BootstrapFields):
    tolerance: float = field(0.005, "absolute test-error tolerance of prunability", low=0)


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    check_data_fields(t)
    check_training_fields(t)
    method = t["dimension_method"]
    if method not in (None, "none") and method not in manifolds.DIMENSION_METHODS:
        raise SpecError(f"dimension_method: {method!r} is not allowed; choose one of "
                        f"{', '.join(map(repr, manifolds.DIMENSION_METHODS))} or 'none'")
    if t["hidden"] < 1:
        raise SpecError(f"hidden must be >= 1, got {t['hidden']}")
    if t["retrain_epochs"] < 0:
        raise SpecError(f"retrain_epochs must be >= 0, got {t['retrain_epochs']}")
    s = t["sparsities"]
    if not s or any(not (0 < x < 1) for x in s) or any(b <= a for a, b in zip(s, s[1:])):
        raise SpecError(f"sparsities must be a non-empty increasing list in (0, 1), got {s}")
