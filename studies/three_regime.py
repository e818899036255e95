"""The ``three_regime`` study: in the plane of a temperature-like knob of the dense model and a
load-like knob (the density of the pruned model), where does raising the temperature help pruning
and where does it hurt? (Zhou, Yang, Chang and Mahoney, "A Three-regime Model of Network Pruning",
ICML 2023.)

Each trial trains one dense teacher-student MLP at one temperature (the trial's
``temperature_knob``: epochs, lr, lr / batch size, Langevin T or SAM rho). Its weights are then
magnitude-pruned to every density of the load axis and retrained ``retrain_seeds`` times with the
mask fixed and a fixed retraining recipe (different data orders), together with as many dense
controls (density 1) that get the same retraining. Per trial and density the table holds the mean
test error of the retrained members, the LMC barrier between retrained members (DESIGN.md's
definition, on the test loss and the test error) and their linear CKA on the hidden layer. The
regime of each point is read from the barrier and the CKA (studies.regimes).

Every trial, dense and retrained member of a group is one member of one ensemble: the dense
students train together, and so do all their branches.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

import models

from .data import check_data_fields, metrics, stack, trial_data
from .spec import SpecError, field
from .study import Study, TrialOutcome
from . import three_regime_report as report

KNOBS = ("epochs", "lr", "lr_over_batch", "langevin_T", "sam_rho")
PER_MEMBER = ("lr", "langevin_T", "sam_rho", "weight_decay")  # may differ inside one ensemble


@dataclass
class ThreeRegimeTrial:
    manifold: str = field("linear", "generator kind, one of manifolds.MANIFOLD_KINDS")
    manifold_options: dict = field({}, "extra generator options")
    intrinsic_dim: int = field(8, "latent dimension d")
    ambient_dim: int = field(32, "embedding dimension D")
    noise: float = field(0.0, "off-manifold noise")
    teacher: str = field("committee", "label function of the latent, one of manifolds.TEACHER_KINDS")
    teacher_options: dict = field({"n_hidden": 4}, "teacher options")
    label_noise: float = field(0.0, "flip probability of training labels (lowers the effective load)")
    hidden: int = field(32, "hidden width of the one-hidden-layer MLP student")
    activation: str = field("relu", "student activation", choices=("relu", "tanh", "erf"))
    n_train: int = field(1000, "training examples P")
    n_test: int = field(2000, "test examples")
    loss: str = field("logistic", "training loss", choices=("logistic", "hinge", "mse"))
    temperature_knob: str = field("lr", "the temperature-like knob of the dense training", choices=KNOBS)
    lr: float = field(0.1, "dense learning rate")
    batch_size: int = field(32, "dense SGD batch size")
    epochs: int = field(40, "dense training epochs")
    langevin_T: float = field(0.0, "dense Langevin temperature")
    sam_rho: float = field(0.0, "dense SAM radius")
    weight_decay: float = field(0.0, "dense weight decay")
    densities: list[float] = field([0.5, 0.3, 0.2, 0.1, 0.05, 0.03], "the load axis: densities of the pruned model")
    retrain_seeds: int = field(2, "retrained members per density (>= 2: the LMC barrier and CKA are between them)")
    retrain_lr: float = field(0.05, "retraining learning rate (fixed across temperatures)")
    retrain_batch_size: int = field(32, "retraining batch size")
    retrain_epochs: int = field(20, "retraining epochs")
    lmc_points: int = field(11, "points on the straight path of the LMC barrier (>= 11)")


@dataclass
class ThreeRegimeAnalysis:
    barrier_threshold: float | None = field(None, "LMC test-loss barrier above which a point is poorly connected "
                                            "(Regime I); null: fitted as a change point of the data")
    cka_threshold: float | None = field(None, "CKA above which well-connected points are similar (II-B); null: fitted")
    significance: float = field(2.0, "|effect| / standard error needed to call the temperature effect's sign")


def check_trial(t: dict) -> None:
    check_data_fields(t)
    for key in ("n_train", "n_test", "epochs", "hidden", "retrain_epochs"):
        if t[key] < 1:
            raise SpecError(f"{key} must be >= 1, got {t[key]}")
    for key in ("batch_size", "retrain_batch_size"):
        if not 1 <= t[key] <= t["n_train"]:
            raise SpecError(f"{key} must lie in [1, n_train={t['n_train']}], got {t[key]}")
    if t["retrain_seeds"] < 2:
        raise SpecError(f"retrain_seeds must be >= 2 (the barrier and CKA compare retrained members), got {t['retrain_seeds']}")
    if t["lmc_points"] < 11:
        raise SpecError(f"lmc_points must be >= 11 (DESIGN.md), got {t['lmc_points']}")
    dens = t["densities"]
    if not dens or any(not 0 < x < 1 for x in dens) or len(set(dens)) != len(dens):
        raise SpecError(f"densities must be distinct values in (0, 1), got {dens}")
    for key in ("lr", "retrain_lr"):
        if t[key] <= 0:
            raise SpecError(f"{key} must be > 0, got {t[key]}")
    for key in ("langevin_T", "sam_rho", "weight_decay", "label_noise", "noise"):
        if t[key] < 0:
            raise SpecError(f"{key} must be >= 0, got {t[key]}")


def temperature(t: dict) -> float:
    if t["temperature_knob"] == "lr_over_batch":
        return t["lr"] / t["batch_size"]
    return float(t[t["temperature_knob"]])


def group_key(t: dict) -> tuple:
    return tuple((k, repr(v)) for k, v in sorted(t.items()) if k not in PER_MEMBER + ("seed",))


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    t0 = group[0][1]
    data = [trial_data(t) for _, t in group]
    X, y, Xte, yte = (stack([d[i] for d in data]) for i in range(1, 5))
    K = len(group)
    dense = models.make_ensemble("mlp", K, t0["ambient_dim"], hidden=(t0["hidden"],), activation=t0["activation"],
                                 seeds=[d[0]["init"] for d in data])
    cfg = models.TrainConfig(loss=t0["loss"], epochs=t0["epochs"], batch_size=t0["batch_size"],
                             **{k: [t[k] for _, t in group] for k in PER_MEMBER})
    report = models.train(dense, X, y, cfg, seeds=[d[0]["order"] for d in data])
    dense_train = metrics(dense, X, y, t0["loss"])
    dense_test = metrics(dense, Xte, yte, t0["loss"])

    # branches: for each trial, each density (1.0 = the dense control) and each retraining seed
    dens_axis = [1.0] + sorted(t0["densities"], reverse=True)
    R = t0["retrain_seeds"]
    index = list(itertools.product(range(K), range(len(dens_axis)), range(R)))
    owner = [k for k, _, _ in index]
    branches = dense.take(owner)
    masks = models.magnitude_masks(branches, [1.0 - dens_axis[j] for _, j, _ in index], scope="global")
    models.apply_masks(branches, masks)
    retrain_cfg = models.TrainConfig(loss=t0["loss"], lr=t0["retrain_lr"], epochs=t0["retrain_epochs"],
                                     batch_size=t0["retrain_batch_size"])
    seeds = [data[k][0]["retrain"] + 1000 * j + r for k, j, r in index]
    retrain = models.train(branches, X[owner], y[owner], retrain_cfg, masks=masks, seeds=seeds)
    test = metrics(branches, Xte[owner], yte[owner], t0["loss"])
    train = metrics(branches, X[owner], y[owner], t0["loss"])
    dead = models.dead_members(branches, Xte[owner]) | retrain.diverged
    n_params = models.count_params(branches, masks)

    # pairs of retrained members of one trial and density: barrier and CKA between them
    pos = {key: i for i, key in enumerate(index)}
    pairs = [(pos[(k, j, a)], pos[(k, j, b)]) for k in range(K) for j in range(len(dens_axis))
             for a, b in itertools.combinations(range(R), 2)]
    ia, ib = [a for a, _ in pairs], [b for _, b in pairs]
    side_a, side_b = branches.take(ia), branches.take(ib)
    Xp, yp = Xte[[owner[i] for i in ia]], yte[[owner[i] for i in ia]]
    barrier_loss = models.lmc_barrier(side_a, side_a.params, side_b.params, Xp, yp, n_points=t0["lmc_points"],
                                      loss=t0["loss"], metric="loss")
    barrier_err = models.lmc_barrier(side_a, side_a.params, side_b.params, Xp, yp, n_points=t0["lmc_points"],
                                     loss=t0["loss"], metric="error")
    cka = models.linear_cka(side_a.representation(Xp, 0), side_b.representation(Xp, 0))
    pair_of = {}
    for p, (a, _) in enumerate(pairs):
        k, j, _ = index[a]
        pair_of.setdefault((k, j), []).append(p)

    outcomes = []
    for k, (name, t) in enumerate(group):
        if report.diverged[k]:
            outcomes.append(TrialOutcome(name, t, "failed", f"dense training diverged at step {int(report.diverged_step[k])}"))
            continue
        results = {"temperature": temperature(t), "dense_test_error": float(dense_test["error"][k]),
                   "dense_train_error": float(dense_train["error"][k]), "dense_train_loss": float(dense_train["loss"][k]),
                   "dense_test_loss": float(dense_test["loss"][k])}
        rows = []
        for j, density in enumerate(dens_axis):
            members = [pos[(k, j, r)] for r in range(R)]
            live = [m for m in members if not dead[m]]
            ps = pair_of[(k, j)]
            rows.append({
                "sparsity": round(1.0 - density, 10), "density": density, "n_params": int(n_params[members[0]]),
                "load": t["n_train"] / max(int(n_params[members[0]]), 1),
                "test_error": float(np.mean(test["error"][live])) if live else float("nan"),
                "test_error_spread": float(np.std(test["error"][live])) if live else float("nan"),
                "test_loss": float(np.mean(test["loss"][live])) if live else float("nan"),
                "train_error": float(np.mean(train["error"][live])) if live else float("nan"),
                "train_loss": float(np.mean(train["loss"][live])) if live else float("nan"),
                "lmc_barrier": float(np.nanmean(barrier_loss[ps])) if np.isfinite(barrier_loss[ps]).any() else float("nan"),
                "lmc_barrier_error": float(np.nanmean(barrier_err[ps])) if np.isfinite(barrier_err[ps]).any() else float("nan"),
                "cka": float(np.nanmean(cka[ps])) if np.isfinite(cka[ps]).any() else float("nan"),
                "dead": len(members) - len(live),
            })
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes


STUDY = Study(name="three_regime",
              description="temperature x load phase diagram of pruning: test error, LMC barrier, CKA and regimes",
              trial_fields=ThreeRegimeTrial, analysis_fields=ThreeRegimeAnalysis, check_trial=check_trial,
              group_key=group_key, run_group=run_group, summarize=report.summarize, figures=report.figures)
