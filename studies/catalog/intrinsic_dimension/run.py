"""How a group of ``intrinsic_dimension`` trials runs.

Each trial draws its data (a generator and a teacher on its latent coordinates, or a finite data set with
its labels), standardises the inputs with training-set statistics where asked, and trains a dense student
with its recipe (:func:`fields.recipe`); the group's dense students train as one ensemble. Then, by
``pruning``:

- ``one_shot``: the dense student branches into one member per ladder point (magnitude masks); each is
  measured as it is (one-shot) and after retraining with the mask fixed. The sparsity-0 branch is the dense
  control: it gets the same extra training, and the retrained errors are compared with it (docs/design.md).
- ``imp``: iterative magnitude pruning with weight rewinding (``models.iterative_magnitude_pruning``): every
  round prunes ``imp_fraction`` of the remaining weights of the previous round's trained model, rewinds the
  kept weights to epoch ``rewind_epoch`` of the dense run and trains the rest of the run; with its baselines
  at every round (``models.reinitialised_baseline``: the round's mask on fresh weights;
  ``models.random_pruning_baseline``: random masks with the round's count per layer, on the rewind-point
  weights), trained the same way. The dense run is the reference (every round trains as long as it).
- ``random``: random masks (``models.random_masks``, scope ``prune_scope``) on the ladder of imp, on the
  rewind-point weights, trained the rest of the run.

Every dense member records whether it converged (:func:`studies.trials.health.converged` with the trial's
``max_train_error`` and its per-epoch loss history: final train error at most the bound, loss flat to 1%
over the last tenth of training); every retrained member records the plateau part of that criterion
(``converged`` in its row: a pruned model need not fit its data, but its training must have settled).

Theory columns (``theory_*``, with ``in_domain`` and the trial's ``theory_reason``): for a linear student on
a noiseless linear manifold with a perceptron teacher, :mod:`theory.subspace` from n, d and D alone (the
dense error, one-shot magnitude pruning, converged retraining at finite n). For an MLP on data in a linear
subspace, the first layer (:mod:`theory.frozen_weights`): the off-span share of its squared norm, the drift
of its off-span component (zero for (S)GD without weight decay or noise), and, for one-shot masks, the
on-span overlap of each unit's pruned weights against its prediction.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import torch

import manifolds
import models
from theory import frozen_weights
from theory import subspace as subspace_theory

from ...sweep.progress import trial_finished
from ...sweep.study import TrialOutcome, derive_seeds
from ...trials.data import generator, metrics, stack, trial_data
from ...trials.health import converged, dense_failures, isolated
from ...trials.temperature import temperature
from .fields import imp_ladder, ladder, recipe, widths

GROUP_FIELDS = ("student", "n_train", "n_test", "loss", "pruning", "prune_scope", "retrain_lr_scaling",
                "rewind_epoch")
RECIPE_COLUMNS = ("lr", "epochs", "batch_size", "momentum", "schedule", "retrain_epochs", "standardize",
                  "max_train_error", "recipe")


def input_dim(t: dict) -> int:
    """The student's input size: the trial's ambient_dim, or the data set's own."""
    return generator(t).ambient_dim if manifolds.is_dataset(t["manifold"]) else t["ambient_dim"]


def group_key(t: dict) -> tuple:
    r = recipe(t)
    return tuple((k, t[k]) for k in GROUP_FIELDS) + (
        ("hidden", widths(t) if t["student"] == "mlp" else ()), ("input_dim", input_dim(t)),
        ("epochs", r["epochs"]), ("batch_size", r["batch_size"]), ("schedule", r["schedule"]),
        ("retrain_epochs", r["retrain_epochs"]), ("ladder", tuple(ladder(t))),
        ("imp_baselines", tuple(t["imp_baselines"]) if t["pruning"] == "imp" else ()))


