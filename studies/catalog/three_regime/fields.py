"""Trial and analysis fields of the ``three_regime`` study, and the checks of a trial."""
from __future__ import annotations

from dataclasses import dataclass

from ...sweep.spec import SpecError, field
from ...trials.data import check_data_fields
from ...trials.fields import DataFields, TrainingFields, check_training_fields, with_default


@dataclass
class ThreeRegimeTrial(TrainingFields, DataFields):
    ambient_dim: int = with_default(DataFields, "ambient_dim", 32)
    teacher: str = with_default(DataFields, "teacher", "committee")
    teacher_options: dict = with_default(DataFields, "teacher_options", {"n_hidden": 4})
    n_train: int = with_default(DataFields, "n_train", 1000)
    n_test: int = with_default(DataFields, "n_test", 2000)
    lr: float = with_default(TrainingFields, "lr", 0.1)
    batch_size: int | None = with_default(TrainingFields, "batch_size", 32)
    epochs: int = with_default(TrainingFields, "epochs", 40)
    hidden: int = field(32, "hidden width of the one-hidden-layer MLP student")
    activation: str = field("relu", "student activation", choices=("relu", "tanh", "erf"))
    densities: list[float] = field([0.5, 0.3, 0.2, 0.1, 0.05, 0.03], "the load axis: densities of the pruned model")
    retrain_seeds: int = field(2, "retrained members per density (>= 2: the LMC barrier and CKA are between them)")
    retrain_lr: float = field(0.05, "retraining learning rate (fixed across temperatures)")
    retrain_batch_size: int = field(32, "retraining batch size")
    retrain_epochs: int = field(20, "retraining epochs")
    lmc_points: int = field(11, "points on the straight path of the LMC barrier (>= 11)")


@dataclass
class ThreeRegimeAnalysis:
    barrier_threshold: float | None = field(None, "LMC test-loss barrier above which a point is poorly connected "
                                            "(Regime I); null: fitted as a change point of the data", low=0)
    cka_threshold: float | None = field(None, "CKA above which well-connected points are similar (II-B); null: fitted",
                                        low=0, high=1)
    significance: float = field(2.0, "|effect| / standard error needed to call the temperature effect's sign",
                                low=0, low_open=True)


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    check_data_fields(t)
    check_training_fields(t)
    if t["batch_size"] is None:
        raise SpecError("batch_size: the dense training is SGD here; set a batch size in [1, n_train]")
    for key in ("hidden", "retrain_epochs"):
        if t[key] < 1:
            raise SpecError(f"{key} must be >= 1, got {t[key]}")
    if not 1 <= t["retrain_batch_size"] <= t["n_train"]:
        raise SpecError(f"retrain_batch_size must lie in [1, n_train={t['n_train']}], got {t['retrain_batch_size']}")
    if t["retrain_seeds"] < 2:
        raise SpecError(f"retrain_seeds must be >= 2 (the barrier and CKA compare retrained members), got {t['retrain_seeds']}")
    if t["lmc_points"] < 11:
        raise SpecError(f"lmc_points must be >= 11 (the straight path needs at least 11 points), got {t['lmc_points']}")
    dens = t["densities"]
    if not dens or any(not 0 < x < 1 for x in dens) or len(set(dens)) != len(dens):
        raise SpecError(f"densities must be distinct values in (0, 1), got {dens}")
    if t["retrain_lr"] <= 0:
        raise SpecError(f"retrain_lr must be > 0, got {t['retrain_lr']}")
