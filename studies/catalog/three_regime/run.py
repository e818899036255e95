"""How a group of ``three_regime`` trials runs. The study asks: in the plane of a temperature-like knob of the dense model and a
load-like knob (the density of the pruned model), where does raising the temperature help pruning
and where does it hurt? (Zhou, Yang, Chang and Mahoney, "A Three-regime Model of Network Pruning",
ICML 2023.)

Each trial trains one dense teacher-student MLP at one temperature (the trial's
``temperature_knob``: epochs, lr, lr / batch size, Langevin T or SAM rho). Its weights are then
magnitude-pruned to every density of the load axis and retrained ``retrain_seeds`` times with the
mask fixed and a fixed retraining recipe (different data orders), together with as many dense
controls (density 1) that get the same retraining. Per trial and density the table holds the mean
test error of the retrained members, the LMC barrier between retrained members (docs/design.md's
definition, on the test loss and the test error) and their linear CKA on the hidden layer. The
regime of each point is read from the barrier and the CKA (studies.analysis.regimes).

Every trial, dense and retrained member of a group is one member of one ensemble: the dense
students train together, and so do all their branches.
"""
from __future__ import annotations

import itertools

import numpy as np

import models

from ...sweep.study import TrialOutcome
from ...trials.data import metrics, stack, trial_data
from ...trials.health import dense_failures
from ...trials.temperature import temperature

PER_MEMBER = ("lr", "langevin_T", "sam_rho", "weight_decay")  # may differ inside one ensemble

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
    initial_loss = models.evaluate(dense, X, y, loss=t0["loss"])["loss"]
    report = models.train(dense, X, y, cfg, seeds=[d[0]["order"] for d in data])
    dense_train = metrics(dense, X, y, t0["loss"])
    dense_test = metrics(dense, Xte, yte, t0["loss"])
    failures = dense_failures(report.diverged, report.diverged_step, dense_test["error"], dense_train["error"],
                              initial_loss, report.train_loss)

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
        if failures[k]:
            outcomes.append(TrialOutcome(name, t, "failed", failures[k]))
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

