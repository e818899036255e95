"""How a group of ``three_regime`` trials runs (the protocol: ``fields``' module docstring).

1. Dense runs. Each trial is one dense teacher-student MLP at one temperature (its
   ``temperature_knob``). With the epochs knob, the trials that differ only in ``epochs`` are
   checkpoints of ONE dense run of ``run_epochs`` epochs with its step schedule (one training, each
   checkpoint a temperature). Otherwise every trial is a run of its own; runs whose hyperparameters
   differ only per member (lr, Langevin T, SAM rho, weight decay) train together as one ensemble.
2. Pruning. Each trial's dense weights are magnitude-pruned once to every density of the load axis
   (layer-wise uniform by default), plus a dense control (density 1) that gets the same retraining.
3. Retraining. Every pruned model is fine-tuned ``retrain_seeds`` times from its pruned weights, mask
   fixed, with momentum, the step schedule, the retraining learning rate and as long as the dense run
   (different data orders); every branch of the group is one member of one ensemble.
4. Metrics per trial and density, over the retrained members that did not fail, and over their pairs
   ([1,2], [1,3], [2,3]): test and train error and loss; ``mode_connectivity`` (the paper's signed
   quantity on the training error, 11 points, negative = barrier; ``models.mode_connectivity``);
   ``lmc_barrier`` (test-loss barrier above the chord); ``cka_output`` (linear CKA of the output
   probabilities sigmoid(f), the two-class softmax, the paper's) and ``cka`` (the last hidden layer),
   both on the training inputs as in the paper; ``converged`` (every kept member's
   retraining converged, :func:`studies.trials.health.converged`: below chance error and a flat loss
   over the last tenth of its epochs). Per trial: the temperature and the dense model's train and test
   loss and error at the pruned checkpoint.

Failures: a dense member (or checkpoint) that diverged or collapsed makes its trial fail with the
reason (``studies.trials.health.dense_failures``); a retrained member that diverged, has a constant
output (pruning cut every path) or ended at chance error is counted in ``dead`` and left out of every
mean of its row.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

import models

from ...sweep.study import TrialOutcome
from ...trials.data import metrics, stack, trial_data
from ...trials.health import CHANCE_ERROR, converged, dense_failures
from ...trials.temperature import temperature
from .fields import dense_length, retrain_length

PER_MEMBER = ("lr", "langevin_T", "sam_rho", "weight_decay")  # may differ inside one ensemble
PAIR_METRICS = ("mode_connectivity", "lmc_barrier", "cka_output", "cka")
RETRAIN_MAX_TRAIN_ERROR = CHANCE_ERROR  # a pruned model that cannot fit is a load effect, not a failure to converge


def checkpointed(t: dict) -> bool:
    """Is trial ``t`` a checkpoint of a longer dense run (the epochs knob)?"""
    return t["temperature_knob"] == "epochs" and t["run_epochs"] is not None


def group_key(t: dict) -> tuple:
    """Trials with equal keys train as one ensemble: one dense seed (so groups spread over workers), every
    field but the per-member ones (and the checkpoint, for the epochs knob) equal."""
    skip = PER_MEMBER + (("epochs",) if checkpointed(t) else ())
    return tuple((k, repr(v)) for k, v in sorted(t.items()) if k not in skip)


def schedule(t: dict) -> models.Schedule:
    if not t["lr_decay_at"]:
        return models.Schedule()
    return models.Schedule("step", milestones=tuple(t["lr_decay_at"]), unit="fraction", factor=t["lr_decay"])


def dense_config(t: dict, runs: list[dict], checkpoints=()) -> models.TrainConfig:
    """The dense recipe; checkpoint 0 records the initial loss (for the collapse check)."""
    return models.TrainConfig(loss=t["loss"], batch_size=t["batch_size"], momentum=t["momentum"],
                              schedule=schedule(t), checkpoints=(0,) + tuple(checkpoints),
                              **dense_length(t), **{k: [r[k] for r in runs] for k in PER_MEMBER})


def plateau_epochs(epochs: int) -> tuple[int, int]:
    """The two epochs between which ``studies.trials.health.converged`` reads the change of the loss on a
    per-epoch history of ``epochs`` + 1 rows (its last tenth, at least two rows): recording the loss at
    these two checkpoints only gives the same verdict without evaluating every epoch."""
    tail = max(2, (epochs + 1) // 10)
    return epochs + 1 - tail, epochs


def by_run(run_of_member: np.ndarray, fn) -> dict[str, np.ndarray]:
    """``fn(indices, run)`` -> dict of (len(indices),) arrays, evaluated for the members of each dense run
    on that run's inputs (shared by its members, so no per-member copy of the data), assembled into
    arrays over all members."""
    out: dict[str, np.ndarray] = {}
    for r in np.unique(run_of_member):
        idx = np.flatnonzero(run_of_member == r)
        for key, v in fn(idx, int(r)).items():
            out.setdefault(key, np.empty(len(run_of_member), dtype=np.asarray(v).dtype))[idx] = v
    return out


def retrain_config(t: dict, weight_decay) -> models.TrainConfig:
    """The retraining recipe: as long as the dense run unless ``retrain_epochs`` says otherwise, with the
    checkpoints of the convergence check (:func:`plateau_epochs`)."""
    cfg = models.TrainConfig(loss=t["loss"], lr=t["retrain_lr"], batch_size=t["retrain_batch_size"],
                             momentum=t["momentum"], weight_decay=weight_decay, schedule=schedule(t),
                             **retrain_length(t))
    cfg.checkpoints = plateau_epochs(cfg.run_length(t["n_train"])[0])
    return cfg


def dense_runs(group: list[tuple[str, dict]]) -> tuple[list[dict], list[int]]:
    """The distinct dense runs of a group and the run of each trial: one per trial, except that the
    checkpoints of one run (the epochs knob) share it."""
    runs, index, of = [], {}, []
    for _, t in group:
        key = tuple(sorted((k, repr(v)) for k, v in t.items() if k != "epochs")) if checkpointed(t) else len(runs)
        if key not in index:
            index[key] = len(runs)
            runs.append(t)
        of.append(index[key])
    return runs, of


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    t0 = group[0][1]
    runs, run_of = dense_runs(group)
    data = [trial_data(t) for t in runs]
    X, y, Xte, yte = (stack([d[i] for d in data]) for i in range(1, 5))  # one per dense run
    hidden = (t0["hidden"],) * t0["depth"]
    dense = models.make_ensemble("mlp", len(runs), t0["ambient_dim"], hidden=hidden, activation=t0["activation"],
                                 seeds=[d[0]["init"] for d in data])
    marks = sorted({t["epochs"] for _, t in group}) if checkpointed(t0) else ()
    report = models.train(dense, X, y, dense_config(t0, runs, marks), seeds=[d[0]["order"] for d in data])

    # the dense state of each trial: its run's end, or its checkpoint
    K = len(group)
    run_of = np.asarray(run_of)
    if marks:
        params = {n: torch.stack([report.checkpoints[t["epochs"]][n][r] for (_, t), r in zip(group, run_of)])
                  for n in dense.params}
        dense_loss = np.array([report.checkpoint_loss[t["epochs"]][r] for (_, t), r in zip(group, run_of)])
        base = dense.take(run_of).with_params(params)
    else:
        dense_loss = report.train_loss[run_of]
        base = dense.take(run_of)
    dense_train = by_run(run_of, lambda idx, r: metrics(base.take(idx), X[r], y[r], t0["loss"]))
    dense_test = by_run(run_of, lambda idx, r: metrics(base.take(idx), Xte[r], yte[r], t0["loss"]))
    failures = dense_failures(~np.isfinite(dense_loss), report.diverged_step[run_of], dense_test["error"],
                              dense_train["error"], report.checkpoint_loss[0][run_of], dense_loss)

    # branches: for each trial, each density (1.0 = the dense control) and each retraining seed
    dens_axis = [1.0] + sorted(t0["densities"], reverse=True)
    R = t0["retrain_seeds"]
    index = list(itertools.product(range(K), range(len(dens_axis)), range(R)))
    owner = np.array([k for k, _, _ in index])
    branch_run = run_of[owner]
    branches = base.take(owner)
    masks = models.magnitude_masks(branches, [1.0 - dens_axis[j] for _, j, _ in index], scope=t0["prune_scope"])
    models.apply_masks(branches, masks)
    seeds = [data[run_of[k]][0]["retrain"] + 1000 * j + r for k, j, r in index]
    cfg = retrain_config(t0, [group[k][1]["weight_decay"] for k in owner])
    retrain = models.train(branches, X[branch_run], y[branch_run], cfg, masks=masks, seeds=seeds)
    test = by_run(branch_run, lambda idx, r: metrics(branches.take(idx), Xte[r], yte[r], t0["loss"]))
    train = by_run(branch_run, lambda idx, r: metrics(branches.take(idx), X[r], y[r], t0["loss"]))
    dead_out = by_run(branch_run, lambda idx, r: {"dead": models.dead_members(branches.take(idx), Xte[r])})
    dead = dead_out["dead"] | retrain.diverged | ~np.isfinite(test["error"]) | (test["error"] >= CHANCE_ERROR)
    done = converged(train["error"], RETRAIN_MAX_TRAIN_ERROR, np.stack([retrain.checkpoint_loss[e] for e in cfg.checkpoints]))
    n_params = models.count_params(branches, masks)

    # pairs of retrained members of one trial and density
    pos = {key: i for i, key in enumerate(index)}
    pairs = [(pos[(k, j, a)], pos[(k, j, b)]) for k in range(K) for j in range(len(dens_axis))
             for a, b in itertools.combinations(range(R), 2)]
    ia, ib = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    side_a, side_b = branches.take(ia), branches.take(ib)
    n_points, loss, last = t0["lmc_points"], t0["loss"], t0["depth"] - 1

    def pair_metrics(idx, r):
        a, b = side_a.take(idx), side_b.take(idx)
        with torch.no_grad():
            return {
                "mode_connectivity": models.mode_connectivity(a, a.params, b.params, X[r], y[r], n_points=n_points,
                                                              loss=loss, metric="error"),
                "lmc_barrier": models.lmc_barrier(a, a.params, b.params, Xte[r], yte[r], n_points=n_points,
                                                  loss=loss, metric="loss"),
                # the two-class softmax: sigmoid(f) (its complement adds nothing to a linear CKA)
                "cka_output": models.linear_cka(torch.sigmoid(a.forward(X[r])).unsqueeze(-1),
                                                torch.sigmoid(b.forward(X[r])).unsqueeze(-1)),
                "cka": models.linear_cka(a.representation(X[r], last), b.representation(X[r], last))}

    pair = by_run(branch_run[ia], pair_metrics)
    live_pair = ~(dead[ia] | dead[ib])
    pair_of: dict = {}
    for p, (a, _) in enumerate(pairs):
        k, j, _ = index[a]
        pair_of.setdefault((k, j), []).append(p)

    def pair_mean(values, ps):
        v = values[[p for p in ps if live_pair[p]]]
        v = v[np.isfinite(v)]
        return float(v.mean()) if v.size else float("nan")

    def member_mean(values, live):
        return float(np.mean(values[live])) if live else float("nan")

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
                "test_error": member_mean(test["error"], live),
                "test_error_spread": float(np.std(test["error"][live])) if live else float("nan"),
                "test_loss": member_mean(test["loss"], live),
                "train_error": member_mean(train["error"], live),
                "train_loss": member_mean(train["loss"], live),
                **{key: pair_mean(pair[key], ps) for key in PAIR_METRICS},
                "converged": bool(live) and bool(np.all(done[live])),
                "dead": len(members) - len(live),
            })
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes
