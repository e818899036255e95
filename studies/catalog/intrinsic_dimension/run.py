"""How a group of ``intrinsic_dimension`` trials runs.

Each trial draws a generator (its embedding), a perceptron teacher acting on the latent
coordinates, train and test sets; trains a dense student; then branches it into one member per
sparsity level (global magnitude masks) and measures the error one-shot (no retraining) and after
retraining with the mask fixed. The sparsity-0 branch is the dense control: it gets the same extra
training, and the retrained errors are compared with it (docs/design.md). The theory columns hold the
subspace predictions of :mod:`theory.pruning` and :mod:`theory.retraining` where they apply
(a linear student on a noiseless linear manifold).
"""
from __future__ import annotations


import numpy as np

import manifolds
import models
from theory import pruning as pruning_theory
from theory import retraining as retraining_theory

from ...sweep.progress import trial_finished
from ...sweep.study import TrialOutcome
from ...trials.data import metrics, stack, trial_data
from ...trials.health import dense_failures, isolated
from ...trials.temperature import temperature

GROUP_FIELDS = ("student", "hidden", "ambient_dim", "n_train", "n_test", "loss", "batch_size", "epochs",
                "retrain_epochs", "prune_scope", "retrain_lr_scaling")


def group_key(t: dict) -> tuple:
    return tuple((k, t[k]) for k in GROUP_FIELDS) + (("sparsities", tuple(t["sparsities"])),)


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
                              langevin_T=t["langevin_T"], sam_rho=t["sam_rho"], weight_decay=t["weight_decay"])


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
                             sam_rho=[t["sam_rho"] for _, t in group],
                             weight_decay=[t["weight_decay"] for _, t in group])
    initial_loss = models.evaluate(dense, X, y, loss=t0["loss"])["loss"]
    report = models.train(dense, X, y, cfg, seeds=[d[0]["order"] for d in data])
    dense_train = metrics(dense, X, y, loss=t0["loss"])
    dense_test = metrics(dense, Xte, yte, loss=t0["loss"])
    failures = dense_failures(report.diverged, report.diverged_step, dense_test["error"], dense_train["error"],
                              initial_loss, report.train_loss)

    ladder = [0.0] + list(t0["sparsities"])
    outcomes = []
    for k, (name, t) in enumerate(group):
        if failures[k]:
            outcomes.append(TrialOutcome(name, t, "failed", failures[k]))
        else:
            with isolated(outcomes, name, t):
                outcomes.append(_trial_outcome(k, name, t, data[k], dense, X, y, Xte, yte, dense_train, dense_test,
                                               ladder))
        trial_finished()
    return outcomes


def _trial_outcome(k, name, t, data_k, dense, X, y, Xte, yte, dense_train, dense_test, ladder) -> TrialOutcome:
    """Prune trial k's dense student to every level of the ladder, retrain, and measure."""
    results = {
        "dense_train_error": float(dense_train["error"][k]), "dense_test_error": float(dense_test["error"][k]),
        "dense_train_loss": float(dense_train["loss"][k]), "temperature": temperature(t),
        "load_per_dim": t["n_train"] / t["intrinsic_dim"],
    }
    if t["dimension_method"] not in (None, "none"):
        results["estimated_dim"] = float(manifolds.estimate_dimension(data_k[1], method=t["dimension_method"]))
    branches = dense.take([k] * len(ladder))
    masks = models.magnitude_masks(branches, ladder, scope=t["prune_scope"])
    models.apply_masks(branches, masks)
    one_train = metrics(branches, X[k], y[k], loss=t["loss"])
    one_test = metrics(branches, Xte[k], yte[k], loss=t["loss"])
    retrain = models.train(branches, X[k], y[k], _retrain_config(t, ladder, branches, masks, X[k], y[k]), masks=masks,
                           seeds=[data_k[0]["retrain"] + i for i in range(len(ladder))])
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
    return TrialOutcome(name, t, "done", None, results, rows)

