"""How a group of ``hidden_manifold_learning`` trials runs: dense ridge or logistic students fitted at
once, then pruned to every level of the ladder and refitted with the mask fixed.

Data (``manifolds.make_manifold("hidden", d, D, activation=f)``): x = f(F z / sqrt(d)), z ~ N(0, I_d).
Teacher on the latent coordinates: theta.z with theta a uniformly random unit vector (a
``PerceptronTeacher`` on z). Conventions, the ones of :func:`theory.hidden_manifold.hidden_manifold_ridge_mse`:

- The student sees the centred features x_c = x - kappa0 (kappa0 = E f(g), g ~ N(0, 1), the
  population mean of every coordinate) and predicts f(x) = beta.x_c, no bias. In the ensemble it is a
  linear student with w = sqrt(D) beta (``models``' 1/sqrt(D) convention); every coordinate of w is
  prunable, n_params = D.
- ``loss = "ridge"``: regression labels y = theta.z (teacher "linear") or sign(theta.z) (teacher
  "sign"), plus Gaussian noise of variance ``noise_var``; beta = argmin 1/2 sum_mu (y_mu - beta.x_mu)^2
  + reg/2 |beta|^2 (the sum, not the mean, over the P = n_train examples), solved in closed form
  (batched ``numpy.linalg.solve`` in float64; the minimum-norm interpolator, pinv, at reg = 0).
  test_error is the test MSE E (y - beta.x_c)^2 without a 1/2, against *noisy* test labels: the
  clean part is averaged over n_test fresh points and the label-noise part, noise_var, is added
  exactly (E over the test noise). This is the quantity the theory predicts.
- ``loss = "logistic"``: labels sign(theta.z + sqrt(noise_var) xi) for training (teacher must be
  "sign"), clean sign(theta.z) for testing; the student minimises the summed logistic loss
  sum_mu log(1 + exp(-y_mu beta.x_mu)) + reg/2 |beta|^2. ``solver = "newton"``: its exact minimiser
  (:func:`models.logistic_fit`, float64); ``"gd"``: gradient descent on the mean logistic loss from w = 0
  with weight decay reg / (P D) on w (the same objective divided by P), lr and epochs, float32. test_error
  is the classification error. Every logistic row records ``converged`` (:func:`studies.trials.health.converged`
  of its training: the loss changed by at most 1% over the last tenth of the iterations, and for newton a
  Newton decrement <= 1e-12; the training error is not held against it, the regularised minimiser need not
  separate the training set). Gradient descent is not converged at the presets' reg: on separable data its
  loss decays like 1/t.
  Theory (sparsity 0, noiseless labels): :func:`theory.logistic.hidden_manifold_test_error`, whose loss is
  sum log(1 + exp(-y w.x/sqrt(D))) + lam/2 |w|^2 in the ensemble's w = sqrt(D) beta, so lam = reg / D.
  theory_test_error_exact_spectrum is NaN for these rows (a second saddle point per trial, about a second).

Pruning: one-shot global magnitude pruning of beta to every level of ``sparsities``; test_error of a
pruned row is after retraining with the mask fixed (ridge: the ridge solution restricted to the kept
coordinates, exact; logistic: ``retrain_epochs`` of gradient descent, and the sparsity-0 branch is a
dense control that gets the same extra training), test_error_one_shot before. theory_test_error is the
asymptotic deterministic equivalent (Marchenko-Pastur spectrum of F F^T / d) at sparsity 0 of ridge
rows, NaN elsewhere (no closed form in theory/pruning.py applies to pruned ridge estimators);
theory_test_error_exact_spectrum uses the spectrum of this trial's F (a finite-size prediction).
gaussian_equivalent_test_error, on every row, is the error that the Gaussian covariate model gives
to *this* student's weights (:func:`theory.hidden_manifold.gaussian_covariate_error`): a check of
Gaussian equivalence for the learned and the pruned students alike.

Temperature: the ridge estimator is the zero-temperature ground state of the Gibbs measure with energy
the penalised summed squared loss, so ridge rows record temperature_knob = "langevin_T",
temperature = 0; logistic rows record temperature_knob = "lr", temperature = lr.
load = n_train / n_params (n_train / D at sparsity 0), load_per_dim = n_train / d.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

import manifolds
import models
from theory import hidden_manifold as hm_theory
from theory import logistic as logistic_theory_module

from ...sweep.study import TrialOutcome, derive_seeds
from ...trials.health import converged as health_converged

STREAMS = ("manifold", "teacher", "train", "test", "noise", "order", "retrain")

GROUP_FIELDS = ("loss", "solver", "ambient_dim", "n_train", "n_test", "epochs", "retrain", "retrain_epochs")
NEWTON_TOL = 1e-12  # Newton decrement at which the logistic solve stops


def group_key(t: dict) -> tuple:
    return tuple((k, t[k]) for k in GROUP_FIELDS) + (("sparsities", tuple(t["sparsities"])),)


@functools.lru_cache(maxsize=None)
def kappas(activation: str) -> tuple[float, float, float]:
    """(kappa0, kappa1, kappa_star) of the activation (theory.hidden_manifold.gaussian_equivalence)."""
    return hm_theory.gaussian_equivalence(activation)


def trial_data(t: dict) -> dict:
    """Generator, teacher direction, centred train/test features and labels of one trial."""
    s = derive_seeds(t["seed"], *STREAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sign data are discrete; documented in manifolds.hidden
        gen = manifolds.make_manifold("hidden", t["intrinsic_dim"], t["ambient_dim"], seed=s["manifold"],
                                      activation=t["activation"])
    teacher = manifolds.make_teacher("perceptron", t["intrinsic_dim"], seed=s["teacher"], task="regression")
    X, Z = gen.sample(t["n_train"], seed=s["train"])
    Xte, Zte = gen.sample(t["n_test"], seed=s["test"])
    k0 = kappas(t["activation"])[0]
    g, gte = teacher(Z), teacher(Zte)  # theta.z, theta = u / sqrt(d) a unit vector
    noise = np.sqrt(t["noise_var"]) * np.random.default_rng(s["noise"]).standard_normal(len(g))
    if t["loss"] == "ridge":
        phi = (lambda v: v) if t["teacher"] == "linear" else (lambda v: np.where(v >= 0, 1.0, -1.0))
        y, yte = phi(g) + noise, phi(gte)
    else:
        y, yte = np.where(g + noise >= 0, 1.0, -1.0), np.where(gte >= 0, 1.0, -1.0)
    theta = teacher.weights / np.sqrt(t["intrinsic_dim"])
    return {"seeds": s, "X": X - k0, "y": y, "Xte": Xte - k0, "yte": yte, "F": gen.feature_matrix, "theta": theta}


def gaussian_equivalent_error(t: dict, F: np.ndarray, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Test error the Gaussian covariate model gives to students beta (rows): test MSE against noisy
    labels (ridge) or classification error against sign(theta.z) (logistic)."""
    return hm_theory.gaussian_covariate_error(beta, F, theta, t["activation"], t["teacher"], t["noise_var"],
                                              task="regression" if t["loss"] == "ridge" else "classification")


