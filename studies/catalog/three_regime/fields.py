"""Trial and analysis fields of the ``three_regime`` study, and the checks of a trial.

The defaults are the protocol of Zhou, Yang, Chang and Mahoney (ICML 2023; their public code,
``src/three_regime_taxonomy``) transposed to a teacher-student world, so that a spec setting only the
task and the axes gets a faithful run:

- dense training: SGD with heavy-ball momentum 0.9, the learning rate multiplied by 0.1 at half and
  three quarters of the run (their 160 epochs with decay at 80 and 120), mini-batches;
- temperature: the official knobs are the training epochs as checkpoints of ONE run with that
  schedule (``temperature_knob = "epochs"`` with ``run_epochs``: fewer epochs = hotter), the batch size
  at a fixed number of iterations (``"batch_size"`` with ``steps``) and the SAM radius; the learning
  rate and the Langevin temperature are offered too;
- pruning: one-shot magnitude pruning of the dense weights, layer-wise uniform (each hidden weight
  matrix pruned to the same density; ``prune_scope = "global"`` for one threshold over all);
- retraining: fine-tuning from the pruned weights with the mask fixed, the same momentum and
  schedule, as many epochs as the dense run, at a fixed learning rate for every temperature;
  ``retrain_seeds = 3`` members per pruned model (pairs [1,2], [1,3], [2,3]); several dense seeds
  (the spec's ``seeds``).

The task, chosen for two stated properties and not for the picture it gives: inputs on a hidden
manifold (Goldt et al. 2020) of intrinsic dimension 32 in 64 ambient dimensions, labels from a soft
committee of 8 erf units on the latent coordinates (clean), and a one-hidden-layer ReLU student of
width 64. (1) The student fits its 1000 training examples at the cold end (dense train error 0.1%
after 60 epochs at lr 2); (2) the load axis reaches a strongly loaded pruned model: at density 0.005
the best retrained test error is 1.8 times the best dense one, 1.45 times at 0.01. With intrinsic
dimension 16 the pruned error stayed within 1.1 times the dense error down to density 0.01.
Learning rates: 2 for the dense run and the retraining, a factor 2 below the largest rate at which
the dense student still fits (4, train error 0.6% after 60 epochs; at 8 it stays at 6%, at 16 it
collapses to chance): near the top of the stable range, as the paper's 0.1 is for its networks.
Weight decay is 0: the
students' weights are N(0, 1) with 1/sqrt(fan_in) in the forward pass, where the paper's 1e-4 acts
fan_in times more strongly than in PyTorch's parameterisation and kept the dense student from
fitting its training set (train error 3.9% after 80 epochs, against 0.1% after 60 without it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...sweep.spec import SpecError, field
from ...trials.data import check_data_fields
from ...trials.fields import DataFields, TrainingFields, check_training_fields, with_default

LOAD_AXES = ("density", "n_train", "label_noise")
CKA_COLUMNS = ("cka_output", "cka")


@dataclass
class ThreeRegimeTrial(TrainingFields, DataFields):
    manifold: str = with_default(DataFields, "manifold", "hidden")
    intrinsic_dim: int = with_default(DataFields, "intrinsic_dim", 32)
    ambient_dim: int = with_default(DataFields, "ambient_dim", 64)
    teacher: str = with_default(DataFields, "teacher", "committee")
    teacher_options: dict = with_default(DataFields, "teacher_options", {"n_hidden": 8})
    n_train: int = with_default(DataFields, "n_train", 1000)
    n_test: int = with_default(DataFields, "n_test", 2000)
    lr: float = with_default(TrainingFields, "lr", 2.0)
    batch_size: int | None = with_default(TrainingFields, "batch_size", 32)
    epochs: int = field(80, "dense training epochs; with temperature_knob = 'epochs', the checkpoint of the "
                            "run of run_epochs epochs that is pruned (fewer = hotter)", low=1)
    run_epochs: int | None = field(None, "length in epochs of the one dense run whose checkpoints the epochs "
                                         "values are (temperature_knob = 'epochs': trials differing only in "
                                         "epochs share it); null: the run ends at epochs", low=1)
    steps: int | None = field(None, "dense training length in optimisation steps instead of epochs (the "
                                    "batch-size knob at a fixed number of iterations); null: epochs", low=1)
    momentum: float = field(0.9, "heavy-ball momentum of the dense training and of the retraining",
                            low=0, high=1, high_open=True)
    lr_decay_at: list[float] = field([0.5, 0.75], "fractions of each run (dense and retraining) where the "
                                                   "learning rate is multiplied by lr_decay; [] = constant",
                                     low=0, high=1, low_open=True, high_open=True)
    lr_decay: float = field(0.1, "factor of the step decay at each of lr_decay_at", low=0, high=1, low_open=True)
    hidden: int = field(64, "width of every hidden layer of the MLP student", low=1)
    depth: int = field(1, "number of hidden layers of the MLP student", low=1)
    activation: str = field("relu", "student activation", choices=("relu", "tanh", "erf"))
    densities: list[float] = field([0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005],
                                   "the load axis: densities of the pruned model", low=0, high=1,
                                   low_open=True, high_open=True)
    prune_scope: str = field("layerwise", "one-shot magnitude pruning per hidden weight matrix (layerwise, the "
                                          "paper's uniform pruning) or with one threshold over all (global)",
                             choices=("layerwise", "global"))
    retrain_seeds: int = field(3, "retrained members per pruned model (>= 2: mode connectivity, barrier and CKA "
                                  "are averaged over their pairs)", low=2)
    retrain_lr: float = field(2.0, "retraining learning rate, the same at every temperature", low=0, low_open=True)
    retrain_batch_size: int = field(32, "retraining batch size", low=1)
    retrain_epochs: int | None = field(None, "retraining epochs; null: as long as the dense run (run_epochs or "
                                             "epochs; the same number of steps under steps)", low=1)
    lmc_points: int = field(11, "points on the straight path between retrained members (>= 11)", low=11)


@dataclass
class ThreeRegimeAnalysis:
    barrier_threshold: float | None = field(
        0.02, "Regime I where the mode connectivity (training error, signed) is below -barrier_threshold, i.e. "
              "the path between retrained members is worse than their ends by more than this; null: fitted as "
              "a change point (never calling Regime I a barrier within the seed-to-seed spread)", low=0)
    cka_threshold: float | None = field(0.95, "well-connected points with CKA above this are Regime II-B, below "
                                              "II-A; null: fitted", low=0, high=1)
    regime_cka: str = field("cka_output", "the CKA that separates II-A from II-B: cka_output (the network "
                                          "outputs on the training inputs, the paper's) or cka (hidden layer)",
                            choices=CKA_COLUMNS)
    significance: float = field(2.0, "|effect| / standard error needed to call the temperature effect's sign",
                                low=0, low_open=True)
    max_dense_train_error: float = field(0.01, "dense train error above which a model counts as under-trained "
                                               "(the summary warns when the cold end of the axis is)", low=0, high=1)
    load: str = field("density", "the load axis of the phase diagram: density of the pruned model, or n_train "
                                 "or label_noise (varied in the grid) at one density", choices=LOAD_AXES)
    at_density: float | None = field(None, "with load = n_train or label_noise: the density whose cells are "
                                           "drawn; null: the lowest", low=0, high=1, low_open=True)


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    check_data_fields(t)
    check_training_fields(t)
    knob = t["temperature_knob"]
    if t["batch_size"] is None:
        raise SpecError("batch_size: the dense training is SGD here; set a batch size in [1, n_train]")
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
    at = t["lr_decay_at"]
    if any(not 0 < a < 1 for a in at) or any(b <= a for a, b in zip(at, at[1:])):
        raise SpecError(f"lr_decay_at must be strictly increasing fractions in (0, 1), got {at}")
    check_schedule_fits(t)
    if not 0 <= t["momentum"] < 1:
        raise SpecError(f"momentum must lie in [0, 1), got {t['momentum']}")
    if knob == "epochs":
        if t["run_epochs"] is None:
            raise SpecError("temperature_knob = 'epochs' takes checkpoints of one dense run: set run_epochs, its "
                            f"length (>= every epochs value), e.g. run_epochs = {max(t['epochs'], 1)}")
        if t["steps"] is not None:
            raise SpecError("temperature_knob = 'epochs' counts epochs: leave steps unset")
    if t["run_epochs"] is not None and t["epochs"] > t["run_epochs"]:
        raise SpecError(f"epochs ({t['epochs']}) is a checkpoint of the run of run_epochs={t['run_epochs']} epochs: "
                        "it must be <= run_epochs")
    if t["run_epochs"] is not None and t["steps"] is not None:
        raise SpecError("give run_epochs or steps, not both")
    if knob == "batch_size" and t["steps"] is None:
        raise SpecError("temperature_knob = 'batch_size' compares batch sizes at a fixed number of iterations: set "
                        "steps (e.g. the steps of epochs at the largest batch size)")


KNOB_FIELDS = {"lr_over_batch": ("lr", "batch_size")}  # a knob read from other fields than its own name


def analysis_settings(analysis: dict | None) -> dict:
    """The [analysis] fields of a spec, with the defaults of those it leaves out."""
    return {**vars(ThreeRegimeAnalysis()), **(analysis or {})}


def check_axes(trials: list[dict], analysis: dict) -> None:
    """The analysis draws one phase diagram: its cells pool every trial of one temperature and load value
    over the seeds. So across the trials only the temperature knob's field, the load field (with
    ``load = n_train`` or ``label_noise``) and the seed may vary; a spec varying anything else (a
    retraining rate, a width) would have those rows averaged into the same cells, and is refused."""
    if not trials:
        return
    knobs = {t["temperature_knob"] for t in trials}
    if len(knobs) > 1:
        raise SpecError(f"temperature_knob: one knob per spec (one phase diagram), got {sorted(knobs)}; "
                        "run one spec per knob")
    knob = knobs.pop()
    load = analysis_settings(analysis)["load"]
    allowed = set(KNOB_FIELDS.get(knob, (knob,))) | ({load} if load != "density" else set()) | {"seed"}
    for key in trials[0]:
        values = sorted({repr(t[key]) for t in trials})
        if key not in allowed and len(values) > 1:
            raise SpecError(
                f"{key}: the trials take {len(values)} values ({', '.join(values[:6])}"
                f"{', ...' if len(values) > 6 else ''}), but the three_regime analysis draws one phase diagram "
                f"over the temperature ({knob}) and the load ({load}) and would average these rows into the "
                f"same cells; vary only {' and '.join(sorted(allowed - {'seed'}))} (and seeds), and run one "
                f"spec per value of {key}")


def dense_length(t: dict) -> dict:
    """The dense run's length as ``models.TrainConfig`` takes it: ``steps`` if set (the batch-size knob),
    else ``run_epochs`` (the run whose checkpoints the epochs knob takes) or ``epochs``."""
    return {"steps": t["steps"]} if t["steps"] is not None else {"epochs": t["run_epochs"] or t["epochs"]}


def retrain_length(t: dict) -> dict:
    """The retraining run's length: ``retrain_epochs`` if set, else as long as the dense run."""
    return {"epochs": t["retrain_epochs"]} if t["retrain_epochs"] is not None else dense_length(t)


def _steps(t: dict, length: dict, batch_size: int) -> int:
    return length["steps"] if "steps" in length else length["epochs"] * math.ceil(t["n_train"] / batch_size)


def check_schedule_fits(t: dict) -> None:
    """The step decay's milestones (fractions of a run) must fall strictly inside both the dense run and
    the retraining run, or the schedule cannot be built: refused here, before any work starts."""
    if not t["lr_decay_at"]:
        return
    runs = {"dense run": _steps(t, dense_length(t), t["batch_size"]),
            "retraining run": _steps(t, retrain_length(t), t["retrain_batch_size"])}
    for name, n in runs.items():
        steps = [round(a * n) for a in t["lr_decay_at"]]
        if any(not 0 < s < n for s in steps):
            raise SpecError(f"lr_decay_at: the milestones {t['lr_decay_at']} fall at steps {steps} of the {name} "
                            f"of {n} steps; each must fall strictly inside it: lengthen the run or set "
                            "lr_decay_at = [] (a constant rate)")
