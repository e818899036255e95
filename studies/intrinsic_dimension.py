"""The ``intrinsic_dimension`` study: how far can a student be pruned when its inputs lie on a
d-dimensional manifold in R^D?

Each trial draws a generator (its embedding), a perceptron teacher acting on the latent
coordinates, train and test sets; trains a dense student; then branches it into one member per
sparsity level (global magnitude masks) and measures the error one-shot (no retraining) and after
retraining with the mask fixed. The sparsity-0 branch is the dense control: it gets the same extra
training, and the retrained errors are compared with it (DESIGN.md). The theory columns hold the
subspace predictions of :mod:`theory.pruning` and :mod:`theory.retraining` where they apply
(a linear student on a noiseless linear manifold).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import manifolds
import models
from theory import pruning as pruning_theory
from theory import retraining as retraining_theory

from .data import check_data_fields, metrics, stack, trial_data
from .spec import SpecError, field
from .study import Study, TrialOutcome
from . import intrinsic_dimension_report as report

DEFAULT_DENSITIES = [0.8, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.035, 0.025, 0.018, 0.013, 0.009, 0.006, 0.004, 0.003]
DEFAULT_LADDER = [round(1 - d, 6) for d in DEFAULT_DENSITIES]


@dataclass
class IntrinsicDimensionTrial:
    manifold: str = field("linear", "generator kind, one of manifolds.MANIFOLD_KINDS")
    manifold_options: dict = field({}, "extra generator options, e.g. {activation = 'tanh'}")
    intrinsic_dim: int = field(8, "latent dimension d of the generator")
    ambient_dim: int = field(256, "embedding dimension D (the student's input size)")
    noise: float = field(0.0, "std of isotropic off-manifold Gaussian noise per ambient coordinate")
    teacher: str = field("perceptron", "label function of the latent coordinates, one of manifolds.TEACHER_KINDS")
    teacher_options: dict = field({}, "extra teacher options, e.g. {n_hidden = 4} for a committee")
    label_noise: float = field(0.0, "probability that a training label is flipped")
    student: str = field("linear", "student architecture", choices=("linear", "mlp"))
    hidden: int = field(64, "hidden width of the mlp student")
    n_train: int = field(2000, "number of training examples P")
    n_test: int = field(4000, "number of test examples")
    loss: str = field("logistic", "training loss", choices=("logistic", "hinge", "mse"))
    lr: float = field(2.0, "learning rate (full-batch gradient descent unless batch_size is set)")
    batch_size: int | None = field(None, "SGD batch size (null: full batch)")
    epochs: int = field(300, "dense training epochs")
    langevin_T: float = field(0.0, "Langevin temperature (0: plain gradient descent)")
    weight_decay: float = field(0.0, "L2 weight decay")
    temperature_knob: str = field("lr", "which hyperparameter is reported as the temperature",
                                  choices=("lr", "lr_over_batch", "langevin_T", "epochs"))
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
class IntrinsicDimensionAnalysis:
    tolerance: float = field(0.005, "absolute test-error tolerance of prunability")
    n_bootstrap: int = field(1000, "bootstrap resamples over seeds")
    confidence: float = field(0.9, "coverage of the bootstrap interval")


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    check_data_fields(t)
    method = t["dimension_method"]
    if method not in (None, "none") and method not in manifolds.DIMENSION_METHODS:
        raise SpecError(f"dimension_method: {method!r} is not allowed; choose one of "
                        f"{', '.join(map(repr, manifolds.DIMENSION_METHODS))} or 'none'")
    for key in ("n_train", "n_test", "epochs", "hidden"):
        if t[key] < 1:
            raise SpecError(f"{key} must be >= 1, got {t[key]}")
    if t["retrain_epochs"] < 0:
        raise SpecError(f"retrain_epochs must be >= 0, got {t['retrain_epochs']}")
    s = t["sparsities"]
    if not s or any(not (0 < x < 1) for x in s) or any(b <= a for a, b in zip(s, s[1:])):
        raise SpecError(f"sparsities must be a non-empty increasing list in (0, 1), got {s}")
    if t["batch_size"] is not None and not (1 <= t["batch_size"] <= t["n_train"]):
        raise SpecError(f"batch_size must lie in [1, n_train={t['n_train']}], got {t['batch_size']}")
    if not 0 <= t["label_noise"] <= 0.5:
        raise SpecError(f"label_noise must lie in [0, 0.5], got {t['label_noise']}")
    for key in ("lr", "langevin_T", "weight_decay", "noise"):
        if t[key] < 0:
            raise SpecError(f"{key} must be >= 0, got {t[key]}")
    if t["lr"] == 0:
        raise SpecError("lr must be > 0, got 0")
    if t["temperature_knob"] == "lr_over_batch" and t["batch_size"] is None:
        raise SpecError("temperature_knob = 'lr_over_batch' needs a batch_size")


GROUP_FIELDS = ("student", "hidden", "ambient_dim", "n_train", "n_test", "loss", "batch_size", "epochs",
                "retrain_epochs", "prune_scope", "retrain_lr_scaling")


def group_key(t: dict) -> tuple:
    return tuple((k, t[k]) for k in GROUP_FIELDS) + (("sparsities", tuple(t["sparsities"])),)


def temperature(t: dict) -> float:
    knob = t["temperature_knob"]
    if knob == "lr_over_batch":
        return t["lr"] / t["batch_size"]
    return float(t[knob])


def _student(t: dict, seeds: list[int]):
    if t["student"] == "linear":
        # zero init and no bias: gradient descent keeps w in the span of the data (theory/pruning.py)
        return models.make_ensemble("linear", len(seeds), t["ambient_dim"], bias=False, seeds=seeds, init_scale=0.0)
    return models.make_ensemble("mlp", len(seeds), t["ambient_dim"], hidden=(t["hidden"],), activation="relu",
                                seeds=seeds, train_readout=True)


def _theory_applies(t: dict) -> bool:
    return t["student"] == "linear" and t["manifold"] == "linear" and t["noise"] == 0 and t["teacher"] == "perceptron"


def _retrain_config(t: dict, ladder: list[float], branches, masks, X, y) -> "models.TrainConfig":
    """Retraining of a trial's branches: the trial's optimiser, one learning rate per branch.
    Branch 0 is the dense control (sparsity 0), whose curvature is the reference."""
    if t["retrain_lr_scaling"] == "inverse_density":
        lrs = [t["lr"] / (1.0 - s) for s in ladder]
    elif t["retrain_lr_scaling"] == "curvature":
        top = models.hessian_top_eigenvalue(branches, X, y, loss=t["loss"], masks=masks, n_iter=50, tol=1e-4)
        top = np.abs(top)
        lrs = [float(t["lr"] * top[0] / max(v, top[0] * 1e-6)) for v in top]
    else:
        lrs = [t["lr"]] * len(ladder)
    return models.TrainConfig(loss=t["loss"], lr=lrs, epochs=t["retrain_epochs"], batch_size=t["batch_size"],
                              langevin_T=t["langevin_T"], weight_decay=t["weight_decay"])


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Train the group's dense students as one ensemble, then prune and retrain each trial's
    branches (one member per sparsity level, all of one trial's branches in one ensemble)."""

    t0 = group[0][1]
    data = [trial_data(t) for _, t in group]
    X, y, Xte, yte = (stack([d[i] for d in data]) for i in range(1, 5))
    dense = _student(t0, [d[0]["init"] for d in data])
    lrs = [t["lr"] for _, t in group]
    cfg = models.TrainConfig(loss=t0["loss"], lr=lrs, epochs=t0["epochs"], batch_size=t0["batch_size"],
                             langevin_T=[t["langevin_T"] for _, t in group],
                             weight_decay=[t["weight_decay"] for _, t in group])
    report = models.train(dense, X, y, cfg, seeds=[d[0]["order"] for d in data])
    dense_train = metrics(dense, X, y, loss=t0["loss"])
    dense_test = metrics(dense, Xte, yte, loss=t0["loss"])

    ladder = [0.0] + list(t0["sparsities"])
    outcomes = []
    for k, (name, t) in enumerate(group):
        if report.diverged[k]:
            outcomes.append(TrialOutcome(name, t, "failed", f"dense training diverged at step {int(report.diverged_step[k])}"))
            continue
        results = {
            "dense_train_error": float(dense_train["error"][k]), "dense_test_error": float(dense_test["error"][k]),
            "dense_train_loss": float(dense_train["loss"][k]), "temperature": temperature(t),
            "load_per_dim": t["n_train"] / t["intrinsic_dim"],
        }
        if t["dimension_method"] not in (None, "none"):
            results["estimated_dim"] = float(manifolds.estimate_dimension(data[k][1], method=t["dimension_method"]))
        branches = dense.take([k] * len(ladder))
        masks = models.magnitude_masks(branches, ladder, scope=t["prune_scope"])
        models.apply_masks(branches, masks)
        one_train = metrics(branches, X[k], y[k], loss=t["loss"])
        one_test = metrics(branches, Xte[k], yte[k], loss=t["loss"])
        retrain = models.train(branches, X[k], y[k], _retrain_config(t, ladder, branches, masks, X[k], y[k]), masks=masks,
                               seeds=[data[k][0]["retrain"] + i for i in range(len(ladder))])
        re_train = metrics(branches, X[k], y[k], loss=t["loss"])
        re_test = metrics(branches, Xte[k], yte[k], loss=t["loss"])
        dead = models.dead_members(branches, Xte[k])
        n_params = models.count_params(branches, masks)
        results["control_test_error"] = float(re_test["error"][0])
        results["control_train_error"] = float(re_train["error"][0])
        rows = []
        for i, s in enumerate(ladder):
            row = {
                "sparsity": s, "density": 1.0 - s, "n_params": int(n_params[i]),
                "load": t["n_train"] / max(int(n_params[i]), 1),
                "test_error": float(re_test["error"][i]), "train_error": float(re_train["error"][i]),
                "test_error_one_shot": float(one_test["error"][i]), "train_error_one_shot": float(one_train["error"][i]),
                "dead": bool(dead[i]), "diverged": bool(retrain.diverged[i]),
            }
            if _theory_applies(t):
                d, D = t["intrinsic_dim"], t["ambient_dim"]
                # exact (infinite data, converged retraining) while the kept weights span the data
                row["in_domain"] = bool(n_params[i] >= d)
                row["theory_test_error_one_shot"] = float(pruning_theory.subspace_magnitude_error(
                    d, D, 1.0 - s, dense_error=results["dense_test_error"]))
                row["theory_test_error"] = float(retraining_theory.subspace_retrained_error(
                    d, D, 1.0 - s, dense_error=results["control_test_error"]))
            rows.append(row)
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes


STUDY = Study(
    name="intrinsic_dimension",
    description="prunability of students trained on data of intrinsic dimension d embedded in R^D",
    trial_fields=IntrinsicDimensionTrial,
    analysis_fields=IntrinsicDimensionAnalysis,
    check_trial=check_trial,
    group_key=group_key,
    run_group=run_group,
    summarize=report.summarize,
    figures=report.figures,
)