def ridge_theory(t: dict, F: np.ndarray | None = None) -> float:
    try:
        return float(hm_theory.hidden_manifold_ridge_mse(
            t["n_train"], t["intrinsic_dim"], t["ambient_dim"], activation=t["activation"], reg=t["reg"],
            teacher=t["teacher"], noise_var=t["noise_var"], feature_matrix=F))
    except (ValueError, ArithmeticError):  # outside the deterministic equivalent's domain (e.g. ridgeless, P = D)
        return float("nan")


@functools.lru_cache(maxsize=None)
def _logistic_theory_cached(n_train: int, d: int, D: int, activation: str, reg: float) -> float:
    try:
        return float(logistic_theory_module.hidden_manifold_test_error(n_train, d, D, activation=activation, reg=reg / D))
    except (ValueError, ArithmeticError):  # an unsolved saddle point (SaddlePointError is an ArithmeticError)
        return float("nan")


def logistic_theory(t: dict) -> float:
    """theory.logistic.hidden_manifold_test_error of a logistic trial (lam = reg / D); NaN with label noise."""
    if t["noise_var"] > 0 or not t["reg"] > 0:
        return float("nan")
    return _logistic_theory_cached(t["n_train"], t["intrinsic_dim"], t["ambient_dim"], t["activation"], float(t["reg"]))