def standardized(X: np.ndarray, Xte: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs standardised with the training set's statistics: ``global`` divides by the root mean square
    coordinate, ``coordinate`` centres every coordinate and scales it to unit variance (constant ones to 0)."""
    if how == "global":
        scale = np.sqrt(np.mean(X * X))
        return X / scale, Xte / scale
    if how == "coordinate":
        mu, sd = X.mean(0), X.std(0)
        sd = np.where(sd > 0, sd, 1.0)
        return (X - mu) / sd, (Xte - mu) / sd
    return X, Xte


def _student(t: dict, D: int, seeds: list[int]):
    if t["student"] == "linear":
        # zero init and no bias: gradient descent keeps w in the span of the data (theory.subspace)
        return models.make_ensemble("linear", len(seeds), D, bias=False, seeds=seeds, init_scale=0.0)
    return models.make_ensemble("mlp", len(seeds), D, hidden=widths(t), activation="relu", seeds=seeds,
                                train_readout=True)


def curvature_lr(X: np.ndarray) -> float:
    """1 / lambda_max of X^T X / (P D): the step at which gradient descent on the mse loss of w.x/sqrt(D)
    moves the stiffest direction by its full distance (stable up to 2 / lambda_max)."""
    P, D = X.shape
    top = float(np.linalg.eigvalsh(X.T @ X / (P * D))[-1])
    return 1.0 / max(top, 1e-12)


def _schedule(name: str) -> models.Schedule:
    if name == "cosine":
        return models.Schedule("cosine")
    if name == "step":
        return models.Schedule("step", milestones=(0.5, 0.75), unit="fraction", factor=0.1)
    return models.Schedule("constant")


def _config(t0: dict, r0: dict, members: list[tuple[dict, dict]], lrs, epochs: int, **kw) -> models.TrainConfig:
    """The recipe of a run of the given members (``(trial, recipe)`` pairs): per-member coefficients."""
    return models.TrainConfig(
        loss=t0["loss"], lr=lrs, epochs=epochs, batch_size=r0["batch_size"],
        momentum=[r["momentum"] for _, r in members], schedule=_schedule(r0["schedule"]),
        langevin_T=[t["langevin_T"] for t, _ in members], sam_rho=[t["sam_rho"] for t, _ in members],
        weight_decay=[t["weight_decay"] for t, _ in members], **kw)


COEFFICIENTS = ("lr", "momentum", "langevin_T", "sam_rho", "weight_decay")  # per-member coefficients of a run


def _member(cfg: models.TrainConfig, k):
    """The config of member k alone (its scalar coefficients), or of the members k (a list: theirs)."""
    pick = {name: ([v[i] for i in k] if isinstance(k, list) else v[k]) for name in COEFFICIENTS
            if isinstance(v := getattr(cfg, name), (list, tuple))}
    return replace(cfg, **pick)


def _plateau(report) -> np.ndarray:
    """The plateau part of the convergence criterion for every member of a run (no bound on the error)."""
    return converged(report.train_error, 1.0, report.loss_history)


@contextmanager
def one_thread():
    """Torch and the BLAS behind numpy on one thread while a group runs. This study's networks and arrays
    are small (a few hundred inputs and units, batches of 100): a second intra-op thread only adds
    synchronisation, and on a shared 2-core machine a process on torch's default two threads ran 13x
    slower (wall) than on one. (threadpoolctl comes with scikit-learn.)"""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(before)


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Train the group's dense students as one ensemble, then prune each trial by its method."""
    with one_thread():
        return _run_group(group)


def _run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    t0 = group[0][1]
    recipes = [recipe(t) for _, t in group]
    r0 = recipes[0]
    data = []
    for _, t in group:
        s, X, y, Xte, yte = trial_data(t)
        X, Xte = standardized(X, Xte, recipe(t)["standardize"])
        data.append((s, X, y, Xte, yte))
    X, y, Xte, yte = (stack([d[i] for d in data]) for i in range(1, 5))
    D = X.shape[-1]
    lrs = [r["lr"] if r["lr"] is not None else curvature_lr(d[1]) for r, d in zip(recipes, data)]
    members = [(t, r) for (_, t), r in zip(group, recipes)]
    init = _student(t0, D, [d[0]["init"] for d in data])
    cfg = _config(t0, r0, members, lrs, r0["epochs"], history=True)
    order = [d[0]["order"] for d in data]
    pruning = t0["pruning"]
    imp = None
    if pruning == "imp":
        imp = models.iterative_magnitude_pruning(init, X, y, cfg, fraction_per_round=t0["imp_fraction"],
                                                 rounds=len(imp_ladder(t0)), rewind_epoch=t0["rewind_epoch"],
                                                 seeds=order, scope=t0["prune_scope"])
        dense, report, rewind = init.with_params(imp.rounds[0].params), imp.rounds[0].report, imp.rewind_params
    else:
        dense = init.clone()
        checkpoints = (t0["rewind_epoch"],) if pruning == "random" else ()
        report = models.train(dense, X, y, replace(cfg, checkpoints=checkpoints), seeds=order)
        rewind = report.checkpoints.get(t0["rewind_epoch"]) if pruning == "random" else None
    dense_train = metrics(dense, X, y, loss=t0["loss"])
    dense_test = metrics(dense, Xte, yte, loss=t0["loss"])
    failures = dense_failures(report.diverged, report.diverged_step, dense_test["error"], dense_train["error"],
                              report.initial_loss, report.train_loss)
    baselines = {}
    if pruning == "imp" and t0["imp_baselines"]:
        ok = [k for k in range(len(group)) if not failures[k]]
        try:
            baselines = _imp_baselines(t0, group, ok, init, imp, X, y, cfg, data)
        except Exception as e:  # noqa: BLE001 - the baselines of these trials failed together: each says why
            for k in ok:
                failures[k] = f"imp baselines: {type(e).__name__}: {e}"
    outcomes = []
    for k, (name, t) in enumerate(group):
        if failures[k]:
            outcomes.append(TrialOutcome(name, t, "failed", failures[k]))
        else:
            with isolated(outcomes, name, t):
                ctx = dict(k=k, t=t, r={**recipes[k], "lr": lrs[k]}, data=data[k], X=X[k], y=y[k], Xte=Xte[k],
                           yte=yte[k], init=init, dense=dense, report=report, cfg=_member(cfg, k))
                results = _dense_results(ctx, dense_train, dense_test)
                if pruning == "one_shot":
                    rows = _one_shot_rows(ctx, results)
                elif pruning == "imp":
                    rows = _imp_rows(ctx, results, imp, {b: v[k] for b, v in baselines.items()})
                else:
                    rows = _random_rows(ctx, results, rewind)
                _theory(ctx, results, rows)
                outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
        trial_finished()
    return outcomes


def _dense_results(ctx: dict, dense_train: dict, dense_test: dict) -> dict:
    k, t, r, report = ctx["k"], ctx["t"], ctx["r"], ctx["report"]
    conv = converged(report.train_error[k:k + 1], r["max_train_error"], report.loss_history[:, k:k + 1])
    results = {
        "dense_train_error": float(dense_train["error"][k]), "dense_test_error": float(dense_test["error"][k]),
        "dense_train_loss": float(dense_train["loss"][k]), "converged": bool(conv[0]),
        "temperature": temperature({**t, **r}),
        "prunable_layers": ",".join(ctx["dense"].prunable),
        "prunable_weights": int(sum(ctx["dense"].params[n][0].numel() for n in ctx["dense"].prunable)),
        **{c: r[c] for c in RECIPE_COLUMNS if c != "lr"},
    }
    # the recipe's lr shadows the null field; one resolved from the data's curvature is a measurement of
    # its own (every seed's differs), stored beside it so that the seeds stay one condition
    results["lr" if t["lr"] is not None or recipe(t)["lr"] is not None else "lr_from_curvature"] = r["lr"]
    if manifolds.is_dataset(t["manifold"]):
        results["ambient_dim"] = int(ctx["X"].shape[-1])  # the data's own D (the trial field is not used)
    else:
        results["load_per_dim"] = t["n_train"] / t["intrinsic_dim"]
    if t["dimension_method"] not in (None, "none"):
        results["estimated_dim"] = float(manifolds.estimate_dimension(ctx["data"][1], method=t["dimension_method"],
                                                                      **t["dimension_options"]))
    if t["student"] == "mlp":
        results.update(_first_layer(ctx))
    return results


def _branch_rows(ens, masks, X, y, Xte, yte, loss, n_train, sparsities, report=None, suffix="") -> list[dict]:
    """Per branch (one per sparsity): train/test error, dead, diverged, converged (plateau), with ``suffix``."""
    tr, te = metrics(ens, X, y, loss=loss), metrics(ens, Xte, yte, loss=loss)
    dead = models.dead_members(ens, Xte)
    rows = []
    for i, s in enumerate(sparsities):
        row = {f"test_error{suffix}": float(te["error"][i]), f"train_error{suffix}": float(tr["error"][i]),
               f"dead{suffix}": bool(dead[i])}
        if report is not None:
            row[f"diverged{suffix}"] = bool(report.diverged[i])
            row[f"converged{suffix}"] = bool(_plateau(report)[i])
        rows.append(row)
    return rows


def _retrain_lrs(t: dict, lr: float, sparsities, branches, masks, X, y) -> list[float]:
    """Retraining learning rates of a one-shot trial's branches (branch 0 is the dense control, whose
    curvature is the reference)."""
    if t["retrain_lr_scaling"] == "inverse_density":
        return [lr / (1.0 - s) for s in sparsities]
    if t["retrain_lr_scaling"] == "curvature":
        top = np.abs(models.hessian_top_eigenvalue(branches, X, y, loss=t["loss"], masks=masks, n_iter=50, tol=1e-4))
        return [float(lr * top[0] / max(v, top[0] * 1e-6)) for v in top]
    return [lr] * len(sparsities)


def _one_shot_rows(ctx: dict, results: dict) -> list[dict]:
    """Prune trial k's dense student to every level of the ladder, measure, retrain, and measure."""
    k, t, r = ctx["k"], ctx["t"], ctx["r"]
    X, y, Xte, yte = ctx["X"], ctx["y"], ctx["Xte"], ctx["yte"]
    levels = [0.0] + list(t["sparsities"])
    branches = ctx["dense"].take([k] * len(levels))
    masks = models.magnitude_masks(branches, levels, scope=t["prune_scope"])
    models.apply_masks(branches, masks)
    one = _branch_rows(branches, masks, X, y, Xte, yte, t["loss"], t["n_train"], levels, suffix="_one_shot")
    if t["student"] == "mlp" and "span_rank" in results:
        overlaps = _first_layer_overlaps(ctx, results, branches.params["w0"], masks["w0"])
    lrs = _retrain_lrs(t, r["lr"], levels, branches, masks, X, y)
    cfg = replace(ctx["cfg"], lr=lrs, epochs=r["retrain_epochs"], history=True)
    retrain = models.train(branches, X, y, cfg, masks=masks, seeds=[ctx["data"][0]["retrain"] + i for i in range(len(levels))])
    re = _branch_rows(branches, masks, X, y, Xte, yte, t["loss"], t["n_train"], levels, report=retrain)
    n_params = models.count_params(branches, masks)
    results["control_test_error"] = re[0]["test_error"]
    results["control_train_error"] = re[0]["train_error"]
    results["control_converged"] = bool(converged(retrain.train_error[:1], r["max_train_error"],
                                                  retrain.loss_history[:, :1])[0])
    rows = []
    for i, s in enumerate(levels):
        row = {"sparsity": s, "density": 1.0 - s, "n_params": int(n_params[i]),
               "load": t["n_train"] / max(int(n_params[i]), 1), **re[i], **one[i]}
        if t["student"] == "mlp" and "span_rank" in results:
            row.update(overlaps[i])
        rows.append(row)
    return rows


def _rounds_rows(ctx: dict, sparsities, params_of, reports, masks_of, suffix: str) -> list[dict]:
    """Rows (one per pruned round) of a batched set of rounds of trial k: params_of(i), masks_of(i)."""
    ens = ctx["init"].take([0] * len(sparsities))
    for name in ens.params:
        ens.params[name] = torch.cat([params_of(i)[name] for i in range(len(sparsities))], 0)
    masks = {n: torch.cat([masks_of(i)[n] for i in range(len(sparsities))], 0) for n in ens.prunable}
    out = _branch_rows(ens, masks, ctx["X"], ctx["y"], ctx["Xte"], ctx["yte"], ctx["t"]["loss"],
                       ctx["t"]["n_train"], sparsities, suffix=suffix)
    for i, row in enumerate(out):
        row[f"diverged{suffix}"] = bool(reports[i].diverged[0])
        row[f"converged{suffix}"] = bool(_plateau(reports[i])[0])
        row[f"sparsity_reached{suffix}"] = float(models.mask_sparsity(ens.take([i]), {n: m[i:i + 1] for n, m in
                                                                                      masks.items()})[0])
    return out


def _dense_row(results: dict, t: dict, n_params: int, suffixes) -> dict:
    """The sparsity-0 row of a rewinding method: the dense model itself (it is every curve's reference)."""
    row = {"sparsity": 0.0, "density": 1.0, "n_params": n_params, "load": t["n_train"] / n_params}
    for sfx in suffixes:
        row.update({f"test_error{sfx}": results["dense_test_error"], f"train_error{sfx}": results["dense_train_error"],
                    f"dead{sfx}": False, f"diverged{sfx}": False, f"converged{sfx}": results["converged"],
                    f"sparsity_reached{sfx}": 0.0})
    return row


def _imp_rows(ctx: dict, results: dict, imp, baselines: dict) -> list[dict]:
    """Rows of trial k's IMP run: every round of the ladder, with its baselines' rounds (``baselines``:
    name -> that trial's rounds)."""
    k, t = ctx["k"], ctx["t"]
    results["control_test_error"] = results["dense_test_error"]
    results["control_train_error"] = results["dense_train_error"]
    own = _subset_result(imp, [k])
    sub = ctx["init"].take([k])
    rounds = own.rounds[1:]
    sparsities = [rd.target_sparsity for rd in rounds]
    curves = {"": _rounds_rows(ctx, sparsities, lambda i: rounds[i].params, [rd.report for rd in rounds],
                               lambda i: rounds[i].masks, "")}
    for name, base in baselines.items():
        curves[f"_{name}"] = _rounds_rows(ctx, sparsities, lambda i, b=base: b[i].params, [b.report for b in base],
                                          lambda i, b=base: b[i].masks, f"_{name}")
    n_params = models.count_params(sub)
    rows = [_dense_row(results, t, int(n_params[0]), curves)]
    for i, s in enumerate(sparsities):
        kept = int(models.count_params(sub, rounds[i].masks)[0])
        row = {"sparsity": s, "density": 1.0 - s, "n_params": kept, "load": t["n_train"] / max(kept, 1)}
        for curve in curves.values():
            row.update(curve[i])
        rows.append(row)
    return rows


BASELINE_BYTES = 256 * 2 ** 20  # inputs a batched baseline run may copy (members x rounds x P x D floats)


def _imp_baselines(t0: dict, group, ok: list[int], init, imp, X, y, cfg, data) -> dict:
    """The baselines of the trials ``ok`` of a group, every round of every trial in one batched run (in
    chunks of trials whose copied inputs stay under BASELINE_BYTES): name -> {trial index: its rounds, each
    an IMPRound of one member}."""
    R = len(imp.rounds) - 1
    P, D = X.shape[-2], X.shape[-1]
    per_chunk = max(1, int(BASELINE_BYTES // (4 * R * P * D)))
    fresh = {k: derive_seeds(group[k][1]["seed"], "reinit", "mask") for k in ok}
    order = [d[0]["order"] for d in data]
    out = {name: {} for name in t0["imp_baselines"]}
    for start in range(0, len(ok), per_chunk):
        chunk = ok[start:start + per_chunk]
        result = _subset_result(imp, chunk)
        ens = init.take(chunk)
        picked = _member(cfg, chunk)
        # the batched run's member r * len(chunk) + j is round r of trial chunk[j]
        lists = {n: [v[j] for _ in range(R) for j in range(len(chunk))] for n in COEFFICIENTS
                 if isinstance(v := getattr(picked, n), (list, tuple))}
        cfg_b = replace(picked, **lists)
        for name in t0["imp_baselines"]:
            if name == "reinit":
                rounds = models.reinitialised_baseline(ens, result, X[chunk], y[chunk], cfg_b,
                                                       init_seeds=[fresh[k]["reinit"] for k in chunk],
                                                       seeds=[order[k] for k in chunk])
            else:
                rounds = models.random_pruning_baseline(ens, result, X[chunk], y[chunk], cfg_b,
                                                        mask_seeds=[fresh[k]["mask"] for k in chunk],
                                                        seeds=[order[k] for k in chunk])
            for j, k in enumerate(chunk):
                out[name][k] = [_one_member(rd, j) for rd in rounds]
    return out


def _one_member(rd, j: int):
    one = lambda tensors: {n: v[j:j + 1] for n, v in tensors.items()}  # noqa: E731
    return models.IMPRound(rd.target_sparsity, rd.sparsity[[j]], one(rd.masks), one(rd.params), rd.report.select([j]))


def _subset_result(imp, members: list[int]):
    """The IMP run of the given members alone (their masks, params and reports)."""
    idx = torch.as_tensor(members)
    pick = lambda tensors: {n: v[idx] for n, v in tensors.items()}  # noqa: E731
    rounds = [models.IMPRound(rd.target_sparsity, rd.sparsity[members], pick(rd.masks), pick(rd.params),
                              rd.report.select(members)) for rd in imp.rounds]
    return models.IMPResult(rounds, imp.rewind_epoch, pick(imp.rewind_params))


def _random_rows(ctx: dict, results: dict, rewind: dict) -> list[dict]:
    k, t = ctx["k"], ctx["t"]
    results["control_test_error"] = results["dense_test_error"]
    results["control_train_error"] = results["dense_train_error"]
    sparsities = imp_ladder(t)
    L = len(sparsities)
    branches = ctx["init"].with_params(rewind).take([k] * L)
    seed = derive_seeds(t["seed"], "reinit", "mask")["mask"]
    masks = models.random_masks(branches, sparsities, seeds=[seed] * L, scope=t["prune_scope"])
    cfg = ctx["cfg"]
    cfg = replace(cfg, checkpoints=tuple(e for e in cfg.checkpoints if e >= t["rewind_epoch"]))
    report = models.train(branches, ctx["X"], ctx["y"], cfg, masks=masks, seeds=[ctx["data"][0]["order"]] * L,
                          start_epoch=t["rewind_epoch"])
    curve = _branch_rows(branches, masks, ctx["X"], ctx["y"], ctx["Xte"], ctx["yte"], t["loss"], t["n_train"],
                         sparsities, report=report)
    reached = models.mask_sparsity(branches, masks)
    kept = models.count_params(branches, masks)
    rows = [_dense_row(results, t, int(models.count_params(ctx["init"].take([k]))[0]), [""])]
    for i, s in enumerate(sparsities):
        rows.append({"sparsity": s, "density": 1.0 - s, "n_params": int(kept[i]), "load": t["n_train"] / max(int(kept[i]), 1),
                     **curve[i], "sparsity_reached": float(reached[i])})
    return rows


# ------------------------------------------------------------------------------------------- theory
def _linear_domain(t: dict, r: dict) -> str | None:
    """Why theory.subspace does not apply to a trial (None: it applies)."""
    reasons = []
    if t["student"] != "linear":
        reasons.append("not a linear student")
    if t["manifold"] != "linear":
        reasons.append(f"manifold {t['manifold']!r} is not a linear subspace")
    if t["noise"] > 0:
        reasons.append("off-manifold noise")
    if t["teacher"] != "perceptron" or t["teacher_options"] or t["label_noise"] > 0:
        reasons.append("not a noiseless perceptron teacher")
    if r["standardize"] == "coordinate":
        reasons.append("coordinate standardisation changes the embedding")
    if t["weight_decay"] > 0 or t["langevin_T"] > 0 or t["sam_rho"] > 0:
        reasons.append("weight decay, Langevin noise or SAM")
    if t["loss"] not in subspace_theory.LOSSES:
        reasons.append(f"no prediction for the {t['loss']} loss")
    return "; ".join(reasons) or None


def _theory(ctx: dict, results: dict, rows: list[dict]) -> None:
    t, r = ctx["t"], ctx["r"]
    why_not = _linear_domain(t, r)
    if why_not is not None:
        results["theory_reason"] = f"no linear-subspace theory: {why_not}"
        return
    d, D, n, loss = t["intrinsic_dim"], t["ambient_dim"], t["n_train"], t["loss"]
    results["theory_dense_test_error"] = float(subspace_theory.dense_error(n, d, loss))
    ok = loss == "mse" and results["converged"]
    reason = subspace_theory.DOMAIN[loss]
    if loss == "mse" and not results["converged"]:
        reason += "; out of domain: the dense model did not converge"
    results["theory_reason"] = reason
    for row in rows:
        keep = 1.0 - row["sparsity"]
        k = int(row["n_params"])
        if t["pruning"] == "one_shot":
            row["theory_test_error_one_shot"] = float(subspace_theory.one_shot_error(n, d, D, keep, loss))
            row["in_domain_one_shot"] = bool(ok)
        random_support = t["pruning"] == "random"
        if loss == "mse":
            row["theory_test_error"] = float(subspace_theory.retrained_error(
                n, d, D, keep, support="random" if random_support else "magnitude"))
        # k >= d: exact for any support; k < d: exact in law for a random support, an upper bound for the
        # dense student's magnitude support (theory.subspace), and IMP's nested masks are neither: left out
        row["in_domain"] = bool(ok and row.get("converged", True) and (k >= d or random_support))


def _span_basis(X: np.ndarray) -> np.ndarray | None:
    """An orthonormal basis (D x r) of the span of the training inputs, or None when they span R^D."""
    _, sv, vt = np.linalg.svd(X, full_matrices=False)
    rank = int((sv > sv[0] * 1e-6).sum())
    return vt[:rank].T if rank < X.shape[1] else None


def _first_layer(ctx: dict) -> dict:
    """The first layer's share off the data span, and the drift of that share from its initial value."""
    k, t = ctx["k"], ctx["t"]
    U = _span_basis(ctx["data"][1])
    if U is None:
        return {}
    W0 = ctx["init"].params["w0"][k].double().numpy()
    W = ctx["dense"].params["w0"][k].double().numpy()
    on0, on = W0 @ U, W @ U
    off0, off = W0 - on0 @ U.T, W - on @ U.T
    out = {"span_rank": int(U.shape[1]),
           "off_span_fraction_init": float((off0 ** 2).sum() / (W0 ** 2).sum()),
           "off_span_fraction": float((off ** 2).sum() / (W ** 2).sum()),
           "on_span_growth": float((on ** 2).sum() / max((on0 ** 2).sum(), 1e-300)),
           "frozen_drift": float(np.linalg.norm(off - off0) / max(np.linalg.norm(off0), 1e-300))}
    if t["manifold"] == "linear" and t["noise"] == 0:
        out["theory_off_span_fraction_init"] = float(frozen_weights.off_span_fraction(U.shape[1], W.shape[1]))
        out["theory_off_span_fraction"] = float(frozen_weights.off_span_fraction(U.shape[1], W.shape[1],
                                                                                 out["on_span_growth"]))
    return out


def _first_layer_overlaps(ctx: dict, results: dict, W_pruned, M) -> list[dict]:
    """Per branch: the mean over first-layer units of cos(U^T w', U^T w) (pruned vs dense), and its
    prediction from each unit's kept fraction and on-span fraction (theory.frozen_weights), on a linear
    manifold where the span is a random subspace."""
    k, t = ctx["k"], ctx["t"]
    U = _span_basis(ctx["data"][1])
    W = ctx["dense"].params["w0"][k].double().numpy()
    v = W @ U
    rho = np.clip((v ** 2).sum(1) / (W ** 2).sum(1), 1e-12, 1.0)
    predict = t["manifold"] == "linear" and t["noise"] == 0
    out = []
    for i in range(W_pruned.shape[0]):
        vp = W_pruned[i].double().numpy() @ U
        norm = np.linalg.norm(vp, axis=1) * np.linalg.norm(v, axis=1)
        cos = np.where(norm > 0, (vp * v).sum(1) / np.where(norm > 0, norm, 1.0), 0.0)
        row = {"first_layer_overlap": float(cos.mean())}
        if predict:
            kappa = M[i].double().numpy().mean(1)
            pred = np.where(kappa > 0, frozen_weights.span_overlap(np.clip(kappa, 1e-12, 1.0), U.shape[1],
                                                                    W.shape[1], rho), 0.0)
            row["theory_first_layer_overlap"] = float(pred.mean())
        out.append(row)
    return out