def _linear_student(betas: np.ndarray | torch.Tensor, seeds: list[int], dtype=torch.float64) -> "models.Ensemble":
    betas = torch.as_tensor(betas, dtype=dtype)
    K, D = betas.shape
    ens = models.make_ensemble("linear", K, D, bias=False, seeds=seeds, init_scale=0.0, dtype=dtype)
    with torch.no_grad():
        ens.params["w"].copy_(betas * np.sqrt(D))
    return ens


def _betas(ens) -> np.ndarray:
    return ens.params["w"].detach().double().cpu().numpy() / np.sqrt(ens.input_dim)


def _errors(ens, X, y, t: dict) -> np.ndarray:
    """Test error per member: MSE (+ noise_var, the test-label noise averaged exactly) or classification error."""
    if t["loss"] == "ridge":
        return models.evaluate(ens, X, y, loss="mse")["error"] + t["noise_var"]
    return models.evaluate(ens, X, y, loss="logistic")["error"]


def _train_errors(ens, X, y, t: dict) -> np.ndarray:
    return models.evaluate(ens, X, y, loss="mse" if t["loss"] == "ridge" else "logistic")["error"]


def _converged(ens, X, y, loss_history) -> np.ndarray:
    """trials.health.converged of logistic members: the loss plateau only (max_train_error 1: the regularised
    minimiser need not separate the training set)."""
    train = models.evaluate(ens, X, y, loss="logistic")["error"]
    return health_converged(train, 1.0, loss_history)


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Fit the group's dense students at once (one batched solve, or one trained ensemble), then prune
    each trial's student to every level of the ladder and refit it with the mask fixed."""
    torch.set_flush_denormal(True)
    t0 = group[0][1]
    data = [trial_data(t) for _, t in group]
    P, D = t0["n_train"], t0["ambient_dim"]
    ridge = t0["loss"] == "ridge"
    newton = not ridge and t0["solver"] == "newton"
    dtype = torch.float64 if ridge or newton else torch.float32
    X = torch.tensor(np.stack([d["X"] for d in data]), dtype=dtype)
    y = torch.tensor(np.stack([d["y"] for d in data]), dtype=dtype)
    seeds = [d["seeds"]["order"] for d in data]
    diverged = np.zeros(len(group), dtype=bool)
    dense_converged = np.ones(len(group), dtype=bool)
    if ridge:
        reg = torch.tensor([t["reg"] for _, t in group], dtype=dtype)
        dense = _linear_student(models.ridge_fit(X, y, reg), seeds)
    elif newton:
        fit = models.logistic_fit(X, y, [t["reg"] for _, t in group], tol=NEWTON_TOL)
        dense = _linear_student(fit.weights, seeds)
        dense_converged = _converged(dense, X, y, fit.loss_history) & fit.converged
    else:
        dense = models.make_ensemble("linear", len(group), D, bias=False, seeds=seeds, init_scale=0.0, dtype=dtype)
        cfg = models.TrainConfig(loss="logistic", lr=[t["lr"] for _, t in group], epochs=t0["epochs"],
                                 weight_decay=[t["reg"] / (P * D) for _, t in group], history=True)
        report = models.train(dense, X, y, cfg, seeds=seeds)
        diverged = np.asarray(report.diverged, dtype=bool)
        dense_history = np.asarray(report.loss_history)
        dense_converged = _converged(dense, X, y, dense_history)

    ladder = [0.0] + list(t0["sparsities"])
    L = len(ladder)
    outcomes = []
    for k, (name, t) in enumerate(group):
        if diverged[k]:
            outcomes.append(TrialOutcome(name, t, "failed", "dense training diverged"))
            continue
        dk = data[k]
        Xte = torch.tensor(dk["Xte"], dtype=dtype)
        yte = torch.tensor(dk["yte"], dtype=dtype)
        one = dense.take([k])
        dense_test = float(_errors(one, Xte, yte, t)[0])
        dense_train = float(_train_errors(one, X[k], y[k], t)[0])
        results = {"manifold": "hidden", "dense_test_error": dense_test, "dense_train_error": dense_train,
                   "dense_converged": bool(dense_converged[k]),
                   "temperature_knob": "langevin_T" if ridge else "lr", "temperature": 0.0 if ridge else t["lr"],
                   "load_per_dim": t["n_train"] / t["intrinsic_dim"]}
        branches = dense.take([k] * L)
        masks = models.magnitude_masks(branches, ladder, scope="global")
        models.apply_masks(branches, masks)
        one_test = _errors(branches, Xte, yte, t)
        one_train = _train_errors(branches, X[k], y[k], t)
        re_diverged = np.zeros(L, dtype=bool)
        re_converged = np.full(L, bool(dense_converged[k]))
        if t["retrain"]:
            if ridge:
                regs = torch.full((L,), t["reg"], dtype=dtype)
                betas = models.ridge_fit(X[k], y[k], regs, masks["w"])
                branches = _linear_student(betas, [dk["seeds"]["retrain"] + i for i in range(L)])
            elif newton:
                refit = models.logistic_fit(X[k], y[k], [t["reg"]] * L, masks["w"], tol=NEWTON_TOL)
                branches = _linear_student(refit.weights, [dk["seeds"]["retrain"] + i for i in range(L)])
                re_converged = _converged(branches, X[k], y[k], refit.loss_history) & refit.converged
            else:
                cfg = models.TrainConfig(loss="logistic", lr=t["lr"], epochs=t["retrain_epochs"],
                                         weight_decay=t["reg"] / (P * D), history=True)
                rep = models.train(branches, X[k], y[k], cfg, masks=masks,
                                   seeds=[dk["seeds"]["retrain"] + i for i in range(L)])
                re_diverged = np.asarray(rep.diverged, dtype=bool)
                # the training of a branch is the dense run and its retraining: the plateau is judged over
                # the last tenth of both together
                history = np.concatenate([np.repeat(dense_history[:, k:k + 1], L, 1),
                                          np.asarray(rep.loss_history)[1:]])
                re_converged = _converged(branches, X[k], y[k], history)
            re_test, re_train = _errors(branches, Xte, yte, t), _train_errors(branches, X[k], y[k], t)
        else:
            re_test, re_train = one_test, one_train
        results["control_test_error"] = float(re_test[0])
        ge = gaussian_equivalent_error(t, dk["F"], dk["theta"], _betas(branches))
        ge_one = gaussian_equivalent_error(t, dk["F"], dk["theta"], _betas(dense.take([k] * L)) *
                                           masks["w"].double().numpy())
        dead = models.dead_members(branches, Xte)
        n_params = models.count_params(branches, masks)
        theory = ridge_theory(t) if ridge else logistic_theory(t)
        theory_exact = ridge_theory(t, dk["F"]) if ridge else float("nan")
        rows = []
        for i, s in enumerate(ladder):
            rows.append({
                "sparsity": s, "density": 1.0 - s, "n_params": int(n_params[i]),
                "load": t["n_train"] / max(int(n_params[i]), 1),
                "test_error": float(re_test[i]), "train_error": float(re_train[i]),
                "test_error_one_shot": float(one_test[i]), "train_error_one_shot": float(one_train[i]),
                "theory_test_error": theory if s == 0 else float("nan"),
                "theory_test_error_exact_spectrum": theory_exact if s == 0 else float("nan"),
                "gaussian_equivalent_test_error": float(ge[i]),
                "gaussian_equivalent_test_error_one_shot": float(ge_one[i]),
                "dead": bool(dead[i]) and s > 0, "diverged": bool(re_diverged[i]),
                "converged": bool(re_converged[i]),
            })
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes

